// SPDX-License-Identifier: GPL-2.0-only
// The mutation sweep in CI (src/testing/sweep.ts): 2,000 damaged objects (corpus modules of
// 6.1, 6.12 and 7.3 and analysis fixtures), each through one command; every one must succeed or
// be refused cleanly. `npm run sweep` runs as many as asked (100,000 for the full run).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../testing/toolchain.js';
import { sweep, type SweepInput } from '../testing/sweep.js';
import { sweepInputs } from '../corpus/sweep.js';

describe('mutation sweep', () => {
  let dir = '';
  let inputs: SweepInput[] = [];
  before(() => {
    dir = makeTempDir();
    inputs = sweepInputs(dir, 4);
  });
  after(() => removeDir(dir));

  it('2,000 damaged objects: each succeeds or is refused with one error line, the file untouched and nothing left', async (t) => {
    const r = await sweep(inputs, 2000, 20261206, join(dir, 'case'));
    t.diagnostic(`${r.cases} cases over ${inputs.length} objects; refused by kind: ${Object.entries(r.byKind).map(([k, v]) => `${k} ${v.refused}/${v.cases}`).join(', ')}; slowest ${r.slowest.ms.toFixed(0)} ms (${r.slowest.what})`);
    assert.ok(r.cases >= 2000 * 0.95, `${r.cases} cases`);
    assert.deepEqual(r.failures.slice(0, 10), []);
    assert.equal(r.ok, r.cases);
  });
});
