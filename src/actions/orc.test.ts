// SPDX-License-Identifier: GPL-2.0-only
// A big object's ORC table is made on a second thread from numbers alone (orcTableJob(),
// orc/table-job.ts): it must be the table made here from the analysis, point for point, on
// code with alternative sites (their per-byte states) and functions of every frame shape.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../elf/reader.js';
import { check } from '../analysis/check.js';
import { defaultOptions } from '../analysis/options.js';
import { layoutByName } from '../kernel/versions.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { tableFromJob } from '../orc/table-job.js';
import type { OrcTable } from '../orc/generate.js';
import { makeOrcTable, orcTableJob, startOrcTable } from './orc.js';

const FIXTURES: { source: string; cflags?: string[] }[] = [
  { source: 'seed.S' },
  { source: 'alt2-nested.S' },
  { source: 'alt2-same.S' },
  { source: 'alt-reloc.S', cflags: ['-DRELOC_OK'] },
  { source: 'alt-empty.S' },
  { source: 'frames.S' },
  { source: 'hints.S' },
  { source: 'switch.c', cflags: ['-fcf-protection=none'] },
];

function plain(t: OrcTable | undefined): unknown {
  assert.ok(t);
  return { count: t.count, entries: [...t.entries], sections: [...t.sections], offsets: [...t.offsets] };
}

describe('ORC table of the second thread', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  for (const version of ['6.12', '7.3'] as const) {
    for (const fx of FIXTURES) {
      test(`${fx.source}, ${version}: the job's table is the table made here, also on the worker`, () => {
        const obj = compileFixture(srcPath('analysis', 'fixtures', fx.source), dir, fx.cflags ?? []);
        const elf = ElfFile.open(obj);
        const opts = { ...defaultOptions(), orc: true, stackval: true };
        const { file, fatal } = check(elf, layoutByName(version)!, opts, obj);
        assert.equal(fatal, false);
        const here = makeOrcTable(file);
        assert.ok(here && here.count > 0, 'the fixture has ORC entries');
        const job = orcTableJob(file);
        if (fx.source.startsWith('alt') || fx.source === 'seed.S') assert.ok(job.sections.some((s) => s.sites.length > 0), 'the fixture has alternative sites');
        assert.deepEqual(plain(tableFromJob(job)), plain(here));
        const thread = startOrcTable(file, true);
        assert.ok(thread, 'a worker thread');
        assert.deepEqual(plain(thread.wait()), plain(here));
      });
    }
  }

  test('a state ORC cannot express: no table from the job (the caller makes it and reports it)', () => {
    const job = { layout: layoutByName('6.12')!.orc, capacity: 4, keysById: new Float64Array([NaN]), noStateKey: 0, sections: [
      { index: 1, size: 4, count: 1, offset: new Uint32Array([0]), cfi: new Int32Array([0]), sites: new Int32Array(0), siteKeys: new Float64Array(0) },
    ] };
    assert.equal(tableFromJob(job), undefined);
  });
});
