// SPDX-License-Identifier: GPL-2.0-only
// `orctool explain` on the seed's example and its conflicting twin; the HTML page rendered by
// headless Chromium (when installed: scripts/setup.sh installs it).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runExplainCommand } from '../cli/explain-command.js';
import { compileFixture, makeTempDir, removeDir, runTool, srcPath } from '../testing/toolchain.js';

function explain(args: string[]): string {
  let s = '';
  runExplainCommand(args, { stdout: (t) => (s += t) });
  return s;
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('orctool explain', () => {
  let dir = '';
  let seed = '';
  let conflict = '';
  before(() => {
    dir = makeTempDir();
    seed = compileFixture(srcPath('analysis', 'fixtures', 'seed.S'), dir);
    conflict = compileFixture(srcPath('analysis', 'fixtures', 'conflict.S'), dir);
  });
  after(() => removeDir(dir));

  test('seed: three streams with their features, the CFA at each offset, no conflict', () => {
    const t = explain([seed, 'save_fl']).split('\n');
    assert.match(t[1]!, /original\s+\| ALWAYS \(direct call\)\s+\| !XENPV\s+\| ORC \(merged\)/);
    const row = (o: string) => t.find((l) => l.startsWith(`+${o} `))!;
    assert.match(row('0'), /pushf\s+\[sp:sp\+8\]/);
    assert.match(row('1'), /pop %rax\s+\[sp:sp\+16\]\s+\| sp:sp\+16$/);
    assert.match(row('2'), /sp:sp\+8$/);
    assert.ok(t.some((l) => l.startsWith('no conflict')));
  });

  test('conflicting twin: the conflicting offset is marked', () => {
    const t = explain([conflict, 'save_fl_conflict+0x1']).split('\n');
    assert.ok(t.find((l) => l.startsWith('+1 !!')), t.join('\n'));
    assert.ok(t.some((l) => /stack layout conflict at offset \+1/.test(l)));
  });

  test('HTML page renders the table in headless Chromium', { skip: CHROMIUM ? false : 'chromium not installed' }, () => {
    const page = join(dir, 'seed.html');
    writeFileSync(page, explain([seed, 'save_fl', '--html']));
    const png = join(dir, 'seed.png');
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`];
    const shot = runTool(CHROMIUM!, [...flags, `--screenshot=${png}`, '--window-size=1000,500', `file://${page}`]);
    assert.ok(existsSync(png), shot.stderr);
    assert.deepEqual([...readFileSync(png).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    // The rendered DOM has the table: one header row and a row per offset.
    const dom = runTool(CHROMIUM!, [...flags, '--dump-dom', `file://${page}`]).stdout;
    assert.match(dom, /<table id="site">/);
    assert.equal((dom.match(/<tr/g) ?? []).length, 1 + 4);
    assert.match(dom, /!XENPV/);
  });
});
