// SPDX-License-Identifier: GPL-2.0-only
// Assembled fixtures, each given to orctool and to Debian's objtool (6.12 with the 14-byte
// .altinstructions layout, 6.1 with the 12-byte one): the same warnings and the same ORC.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCheckCommand } from '../cli/check-command.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { type ObjtoolVersion, objtoolPath, runObjtool } from '../testing/corpus.js';

interface Fixture {
  source: string;
  /** Expected warning messages (after the location), to make sure the case is exercised. */
  expect: RegExp[];
}

const FIXTURES: Fixture[] = [
  { source: 'seed.S', expect: [] },
  { source: 'conflict.S', expect: [/stack layout conflict in alternatives/] },
  { source: 'jump-to-end.S', expect: [] },
];

const VARIANTS: { name: string; flags: string[]; objtool: ObjtoolVersion }[] = [
  { name: '6.12 (14-byte alternatives)', flags: [], objtool: '6.12' },
  { name: '6.1 (12-byte alternatives)', flags: ['-DALT12'], objtool: '6.1' },
];

const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

function warnings(text: string, path: string): string[] {
  return text.split('\n').filter((l) => l.includes('warning: objtool:')).map((l) => l.split(path).join('FILE'));
}

describe('fixtures: orctool and objtool agree', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  for (const v of VARIANTS) {
    const skip = !objtoolPath(v.objtool) && !required ? `objtool ${v.objtool} not fetched (scripts/corpus.sh)` : false;
    for (const fx of FIXTURES) {
      test(`${fx.source}, ${v.name}`, { skip }, () => {
        const obj = compileFixture(srcPath('analysis', 'fixtures', fx.source), dir, v.flags);
        const ours = join(dir, `ours-${fx.source}-${v.objtool}.o`);
        const theirs = join(dir, `theirs-${fx.source}-${v.objtool}.o`);
        copyFileSync(obj, ours);
        copyFileSync(obj, theirs);
        let err = '';
        runCheckCommand(['--orc', ours], { stdout: () => {}, stderr: (s) => (err += s) });
        const ref = runObjtool(v.objtool, ['--orc', theirs]);
        const w1 = warnings(err, ours);
        assert.deepEqual(w1, warnings(ref.stderr, theirs));
        for (const re of fx.expect) assert.ok(w1.some((l) => re.test(l)), `expected ${re} in ${w1.join('\n')}`);
        if (fx.expect.length === 0) assert.deepEqual(w1, []);
        assert.equal(runObjtool(v.objtool, ['--dump=orc', ours]).stdout, runObjtool(v.objtool, ['--dump=orc', theirs]).stdout);
      });
    }
  }
});
