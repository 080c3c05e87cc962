// SPDX-License-Identifier: GPL-2.0-only
// CFI state -> ORC entry, both mappings (6.1 orc_gen.c, 6.12 arch/x86/orc.c init_orc_entry()).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CFI_BP_INDIRECT, CFI_CFA, CFI_SP_INDIRECT, CFI_UNDEFINED, UnwindType } from '../analysis/cfi.js';
import {
  ORC_REG_BP, ORC_REG_BP_INDIRECT, ORC_REG_DI, ORC_REG_DX, ORC_REG_PREV_SP, ORC_REG_R10, ORC_REG_R13, ORC_REG_SP,
  ORC_REG_SP_INDIRECT, ORC_REG_UNDEFINED, type OrcEntry, zeroOrcEntry,
} from './entry.js';
import { OrcMappingError, orcEntryFromCfi, tryOrcEntryFromCfi } from './from-cfi.js';
import { makeCfi } from './fixture-cfi.js';

const entry = (p: Partial<OrcEntry>): OrcEntry => ({ ...zeroOrcEntry(), ...p });

// CFI register numbers (objtool's, instruction-encoding order).
const AX = 0, CX = 1, DX = 2, BX = 3, SP = 4, BP = 5, SI = 6, DI = 7, R8 = 8, R10 = 10, R13 = 13, R15 = 15;

const SP_BASES: [number, number][] = [
  [SP, ORC_REG_SP], [CFI_SP_INDIRECT, ORC_REG_SP_INDIRECT], [BP, ORC_REG_BP], [CFI_BP_INDIRECT, ORC_REG_BP_INDIRECT],
  [R10, ORC_REG_R10], [R13, ORC_REG_R13], [DI, ORC_REG_DI], [DX, ORC_REG_DX],
];
const BAD_SP_BASES = [AX, CX, BX, SI, R8, 9, 11, 12, 14, R15, CFI_CFA];
const BP_BASES: [number, number][] = [[CFI_UNDEFINED, ORC_REG_UNDEFINED], [CFI_CFA, ORC_REG_PREV_SP], [BP, ORC_REG_BP]];
const BAD_BP_BASES = [AX, SP, DI, DX, R10, R13, CFI_SP_INDIRECT, CFI_BP_INDIRECT];

describe('CFI to ORC, 6.4+ mapping (v3)', () => {
  test('no CFI: all zero (ORC_TYPE_UNDEFINED)', () => {
    assert.deepEqual(orcEntryFromCfi(null, 'v3'), zeroOrcEntry());
  });

  test('UNDEFINED and END_OF_STACK hints: type only, registers and signal dropped', () => {
    const s = makeCfi(SP, 8, { bpBase: CFI_CFA, bpOffset: -16, signal: true });
    assert.deepEqual(orcEntryFromCfi({ ...s, type: UnwindType.UNDEFINED }, 'v3'), entry({ type: 0 }));
    assert.deepEqual(orcEntryFromCfi({ ...s, type: UnwindType.END_OF_STACK }, 'v3'), entry({ type: 1 }));
    // Even with a base ORC cannot express.
    assert.deepEqual(orcEntryFromCfi(makeCfi(AX, 0, { type: UnwindType.UNDEFINED }), 'v3'), entry({}));
  });

  test('every CFA base, BP base, type and signal', () => {
    const types: [UnwindType, number][] = [[UnwindType.CALL, 2], [UnwindType.REGS, 3], [UnwindType.REGS_PARTIAL, 4]];
    for (const [cfiType, orcType] of types) {
      for (const [base, spReg] of SP_BASES) {
        for (const [bpBase, bpReg] of BP_BASES) {
          for (const signal of [false, true]) {
            const s = makeCfi(base, 24, { bpBase, bpOffset: -16, type: cfiType, signal, end: true });
            assert.deepEqual(orcEntryFromCfi(s, 'v3'), entry({ spOffset: 24, bpOffset: -16, spReg, bpReg, type: orcType, signal }));
          }
        }
      }
    }
  });

  test('unknown bases and types: objtool\'s messages', () => {
    for (const b of [...BAD_SP_BASES, CFI_UNDEFINED]) {
      assert.throws(() => orcEntryFromCfi(makeCfi(b, 8), 'v3'), (e: unknown) => e instanceof OrcMappingError && e.message === `unknown CFA base reg ${b}`);
    }
    for (const b of BAD_BP_BASES) {
      assert.deepEqual(tryOrcEntryFromCfi(makeCfi(SP, 8, { bpBase: b }), 'v3'), { error: `unknown BP base reg ${b}` });
    }
    assert.deepEqual(tryOrcEntryFromCfi(makeCfi(SP, 8, { type: 9 as UnwindType }), 'v3'), { error: 'unknown unwind hint type 9' });
    // The type is checked first, then the CFA base, then BP.
    assert.deepEqual(tryOrcEntryFromCfi(makeCfi(AX, 8, { bpBase: AX, type: 9 as UnwindType }), 'v3'), { error: 'unknown unwind hint type 9' });
    assert.deepEqual(tryOrcEntryFromCfi(makeCfi(AX, 8, { bpBase: AX }), 'v3'), { error: 'unknown CFA base reg 0' });
  });

  test('offsets are truncated to s16', () => {
    assert.equal(orcEntryFromCfi(makeCfi(SP, 40000), 'v3').spOffset, 40000 - 65536);
    assert.equal(orcEntryFromCfi(makeCfi(SP, 8, { bpBase: CFI_CFA, bpOffset: -40000 }), 'v3').bpOffset, 65536 - 40000);
  });

  test('writes into a given entry', () => {
    const into = entry({ spOffset: 99, end: true, signal: true });
    const r = orcEntryFromCfi(makeCfi(SP, 8), 'v3', into);
    assert.equal(r, into);
    assert.deepEqual(into, entry({ spOffset: 8, spReg: ORC_REG_SP, type: 2 }));
  });
});

describe('CFI to ORC, 6.1 mapping (v1)', () => {
  test('no CFI: all zero (sp_reg UNDEFINED, type CALL, end 0)', () => {
    assert.deepEqual(orcEntryFromCfi(null, 'v1'), zeroOrcEntry());
  });

  test('undefined CFA: sp_reg UNDEFINED, only end (and 6.3\'s signal) kept', () => {
    const s = makeCfi(CFI_UNDEFINED, 8, { bpBase: CFI_CFA, bpOffset: -16, type: UnwindType.REGS, end: true, signal: true });
    assert.deepEqual(orcEntryFromCfi(s, 'v1'), entry({ end: true, signal: true }));
    assert.deepEqual(orcEntryFromCfi({ ...s, end: false, signal: false }, 'v1'), entry({}));
    // Even with a BP base ORC cannot express.
    assert.deepEqual(orcEntryFromCfi(makeCfi(CFI_UNDEFINED, 0, { bpBase: AX }), 'v1'), entry({}));
  });

  test('every CFA base, BP base, type, end and signal', () => {
    const types: [UnwindType, number][] = [[UnwindType.CALL, 0], [UnwindType.REGS, 1], [UnwindType.REGS_PARTIAL, 2]];
    for (const [cfiType, orcType] of types) {
      for (const [base, spReg] of SP_BASES) {
        for (const [bpBase, bpReg] of BP_BASES) {
          for (const end of [false, true]) {
            for (const signal of [false, true]) {
              const s = makeCfi(base, -8, { bpBase, bpOffset: 16, type: cfiType, end, signal });
              assert.deepEqual(orcEntryFromCfi(s, 'v1'), entry({ spOffset: -8, bpOffset: 16, spReg, bpReg, type: orcType, end, signal }));
            }
          }
        }
      }
    }
  });

  test('unknown bases: objtool\'s messages, CFA first', () => {
    for (const b of BAD_SP_BASES) {
      assert.deepEqual(tryOrcEntryFromCfi(makeCfi(b, 8, { bpBase: AX }), 'v1'), { error: `unknown CFA base reg ${b}` });
    }
    for (const b of BAD_BP_BASES) {
      assert.deepEqual(tryOrcEntryFromCfi(makeCfi(SP, 8, { bpBase: b }), 'v1'), { error: `unknown BP base reg ${b}` });
    }
    // 6.1 has no check on the type: an unknown number goes into the 2-bit field truncated.
    assert.deepEqual(tryOrcEntryFromCfi(makeCfi(SP, 8, { type: 7 as UnwindType }), 'v1'), { entry: entry({ spOffset: 8, spReg: ORC_REG_SP, type: 3 }) });
  });
});
