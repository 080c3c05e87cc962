// SPDX-License-Identifier: GPL-2.0-only
// The decoder against objtool 6.12's decode.c, form by form: fixtures/forms.S is assembled
// with gcc and each labelled group of instructions is checked for length, type, flags,
// fields and stack ops.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { decodeSection } from './decoder.js';
import {
  CfiReg, InsnFlag, InsnType, OpDestType, OpSrcType, fieldAt, immSize, dispSize, indexAt,
  indexContaining, relocFieldPos, stackOps, typeName, type DecodedSection, type StackOp,
} from './insn.js';
import { X86DecodeError } from './errors.js';
import { DECODER_6_1, DECODER_6_12 } from './variant.js';
import { OrctoolError } from '../errors.js';
import { decodeWarnings } from './warnings.js';
import { relocsOf, sectionBytes, symbolsOf, type TestReloc, type TestSymbol } from './binutils-oracle.js';

// (const enums have no reverse mapping)
const REG_NAMES = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15', 'RA'];
const DEST_NAMES = ['REG', 'REG_INDIRECT', 'MEM', 'PUSH', 'PUSHF'];
const SRC_NAMES = ['REG', 'REG_INDIRECT', 'CONST', 'POP', 'POPF', 'ADD', 'AND'];

/** A stack op in one line: "dest = src", e.g. "PUSH = R:BX", "[SP+8] = R:BX", "R:SP = ADD(SP,-40)". */
function fmtOp(op: StackOp): string {
  const reg = (r: number): string => REG_NAMES[r] ?? `?${r}`;
  const ind = (r: number, off: number): string => `[${reg(r)}${off < 0 ? off : '+' + off}]`;
  let dest: string;
  switch (op.dest.type) {
    case OpDestType.REG: dest = `R:${reg(op.dest.reg)}`; break;
    case OpDestType.REG_INDIRECT: dest = ind(op.dest.reg, op.dest.offset); break;
    default: dest = DEST_NAMES[op.dest.type]!;
  }
  let src: string;
  switch (op.src.type) {
    case OpSrcType.REG: src = `R:${reg(op.src.reg)}`; break;
    case OpSrcType.REG_INDIRECT: src = ind(op.src.reg, op.src.offset); break;
    case OpSrcType.ADD: case OpSrcType.AND: src = `${SRC_NAMES[op.src.type]}(${reg(op.src.reg)},${op.src.offset})`; break;
    default: src = SRC_NAMES[op.src.type]!;
  }
  return `${dest} = ${src}`;
}

describe('x86 decoder: objtool 6.12 forms', () => {
  let dir: string;
  let obj: string;
  let ds: DecodedSection;
  let syms: TestSymbol[];
  let relocs: TestReloc[];
  let isInFunc: (off: number) => boolean;

  const sym = (name: string): TestSymbol => {
    const s = syms.find((x) => x.name === name);
    assert.ok(s, `symbol ${name}`);
    return s;
  };
  /** Indices of the n instructions starting at a label. */
  const group = (label: string, n: number): number[] => {
    const first = indexAt(ds, sym(label).value);
    assert.ok(first >= 0, `an instruction starts at ${label}`);
    return Array.from({ length: n }, (_, k) => first + k);
  };
  const types = (idx: number[]): string[] => idx.map((i) => typeName(ds.type[i]));
  /** Each instruction's ops, joined with "; " ("" for none). */
  const ops = (idx: number[]): string[] => idx.map((i) => stackOps(ds, i).map(fmtOp).join('; '));
  const lens = (idx: number[]): number[] => idx.map((i) => ds.len[i]);

  before(() => {
    dir = makeTempDir('orctool-x86-');
    obj = compileFixture(srcPath('x86', 'fixtures', 'forms.S'), dir);
    syms = symbolsOf(obj);
    relocs = relocsOf(obj, '.text');
    const funcs = syms.filter((s) => s.type === 'FUNC' && s.ndx === '1');
    isInFunc = (off) => funcs.some((f) => off >= f.value && off < f.value + f.size);
    ds = decodeSection(sectionBytes(obj, '.text', dir), '.text', { file: obj, isInFunc });
  });
  after(() => removeDir(dir));

  it('decodes the whole section', () => {
    assert.equal(ds.error, null);
    assert.equal(ds.offset[ds.count - 1] + ds.len[ds.count - 1], ds.size);
    for (let i = 1; i < ds.count; i++) assert.equal(ds.offset[i], ds.offset[i - 1] + ds.len[i - 1]);
  });

  it('push and pop of every register, %r8-%r15 included', () => {
    const names = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'];
    const push = group('t_push_regs', 16);
    assert.deepEqual(ops(push), names.map((r) => `PUSH = R:${r}`));
    assert.deepEqual(lens(push), [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(types(push), Array(16).fill('OTHER'));
    assert.deepEqual(ops(group('t_pop_regs', 16)), names.map((r) => `R:${r} = POP`));
    // Unused fields are zero, as objtool's calloc'd ops.
    assert.deepEqual(stackOps(ds, push[3]), [{
      dest: { type: OpDestType.PUSH, reg: 0, offset: 0 },
      src: { type: OpSrcType.REG, reg: CfiReg.BX, offset: 0 },
    }]);
  });

  it('push of an immediate, memory and %fs/%gs; pushf/popf; pop to memory', () => {
    assert.deepEqual(ops(group('t_push_other', 11)), [
      'PUSH = CONST', 'PUSH = CONST', 'PUSH = CONST', 'PUSH = CONST',
      'PUSH = CONST', 'PUSH = CONST', 'MEM = POP', 'MEM = POP',
      'PUSHF = CONST', 'MEM = POPF', 'MEM = POP',
    ]);
  });

  it('mov %rsp,%rbp, mov %rbp,%rsp, the other moves involving %rsp, and any mov %reg,%reg', () => {
    assert.deepEqual(ops(group('t_mov_sp', 10)), [
      'R:BP = R:SP', 'R:SP = R:BP', 'R:AX = R:SP', 'R:SP = R:AX', '[DI+0] = R:SP', '[BX+8] = R:SP',
      '', '', 'R:BX = R:AX', '',
    ]);
  });

  it('add/sub/and of an immediate or register to %rsp', () => {
    assert.deepEqual(ops(group('t_sp_arith', 11)), [
      'R:SP = ADD(SP,16)', 'R:SP = ADD(SP,-40)', 'R:SP = ADD(SP,-4096)', 'R:SP = ADD(SP,128)',
      'R:SP = AND(SP,-16)', 'R:SP = AND(SP,-64)', 'R:SP = ADD(AX,0)', 'R:SP = ADD(DX,0)',
      '', '', '',
    ]);
  });

  it('leave is two ops', () => {
    assert.deepEqual(ops(group('t_leave', 1)), ['R:SP = R:BP; R:BP = POP']);
  });

  it('lea from %rsp, %rbp or any register', () => {
    assert.deepEqual(ops(group('t_lea', 8)), [
      'R:SP = ADD(BP,-8)', 'R:R10 = ADD(SP,8)', 'R:BP = R:SP', 'R:SP = ADD(R10,-8)', 'R:SI = R:SI',
      '', '', '',
    ]);
  });

  it('register saves to and restores from the stack', () => {
    assert.deepEqual(ops(group('t_mov_stack', 11)), [
      '[SP+8] = R:BX', '[BP-16] = R:R12', 'R:AX = [BP+8]', 'R:R15 = [SP+16]', 'R:BX = [SP+0]',
      '[BP+4096] = R:BX', '', '', '', '', '',
    ]);
  });

  it('calls: direct, indirect, through pv_ops, cs-prefixed, notrack, far', () => {
    const idx = group('t_calls', 8);
    assert.deepEqual(types(idx), [
      'CALL', 'CALL_DYNAMIC', 'CALL_DYNAMIC', 'CALL_DYNAMIC', 'CALL', 'CALL_DYNAMIC', 'CALL_DYNAMIC', 'OTHER',
    ]);
    // Only the direct call gets objtool's push of the return address.
    assert.deepEqual(ops(idx), ['PUSH = CONST', '', '', '', 'PUSH = CONST', '', '', '']);
    const target = sym('t_calls_target').value;
    assert.equal(ds.target[idx[0]], target);
    assert.equal(ds.target[idx[4]], target);
    assert.ok(ds.flags[idx[4]] & InsnFlag.CS_PREFIX);
    assert.equal(ds.immPos[idx[4]], 2);
    assert.ok(ds.flags[idx[5]] & InsnFlag.NOTRACK);
    assert.equal(ds.flags[idx[1]] & (InsnFlag.MEM | InsnFlag.REL_TARGET), 0);

    // call *pv_ops+16(%rip): memory, RIP-relative, the relocation on the disp32 at byte 2.
    const pv = idx[2];
    assert.equal(ds.flags[pv] & (InsnFlag.MEM | InsnFlag.RIP), InsnFlag.MEM | InsnFlag.RIP);
    assert.equal(ds.dispPos[pv], 2);
    assert.equal(dispSize(ds, pv), 4);
    const rel = relocs.find((r) => r.symbol === 'pv_ops' && r.offset > ds.offset[pv] && r.offset < ds.offset[pv] + ds.len[pv]);
    assert.ok(rel);
    assert.equal(rel.offset - ds.offset[pv], relocFieldPos(ds, pv));
    assert.equal(fieldAt(ds, pv, rel.offset - ds.offset[pv]), 'disp');
    assert.equal(rel.addend, 16 - 4);
  });

  it('jumps: register vs memory indirect, notrack, far, short/near, jcc, jrcxz, loops', () => {
    const idx = group('t_jumps', 12);
    assert.deepEqual(types(idx), [
      'JUMP_DYNAMIC', 'JUMP_DYNAMIC', 'JUMP_DYNAMIC', 'CONTEXT_SWITCH',
      'JUMP_UNCONDITIONAL', 'JUMP_UNCONDITIONAL', 'JUMP_CONDITIONAL', 'JUMP_CONDITIONAL',
      'JUMP_CONDITIONAL', 'JUMP_CONDITIONAL', 'JUMP_CONDITIONAL', 'JUMP_CONDITIONAL',
    ]);
    assert.equal(ds.flags[idx[0]] & InsnFlag.MEM, 0); // jmp *%rax
    assert.ok(ds.flags[idx[1]] & InsnFlag.MEM); // jmp *table(,%rax,8)
    assert.equal(ds.flags[idx[1]] & InsnFlag.RIP, 0);
    assert.equal(ds.dispPos[idx[1]], 3);
    assert.ok(ds.flags[idx[2]] & InsnFlag.NOTRACK);
    assert.deepEqual(lens(idx.slice(4)), [2, 5, 2, 6, 2, 2, 2, 2]);
    // Destinations: offset + len + immediate.
    const o = (k: number): number => ds.offset[idx[k]];
    assert.deepEqual(idx.slice(4).map((i) => ds.target[i]), [o(5), o(5), o(5), o(8), o(9), o(9), o(9), o(9)]);
    assert.deepEqual(idx.slice(4).map((i) => ds.immediate[i]), [0, -5, -7, 0, 0, -2, -4, -6]);
    for (const i of idx.slice(4)) assert.ok(ds.flags[i] & InsnFlag.REL_TARGET);
    for (const i of idx.slice(0, 4)) assert.equal(ds.flags[i] & InsnFlag.REL_TARGET, 0);
  });

  it('returns, near and far', () => {
    const idx = group('t_returns', 5);
    assert.deepEqual(types(idx), ['RETURN', 'RETURN', 'RETURN', 'CONTEXT_SWITCH', 'CONTEXT_SWITCH']);
    assert.deepEqual(idx.map((i) => ds.immediate[i]), [0, 8, 0, 0, 8]);
    assert.equal(immSize(ds, idx[1]), 2);
  });

  it('sysret, sysexit, syscall, sysenter, eretu, erets', () => {
    assert.deepEqual(types(group('t_context', 6)), Array(6).fill('CONTEXT_SWITCH'));
  });

  it('ud2/ud1, stac/clac, std/cld, int3, endbr64/endbr32', () => {
    assert.deepEqual(types(group('t_misc_types', 12)), [
      'BUG', 'BUG', 'OTHER', 'STAC', 'CLAC', 'STD', 'CLD', 'TRAP', 'ENDBR', 'ENDBR', 'OTHER', 'OTHER',
    ]);
    const pad = group('t_int3_pad', 5);
    assert.deepEqual(types(pad), Array(5).fill('TRAP'));
    assert.deepEqual(lens(pad), [1, 1, 1, 1, 1]);
  });

  it('NOPs of every length 1 to 15, prefixed ones included', () => {
    const idx = group('t_nops', 15);
    assert.deepEqual(lens(idx), Array.from({ length: 15 }, (_, k) => k + 1));
    assert.deepEqual(types(idx), Array(15).fill('NOP'));
    assert.deepEqual(ops(idx), Array(15).fill(''));
  });

  it("6.12's NOP quirks: pause, xchg %eax,%r8d, prefetchw, nop %eax", () => {
    assert.deepEqual(types(group('t_nop_quirks', 5)), ['NOP', 'NOP', 'NOP', 'NOP', 'OTHER']);
  });

  it('VEX/EVEX instructions get no type, ops or immediate', () => {
    const idx = group('t_vex', 4);
    assert.deepEqual(types(idx), Array(4).fill('OTHER'));
    assert.deepEqual(ops(idx), ['', '', '', '']);
    for (const i of idx) {
      assert.ok(ds.flags[i] & InsnFlag.VEX);
      assert.equal(ds.immediate[i], 0);
    }
    // vmovdqu64 0x40(%rsp),%zmm1: EVEX disp8 (compressed) at byte 7
    assert.ok(ds.flags[idx[2]] & InsnFlag.MEM);
    assert.equal(ds.dispPos[idx[2]], 7);
    assert.equal(dispSize(ds, idx[2]), 1);
  });

  it('immediate and field positions: enter, imm64, moffs, disp32 + imm32, ENQCMD', () => {
    const [enter, imm64, moffs, pvmov, cmpl, enqcmd] = group('t_fields', 6);
    assert.equal(ds.immediate[enter], 16);
    assert.deepEqual([ds.immPos[enter], immSize(ds, enter)], [1, 2]);
    // The kernel decoder keeps the low 32 bits of a 64-bit immediate or moffs.
    assert.equal(ds.immediate[imm64], 0x55667788);
    assert.deepEqual([ds.immPos[imm64], immSize(ds, imm64)], [2, 8]);
    assert.equal(ds.immediate[moffs], 0x55667788);
    assert.deepEqual([ds.dispPos[moffs], dispSize(ds, moffs), ds.immPos[moffs]], [1, 8, 0]);
    assert.ok(ds.flags[moffs] & InsnFlag.MEM);
    // movq $0x7f,pv_ops+8(%rip): two relocatable fields; objtool's pv_ops[] candidate.
    assert.equal(ds.len[pvmov], 11);
    assert.ok(ds.flags[pvmov] & InsnFlag.PV_MOV_IMM);
    assert.deepEqual([ds.dispPos[pvmov], ds.immPos[pvmov], ds.immediate[pvmov]], [3, 7, 0x7f]);
    const rel = relocs.find((r) => r.offset === ds.offset[pvmov] + 3);
    assert.ok(rel);
    assert.equal(fieldAt(ds, pvmov, 3), 'disp');
    assert.equal(fieldAt(ds, pvmov, 7), 'imm');
    assert.equal(fieldAt(ds, pvmov, 2), null);
    assert.equal(relocFieldPos(ds, pvmov), 3);
    assert.deepEqual([ds.dispPos[cmpl], dispSize(ds, cmpl), ds.immPos[cmpl], immSize(ds, cmpl)], [2, 1, 3, 4]);
    assert.equal(ds.immediate[cmpl], 0x12345678);
    assert.ok(ds.flags[enqcmd] & InsnFlag.ENQCMD);
  });

  it("6.12's decode.c where 6.1's differs (the default variant)", () => {
    const idx = group('t_variant', 8);
    assert.deepEqual(ops(idx), ['R:BX = R:AX', 'R:R13 = R:R12', 'R:BP = R:SP', 'R:SP = R:AX', '', '', '', '']);
    assert.deepEqual(types(idx.slice(6)), ['CONTEXT_SWITCH', 'CONTEXT_SWITCH']);
    const same = decodeSection(sectionBytes(obj, '.text', dir), '.text', { isInFunc, variant: DECODER_6_12 });
    assert.deepEqual(same.ops, ds.ops);
    assert.deepEqual(same.type, ds.type);
  });

  it("corners of decode.c's conditions: REX.R, 8b from a register, SIB without base, imm wrap", () => {
    const idx = group('t_corners', 11);
    assert.deepEqual(ops(idx), [
      '', 'R:R12 = R:SP', 'R:SP = R:R12', '[BP+16] = R:SP', '', '',
      'R:SP = ADD(SP,-2147483648)', 'R:SP = ADD(SP,-2147483648)', 'R:SP = ADD(SP,-16)', '', 'R:SP = ADD(BP,8)',
    ]);
    assert.deepEqual(types(idx), Array(11).fill('OTHER'));
    assert.deepEqual(lens(idx), [3, 3, 3, 8, 3, 3, 7, 7, 4, 3, 8]);
  });

  it("6.1's decode.c: only %rsp moves, SIB without base is %rbp, no ERETU/ERETS", () => {
    const old = decodeSection(sectionBytes(obj, '.text', dir), '.text', { isInFunc, variant: DECODER_6_1 });
    assert.deepEqual(old.offset, ds.offset);
    const idx = group('t_variant', 8);
    assert.deepEqual(idx.map((i) => stackOps(old, i).map(fmtOp).join('; ')), [
      '', '', 'R:BP = R:SP', 'R:SP = R:AX', 'R:AX = [BP+16]', '[BP+24] = R:AX', '', '',
    ]);
    assert.deepEqual(idx.slice(6).map((i) => typeName(old.type[i])), ['CLAC', 'CLAC']);
    const [, , , , , , , sibNoBase] = group('t_mov_stack', 8);
    assert.deepEqual(stackOps(old, sibNoBase).map(fmtOp), ['R:R12 = [BP-32]']);
    assert.deepEqual(ops([sibNoBase]), ['']);
    // Everything else is the same.
    let differ = 0;
    for (let i = 0; i < ds.count; i++) {
      if (old.type[i] !== ds.type[i] || stackOps(old, i).map(fmtOp).join() !== stackOps(ds, i).map(fmtOp).join()) differ++;
    }
    // t_variant's two reg moves, gs load and store, eretu/erets; t_mov_sp's reg move; t_mov_stack's SIB.
    assert.equal(differ, 2 + 2 + 2 + 1 + 1 + 2); // and t_context's eretu/erets
  });

  it('iret inside a function pops its frame; outside one it is a context switch', () => {
    const [inside] = group('t_func_iret', 1);
    assert.equal(ds.type[inside], InsnType.OTHER);
    assert.deepEqual(ops([inside]), ['R:SP = ADD(SP,40)']);
    const outside = group('t_entry_iret', 2);
    assert.deepEqual(types(outside), ['CONTEXT_SWITCH', 'CONTEXT_SWITCH']);
    assert.deepEqual(ops(outside), ['', '']);
    // Without a predicate every iret is outside a function.
    const bytes = new Uint8Array([0x48, 0xcf]);
    const alone = decodeSection(bytes, '.text');
    assert.equal(alone.type[0], InsnType.CONTEXT_SWITCH);
    assert.equal(alone.opCount[0], 0);
  });

  it('a call relocated against a section symbol: the field is byte 1, target is the next insn', () => {
    const [call, jmp] = group('t_reloc_call', 2);
    for (const i of [call, jmp]) {
      const off = ds.offset[i];
      assert.deepEqual([ds.immPos[i], immSize(ds, i), relocFieldPos(ds, i)], [1, 4, 1]);
      assert.equal(ds.target[i], off + 5);
      const rel = relocs.find((r) => r.offset === off + 1);
      assert.ok(rel, 'a relocation at the rel32');
      assert.equal(rel.symbol, '.text.other');
      assert.equal(rel.addend, sym('t_other').value - 4);
      assert.equal(fieldAt(ds, i, rel.offset - off), 'imm');
    }
    assert.equal(ds.type[call], InsnType.CALL);
    assert.equal(ds.type[jmp], InsnType.JUMP_UNCONDITIONAL);
  });

  it("objtool's decode warnings", () => {
    const w = decodeWarnings(ds).map((x) => x.message);
    const hex = (label: string, k: number): string => ds.offset[group(label, k + 1)[k]].toString(16);
    assert.deepEqual(w, [
      `notrack prefix found at .text:0x${hex('t_calls', 5)}`,
      `notrack prefix found at .text:0x${hex('t_jumps', 2)}`,
      `ENQCMD instruction at .text:${hex('t_fields', 5)}`,
    ]);
  });

  it('finds instructions by offset', () => {
    const i = group('t_mov_stack', 1)[0];
    const off = ds.offset[i];
    assert.equal(indexAt(ds, off), i);
    assert.equal(indexAt(ds, off + 1), -1);
    assert.equal(indexContaining(ds, off + 1), i);
    assert.equal(indexContaining(ds, 0), 0);
    assert.equal(indexAt(ds, ds.size), -1);
    assert.equal(indexContaining(ds, ds.size), -1);
  });
});

describe('x86 decoder: bytes that are not instructions', () => {
  it('stops at the first undecodable offset with objtool\'s message', () => {
    const ds = decodeSection(new Uint8Array([0x90, 0x06, 0x90]), '.text.bad', { file: 'x.o' });
    assert.equal(ds.count, 1);
    assert.equal(ds.size, 1);
    assert.ok(ds.error instanceof X86DecodeError);
    assert.ok(ds.error instanceof OrctoolError);
    assert.equal(ds.error.file, 'x.o');
    assert.equal(ds.error.section, '.text.bad');
    assert.equal(ds.error.offset, 1);
    assert.equal(ds.error.objtoolMessage, "can't decode instruction at .text.bad:0x1");
    assert.match(ds.error.message, /^x\.o: \.text\.bad at offset 0x1: can't decode instruction at \.text\.bad:0x1$/);
  });

  it('an instruction cut short by the end of the section is an error', () => {
    const ds = decodeSection(new Uint8Array([0xc3, 0xe8, 0x00, 0x00]), '.text');
    assert.equal(ds.count, 1);
    assert.equal(ds.error?.offset, 1);
  });

  it("'skip' steps over one byte at a time and keeps the first error", () => {
    const ds = decodeSection(new Uint8Array([0x90, 0x06, 0x07, 0xc3]), '.text', { onInvalid: 'skip' });
    assert.equal(ds.count, 4);
    assert.equal(ds.size, 4);
    assert.deepEqual(Array.from(ds.flags).map((f) => (f & InsnFlag.INVALID) !== 0), [false, true, true, false]);
    assert.equal(ds.type[3], InsnType.RETURN);
    assert.equal(ds.error?.offset, 1);
  });

  it('lea with a register operand decodes (the kernel decoder accepts it) with a warning', () => {
    const ds = decodeSection(new Uint8Array([0x48, 0x8d, 0xc3, 0xc3]), '.text');
    assert.equal(ds.error, null);
    assert.deepEqual(Array.from(ds.len), [3, 1]);
    assert.ok(ds.flags[0] & InsnFlag.BAD_LEA);
    assert.equal(ds.opCount[0], 0);
    assert.deepEqual(decodeWarnings(ds).map((w) => w.message), ['invalid LEA encoding at .text:0x0']);
  });

  it('an empty section decodes to nothing', () => {
    const ds = decodeSection(new Uint8Array(0), '.text');
    assert.equal(ds.count, 0);
    assert.equal(ds.error, null);
    assert.equal(indexContaining(ds, 0), -1);
  });
});

it('Xen/KVM emulate prefix: ud2 + "xen"/"kvm" and the next instruction decode as one', () => {
  const ds = decodeSection(new Uint8Array([0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2, 0x0f, 0x0b, 0x6b, 0x76, 0x6d, 0x0f, 0x01, 0xc1, 0x0f, 0x0b]), '.text');
  assert.deepEqual([...ds.offset], [0, 7, 15]);
  assert.deepEqual([...ds.len], [7, 8, 2]);
  assert.deepEqual([...ds.type], [InsnType.OTHER, InsnType.OTHER, InsnType.BUG]);
});

describe('x86 decoder: released columns', () => {
  // push %rbp; mov %rsp,%rbp; jmp .+2; pop %rbp
  const bytes = new Uint8Array([0x55, 0x48, 0x89, 0xe5, 0xeb, 0x00, 0x5d]);

  it('packs each stack op into three ints and reads them back whole', () => {
    const ds = decodeSection(bytes, '.text');
    assert.deepEqual(stackOps(ds, 1), [{ dest: { type: OpDestType.REG, reg: CfiReg.BP, offset: 0 }, src: { type: OpSrcType.REG, reg: CfiReg.SP, offset: 0 } }]);
    assert.equal(ds.ops.length, 3 * 3);
  });

  it('throws on a released column, and keeps the others', () => {
    const ds = decodeSection(bytes, '.text');
    ds.releaseColumns!(['immediate']);
    assert.throws(() => ds.immediate, /\.text: the immediate column was released/);
    assert.throws(() => ds.target, /immediate column was released/);
    assert.equal(stackOps(ds, 0).length, 1);
    ds.releaseColumns!(['opStart', 'opCount', 'ops']);
    assert.throws(() => stackOps(ds, 0), /column was released/);
    assert.deepEqual([...ds.offset], [0, 1, 4, 6]);
    assert.deepEqual([...ds.type], [InsnType.OTHER, InsnType.OTHER, InsnType.JUMP_UNCONDITIONAL, InsnType.OTHER]);
  });
});
