// SPDX-License-Identifier: GPL-2.0-only
// objtool's x86 instruction model (tools/objtool/include/objtool/arch.h, Linux 6.12), stored
// struct-of-arrays: vmlinux.o has millions of instructions, so there is no object per
// instruction or per stack op. Accessors that build objects are for tests and debugging.
import type { X86DecodeError } from './errors.js';

/** objtool's enum insn_type, same order and values. */
export const enum InsnType {
  JUMP_CONDITIONAL = 0,
  JUMP_UNCONDITIONAL = 1,
  JUMP_DYNAMIC = 2,
  JUMP_DYNAMIC_CONDITIONAL = 3,
  CALL = 4,
  CALL_DYNAMIC = 5,
  RETURN = 6,
  CONTEXT_SWITCH = 7,
  BUG = 8,
  NOP = 9,
  STAC = 10,
  CLAC = 11,
  STD = 12,
  CLD = 13,
  TRAP = 14,
  ENDBR = 15,
  OTHER = 16,
  /** 7.x: syscall, sysenter (CONTEXT_SWITCH before). */
  SYSCALL = 17,
  /** 7.x: sysret, sysexit, eretu/erets, retf, iret outside a function, jmpf (CONTEXT_SWITCH before). */
  SYSRET = 18,
}

/** objtool's enum op_dest_type. */
export const enum OpDestType {
  REG = 0,
  REG_INDIRECT = 1,
  MEM = 2,
  PUSH = 3,
  PUSHF = 4,
}

/** objtool's enum op_src_type. */
export const enum OpSrcType {
  REG = 0,
  REG_INDIRECT = 1,
  CONST = 2,
  POP = 3,
  POPF = 4,
  ADD = 5,
  AND = 6,
}

/** objtool's CFI register numbers: x86 encoding order, then the return address. */
export const enum CfiReg {
  AX = 0, CX = 1, DX = 2, BX = 3, SP = 4, BP = 5, SI = 6, DI = 7,
  R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
  RA = 16,
}

/** Per-instruction facts beyond objtool's type, one bit each. */
export const enum InsnFlag {
  /** target[] holds a relative branch/call destination (offset + len + immediate). */
  REL_TARGET = 1 << 0,
  /** Has a memory-form operand (ModRM mod != 3, lea's included, or a moffs address). */
  MEM = 1 << 1,
  /** The memory operand is RIP-relative. */
  RIP = 1 << 2,
  /** A 0x3e prefix byte: NOTRACK on an indirect branch (objtool warns on those). */
  NOTRACK = 1 << 3,
  /** A 0x2e (CS) prefix byte, e.g. on calls to retpoline thunks built with -mindirect-branch-cs-prefix. */
  CS_PREFIX = 1 << 4,
  /** VEX/EVEX/XOP encoded: objtool gives these no type and no stack ops. */
  VEX = 1 << 5,
  /** lea with a register operand: objtool warns "invalid LEA encoding". */
  BAD_LEA = 1 << 6,
  /** ENQCMD (f2 0f 38 f8): objtool warns, it cannot be used in the kernel. */
  ENQCMD = 1 << 7,
  /** mov $imm32, disp32(...) of 11 bytes (c7 /0): objtool's noinstr pv_ops[] init candidate. */
  PV_MOV_IMM = 1 << 8,
  /** Not decodable; only in results decoded with onInvalid: 'skip' (a one-byte placeholder). */
  INVALID = 1 << 9,
}

/**
 * Ints per stack op in DecodedSection.ops: the two types and registers a byte each (opWord()),
 * destOffset, srcOffset. (Packed: vmlinux.o has over a million stack ops.)
 */
export const OP_STRIDE = 3;

/** A stack op's first int: destType, destReg, srcType, srcReg from the low byte up (all < 256). */
export function opWord(destType: number, destReg: number, srcType: number, srcReg: number): number {
  return destType | (destReg << 8) | (srcType << 16) | (srcReg << 24);
}
export function opDestType(w: number): number {
  return w & 0xff;
}
export function opDestReg(w: number): number {
  return (w >>> 8) & 0xff;
}
export function opSrcType(w: number): number {
  return (w >>> 16) & 0xff;
}
export function opSrcReg(w: number): number {
  return w >>> 24;
}

/**
 * One executable section, decoded. Instruction i occupies [offset[i], offset[i] + len[i]).
 * Arrays are exactly `count` long.
 */
export interface DecodedSection {
  /** Section name, for objtool-style messages. */
  readonly section: string;
  /** Bytes covered (the section size, or the failing offset when decoding stopped). */
  readonly size: number;
  readonly count: number;
  readonly offset: Uint32Array;
  readonly len: Uint8Array;
  /** InsnType. */
  readonly type: Uint8Array;
  /** InsnFlag bits. */
  readonly flags: Uint16Array;
  /**
   * objtool's insn->immediate: the first immediate field, sign-extended from its size and
   * truncated to 32 bits as the kernel decoder does (rel8/rel32 of branches; low half of imm64
   * and of a moffs address); 0 if none.
   */
  readonly immediate: Int32Array;
  /** Branch/call destination as a section offset when flags has REL_TARGET, else 0. */
  readonly target: Int32Array;
  /** Byte position of the displacement (or moffs) field inside the instruction; 0 = none. */
  readonly dispPos: Uint8Array;
  /** Byte position of the first immediate (incl. a branch's rel8/rel32) inside the instruction; 0 = none. */
  readonly immPos: Uint8Array;
  /** Field sizes in bytes: displacement in the low nibble, immediate in the high nibble. */
  readonly fieldSizes: Uint8Array;
  /** First stack op of instruction i, in units of ops (index into ops is opStart * OP_STRIDE). */
  readonly opStart: Uint32Array;
  readonly opCount: Uint8Array;
  /** All stack ops, OP_STRIDE ints each. */
  readonly ops: Int32Array;
  /**
   * The first undecodable offset, as objtool's error (null if none). With onInvalid 'stop'
   * (the default) decoding ended there; with 'skip' it went on past a one-byte placeholder.
   */
  readonly error: X86DecodeError | null;
  /**
   * Drops columns no later pass reads (and what is derived from them): vmlinux.o's immediates
   * once branch destinations are known, its stack ops once it is walked, ~80 MB in all.
   * Reading one afterwards throws.
   */
  releaseColumns?(names: readonly ReleasableColumn[]): void;
}

export type ReleasableColumn = 'immediate' | 'opStart' | 'opCount' | 'ops';

/** A stack op as a plain object, for tests and debugging. */
export interface StackOp {
  dest: { type: OpDestType; reg: number; offset: number };
  src: { type: OpSrcType; reg: number; offset: number };
}

/** Fill `out` with stack op `j` of instruction i (no allocation: the path walk's way). */
export function readStackOp(ds: DecodedSection, i: number, j: number, out: StackOp): StackOp {
  const k = (ds.opStart[i]! + j) * OP_STRIDE;
  const o = ds.ops;
  const w = o[k]!;
  out.dest.type = opDestType(w);
  out.dest.reg = opDestReg(w);
  out.dest.offset = o[k + 1]!;
  out.src.type = opSrcType(w);
  out.src.reg = opSrcReg(w);
  out.src.offset = o[k + 2]!;
  return out;
}

/** The stack ops of instruction i as objects (allocates: not for hot paths). */
export function stackOps(ds: DecodedSection, i: number): StackOp[] {
  return Array.from({ length: ds.opCount[i]! }, (_, j) =>
    readStackOp(ds, i, j, { dest: { type: 0, reg: 0, offset: 0 }, src: { type: 0, reg: 0, offset: 0 } }));
}

/** Index of the instruction starting exactly at `offset`, or -1. */
export function indexAt(ds: DecodedSection, offset: number): number {
  const i = indexContaining(ds, offset);
  return i >= 0 && ds.offset[i] === offset ? i : -1;
}

/** Index of the instruction whose bytes include `offset`, or -1. */
export function indexContaining(ds: DecodedSection, offset: number): number {
  const off = ds.offset;
  let lo = 0;
  let hi = ds.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (off[mid] <= offset) lo = mid + 1;
    else hi = mid - 1;
  }
  // hi is now the last instruction starting at or before offset.
  if (hi < 0 || offset >= off[hi] + ds.len[hi]) return -1;
  return hi;
}

export function dispSize(ds: DecodedSection, i: number): number {
  return ds.fieldSizes[i] & 0xf;
}

export function immSize(ds: DecodedSection, i: number): number {
  return ds.fieldSizes[i] >>> 4;
}

/** Which field of instruction i a relocation at byte `pos` inside it patches. */
export function fieldAt(ds: DecodedSection, i: number, pos: number): 'disp' | 'imm' | null {
  const dp = ds.dispPos[i];
  if (dp !== 0 && pos >= dp && pos < dp + (ds.fieldSizes[i] & 0xf)) return 'disp';
  const ip = ds.immPos[i];
  if (ip !== 0 && pos >= ip && pos < ip + (ds.fieldSizes[i] >>> 4)) return 'imm';
  return null;
}

/**
 * The byte position where a relocation for instruction i's call/jump destination or memory
 * operand is expected: the rel32 of a branch, else a 32-bit displacement, else a 4- or 8-byte
 * immediate; 0 if none. An instruction with both a disp32 and an imm32 has two such fields:
 * use dispPos/immPos and fieldAt() for those.
 */
export function relocFieldPos(ds: DecodedSection, i: number): number {
  if (ds.flags[i] & InsnFlag.REL_TARGET) return ds.immPos[i];
  const sizes = ds.fieldSizes[i];
  if ((sizes & 0xf) >= 4) return ds.dispPos[i];
  if (sizes >>> 4 >= 4) return ds.immPos[i];
  return 0;
}

/** InsnType's names by value (a const enum has no reverse mapping). */
const TYPE_NAMES = ['JUMP_CONDITIONAL', 'JUMP_UNCONDITIONAL', 'JUMP_DYNAMIC', 'JUMP_DYNAMIC_CONDITIONAL', 'CALL', 'CALL_DYNAMIC', 'RETURN',
  'CONTEXT_SWITCH', 'BUG', 'NOP', 'STAC', 'CLAC', 'STD', 'CLD', 'TRAP', 'ENDBR', 'OTHER', 'SYSCALL', 'SYSRET'];

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `?${t}`;
}
