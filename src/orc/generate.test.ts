// SPDX-License-Identifier: GPL-2.0-only
// orc_create()'s list building: per-section deduplication against the previous kept entry
// (starting all-zero), terminators, section order, errors.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CFI_CFA, CFI_UNDEFINED, UnwindType } from '../analysis/cfi.js';
import { layoutByName } from '../kernel/versions.js';
import { encodeOrcEntry, ORC_ENTRY_SIZE, ORC_REG_PREV_SP, ORC_REG_SP, type OrcEntry, unpackOrcEntry, zeroOrcEntry } from './entry.js';
import { OrcMappingError } from './from-cfi.js';
import { generateOrc, OrcBuilder, type OrcTable } from './generate.js';
import { makeCfi } from './fixture-cfi.js';

const L612 = layoutByName('6.12')!.orc;
const L61 = layoutByName('6.1')!.orc;
const SP = 4;

const call8 = makeCfi(SP, 8);
const call16 = makeCfi(SP, 16, { bpBase: CFI_CFA, bpOffset: -16 });
const undef = makeCfi(CFI_UNDEFINED, 0, { type: UnwindType.UNDEFINED });

function rows(t: OrcTable, layout = L612): [number, number, OrcEntry][] {
  const out: [number, number, OrcEntry][] = [];
  for (let k = 0; k < t.count; k++) out.push([t.sections[k]!, t.offsets[k]!, unpackOrcEntry(t.entries, k * ORC_ENTRY_SIZE, layout)]);
  return out;
}

const Z = zeroOrcEntry();
const E8: OrcEntry = { ...Z, spOffset: 8, spReg: ORC_REG_SP, type: 2 };
const E16: OrcEntry = { ...Z, spOffset: 16, bpOffset: -16, spReg: ORC_REG_SP, bpReg: ORC_REG_PREV_SP, type: 2 };

describe('ORC table generation', () => {
  test('consecutive identical entries are dropped; a terminator at the section size', () => {
    const t = generateOrc(L612, [{
      index: 3, size: 0x40, points: [
        { offset: 0, cfi: call8 }, { offset: 1, cfi: call16 }, { offset: 5, cfi: call16 }, { offset: 9, cfi: makeCfi(SP, 16, { bpBase: CFI_CFA, bpOffset: -16 }) },
        { offset: 0x10, cfi: call8 }, { offset: 0x11, cfi: null }, { offset: 0x12, cfi: undef }, { offset: 0x20, cfi: call8 },
      ],
    }]);
    assert.deepEqual(rows(t), [[3, 0, E8], [3, 1, E16], [3, 0x10, E8], [3, 0x11, Z], [3, 0x20, E8], [3, 0x40, Z]]);
    assert.equal(t.entries.length, 6 * ORC_ENTRY_SIZE);
  });

  test('the previous entry starts all-zero: leading all-zero entries are dropped', () => {
    const t = generateOrc(L612, [{ index: 1, size: 10, points: [{ offset: 0, cfi: null }, { offset: 2, cfi: undef }, { offset: 4, cfi: call8 }] }]);
    assert.deepEqual(rows(t), [[1, 4, E8], [1, 10, Z]]);
  });

  test('a section whose entries are all zero gets no entry and no terminator', () => {
    const t = generateOrc(L612, [
      { index: 1, size: 10, points: [{ offset: 0, cfi: null }, { offset: 3, cfi: undef }] },
      { index: 2, size: 10, points: [] },
      { index: 4, size: 7, points: [{ offset: 0, cfi: call8 }] },
    ]);
    assert.deepEqual(rows(t), [[4, 0, E8], [4, 7, Z]]);
  });

  test('deduplication restarts in every section; the terminator is added even after a zero entry', () => {
    const t = generateOrc(L612, [
      { index: 1, size: 8, points: [{ offset: 0, cfi: call8 }, { offset: 4, cfi: null }] },
      { index: 2, size: 6, points: [{ offset: 0, cfi: call8 }, { offset: 1, cfi: call8 }] },
    ]);
    assert.deepEqual(rows(t), [[1, 0, E8], [1, 4, Z], [1, 8, Z], [2, 0, E8], [2, 6, Z]]);
  });

  test('6.1: end and undefined CFA entries, dedup on the 6.1 bytes', () => {
    const empty = makeCfi(CFI_UNDEFINED, 0, { end: true }); // UNWIND_HINT_EMPTY
    const t = generateOrc(L61, [{
      index: 5, size: 0x30, points: [
        { offset: 0, cfi: empty }, { offset: 1, cfi: makeCfi(CFI_UNDEFINED, 0, { end: true, type: UnwindType.REGS }) },
        { offset: 2, cfi: makeCfi(SP, 8, { signal: true }) }, { offset: 3, cfi: makeCfi(SP, 8) }, { offset: 4, cfi: null },
      ],
    }]);
    assert.deepEqual(rows(t, L61), [
      [5, 0, { ...Z, end: true }], [5, 2, { ...Z, spOffset: 8, spReg: ORC_REG_SP }], [5, 4, Z], [5, 0x30, Z],
    ]);
  });

  test('6.3: signal is part of the bytes, so it separates entries', () => {
    const L63 = layoutByName('6.3')!.orc;
    const t = generateOrc(L63, [{ index: 5, size: 8, points: [{ offset: 2, cfi: makeCfi(SP, 8, { signal: true }) }, { offset: 3, cfi: makeCfi(SP, 8) }] }]);
    assert.deepEqual(rows(t, L63), [
      [5, 2, { ...Z, spOffset: 8, spReg: ORC_REG_SP, signal: true }], [5, 3, { ...Z, spOffset: 8, spReg: ORC_REG_SP }], [5, 8, Z],
    ]);
  });

  test('the builder: entries and keys, streaming order checks, errors carry objtool\'s message', () => {
    const b = new OrcBuilder(L612);
    b.addEntry(7, 0, E16);
    b.add(7, 1, call16);
    b.addKey(7, 2, 0);
    assert.throws(() => b.add(8, 0, call8), /section 7 was not ended/);
    b.endSection(7, 9);
    b.endSection(8, 100); // nothing added: no terminator
    assert.throws(() => b.add(8, 0, makeCfi(0, 8)), (e: unknown) => e instanceof OrcMappingError && e.message === 'unknown CFA base reg 0');
    b.endSection(8, 100);
    assert.equal(b.count, 3);
    const t = b.finish();
    assert.deepEqual(rows(t), [[7, 0, E16], [7, 2, Z], [7, 9, Z]]);
    assert.deepEqual(Buffer.from(t.entries.subarray(0, 6)), Buffer.from(encodeOrcEntry(E16, L612)));
  });

  test('many points: storage grows, only distinct entries are kept', () => {
    const b = new OrcBuilder(L612);
    const states = [call8, call16, makeCfi(SP, 24)];
    for (let i = 0; i < 100_000; i++) b.add(1, i, states[Math.floor(i / 3) % 3]!);
    b.endSection(1, 100_000);
    const t = b.finish();
    assert.equal(t.count, Math.ceil(100_000 / 3) + 1);
    assert.equal(t.offsets[1], 3);
    assert.equal(t.offsets[t.count - 1], 100_000);
  });
});
