// SPDX-License-Identifier: GPL-2.0-only
// .discard.unwind_hints in each struct layout and type numbering (fixtures/hints.S), the local
// label rule of 6.8+, and objtool's errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../elf/reader.js';
import { assembleText, compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { UnwindType } from '../analysis/cfi.js';
import { layoutByName } from './versions.js';
import { hintMissingInsnMessage, readUnwindHints, type UnwindHint } from './unwind-hints.js';
import { KernelMetadataError } from './common.js';

const L61 = layoutByName('6.1')!;
const L63 = layoutByName('6.3')!;
const L64 = layoutByName('6.4')!;
const L612 = layoutByName('6.12')!;

function line(h: UnwindHint): string {
  return `${h.off} ${h.kind}(${h.type}) reg=${h.spReg} off=${h.spOffset} signal=${h.signal} end=${h.end}` +
    (h.unwindType === undefined ? '' : ` ut=${h.unwindType}`);
}

function expectError(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof KernelMetadataError && e.objtoolMessage === message);
}

describe('unwind hints', () => {
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => removeDir(dir));

  const build = (define: string): ElfFile =>
    ElfFile.open(compileFixture(srcPath('kernel', 'fixtures', 'hints.S'), dir, [`-D${define}`, '-Wa,-L']));

  it('6.1: {ip, sp_offset, sp_reg, type, end}, ENTRY = CALL, target = addend', () => {
    const elf = build('HINTS_6_1');
    const hints = readUnwindHints(elf, L61);
    const text = elf.sectionByName('.text')!.index;
    assert.ok(hints.every((h) => h.sec === text));
    assert.deepEqual(hints.map(line), [
      `0 CALL(0) reg=5 off=8 signal=0 end=0 ut=${UnwindType.CALL}`,
      `1 REGS(1) reg=5 off=160 signal=0 end=0 ut=${UnwindType.REGS}`,
      `2 REGS_PARTIAL(2) reg=9 off=-40 signal=0 end=1 ut=${UnwindType.REGS_PARTIAL}`,
      '3 FUNC(3) reg=4 off=16 signal=0 end=0',
      // UNWIND_HINT_ENTRY: objtool 6.1 turns it into a CALL hint.
      `4 ENTRY(4) reg=0 off=0 signal=0 end=1 ut=${UnwindType.CALL}`,
      '5 SAVE(5) reg=5 off=8 signal=0 end=0',
      '6 RESTORE(6) reg=5 off=0 signal=0 end=0',
      '7 UNKNOWN(7) reg=5 off=0 signal=0 end=0',
      '8 UNKNOWN(9) reg=5 off=24 signal=0 end=0',
      // 6.1 takes the addend whatever the symbol: a `.L` label relocation points at offset 0.
      `0 REGS_PARTIAL(2) reg=5 off=-8 signal=0 end=0 ut=${UnwindType.REGS_PARTIAL}`,
    ]);
    assert.equal(hintMissingInsnMessage(hints[3]!), "can't find insn for unwind_hints[3]");
  });

  it('6.3: {..., signal, end}', () => {
    const hints = readUnwindHints(build('HINTS_6_3'), L63);
    assert.deepEqual(hints.slice(0, 3).map((h) => [h.kind, h.signal, h.end]), [['CALL', 0, 0], ['REGS', 1, 0], ['REGS_PARTIAL', 1, 1]]);
  });

  it('6.4 numbering: UNDEFINED 0, END_OF_STACK 1, CALL 2, ... RESTORE 7; signal, no end', () => {
    const elf = build('HINTS_6_4');
    const hints = readUnwindHints(elf, L64);
    assert.deepEqual(hints.map((h) => `${h.off} ${h.kind} ${h.unwindType ?? '-'} ${h.signal} ${h.end}`), [
      `0 UNDEFINED ${UnwindType.UNDEFINED} 0 0`,
      `1 END_OF_STACK ${UnwindType.END_OF_STACK} 1 0`,
      `2 CALL ${UnwindType.CALL} 1 0`,
      `3 REGS ${UnwindType.REGS} 0 0`,
      `4 REGS_PARTIAL ${UnwindType.REGS_PARTIAL} 0 0`,
      '5 FUNC - 0 0',
      '6 SAVE - 0 0',
      '7 RESTORE - 0 0',
      '8 UNKNOWN - 1 0',
      `0 CALL ${UnwindType.CALL} 0 0`,
    ]);
  });

  it('6.12: a `.L` local label names its own offset', () => {
    const elf = build('HINTS_6_4');
    const hints = readUnwindHints(elf, L612);
    const label = elf.symbols!.byNameIndex('.Lh9');
    assert.equal(hints[9]!.off, elf.symbols!.value[label]);
    assert.equal(hints[9]!.off, 9);
    assert.deepEqual(hints.slice(0, 9).map((h) => h.off), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('objtool errors', () => {
    const sized = ElfFile.open(assembleText(`
      .text
      x: nop
      .section .discard.unwind_hints
      .long x - .; .short 0; .byte 5; .byte 2; .byte 0
    `, dir, 'hsize'));
    expectError(() => readUnwindHints(sized, L612), 'struct unwind_hint size mismatch');
    const norel = ElfFile.open(assembleText(`
      .section .discard.unwind_hints
      .long 0; .short 0; .byte 5; .byte 2; .byte 0; .balign 4
    `, dir, 'hnorela'));
    expectError(() => readUnwindHints(norel, L612), 'missing .rela.discard.unwind_hints section');
    const hole = ElfFile.open(assembleText(`
      .text
      x: nop
      .section .discard.unwind_hints
      .long x - .; .short 0; .byte 5; .byte 2; .byte 0; .balign 4
      .long 0; .short 0; .byte 5; .byte 2; .byte 0; .balign 4
    `, dir, 'hhole'));
    expectError(() => readUnwindHints(hole, L612), "can't find reloc for unwind_hints[1]");
    const global = ElfFile.open(assembleText(`
      .text
      .globl g
      g: nop
      .section .discard.unwind_hints
      .long g - .; .short 0; .byte 5; .byte 2; .byte 0; .balign 4
    `, dir, 'hglobal'));
    expectError(() => readUnwindHints(global, L612), 'unexpected relocation symbol type in .rela.discard.unwind_hints');
    // Up to 6.7 any symbol goes: the section of the symbol at the addend.
    assert.deepEqual(readUnwindHints(global, L64).map((h) => h.off), [0]);
  });
});
