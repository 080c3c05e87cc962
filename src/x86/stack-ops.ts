// SPDX-License-Identifier: GPL-2.0-only
// objtool's stack ops for one decoded instruction: the ADD_OP half of
// arch_decode_instruction() in tools/objtool/arch/x86/decode.c as of Linux 6.12. Only the forms
// listed there get ops; everything else is left to the validator's "unknown" paths, as in objtool.
import { CfiReg, OP_STRIDE, OpDestType, OpSrcType, opWord } from './insn.js';
import type { InsnLayout } from './layout.js';
import { DECODER_6_12, type DecoderVariant } from './variant.js';

/** A growable flat buffer of stack ops, OP_STRIDE ints each. */
export class OpSink {
  ops: Int32Array;
  /** Ops written so far. */
  count = 0;

  constructor(capacity = 1024) {
    this.ops = new Int32Array(capacity * OP_STRIDE);
  }

  add(destType: OpDestType, destReg: number, destOffset: number,
      srcType: OpSrcType, srcReg: number, srcOffset: number): void {
    let k = this.count * OP_STRIDE;
    if (k + OP_STRIDE > this.ops.length) {
      const grown = new Int32Array(this.ops.length * 2);
      grown.set(this.ops);
      this.ops = grown;
    }
    const ops = this.ops;
    ops[k++] = opWord(destType, destReg, srcType, srcReg);
    ops[k++] = destOffset;
    ops[k] = srcOffset;
    this.count++;
  }

  /** Appends ops already laid out OP_STRIDE ints each (a part decoded elsewhere). */
  addAll(ops: Int32Array): void {
    const k = this.count * OP_STRIDE;
    if (k + ops.length > this.ops.length) {
      const grown = new Int32Array(Math.max(this.ops.length * 2, k + ops.length));
      grown.set(this.ops.subarray(0, k));
      this.ops = grown;
    }
    this.ops.set(ops, k);
    this.count += ops.length / OP_STRIDE;
  }

  /** The ops written, exactly: a copy when much is unused (to free it), else a view. */
  finish(): Int32Array {
    const n = this.count * OP_STRIDE;
    return this.ops.length - n > (n >>> 2) ? this.ops.slice(0, n) : this.ops.subarray(0, n);
  }
}

const SP = CfiReg.SP;
const BP = CfiReg.BP;

/** First opcode bytes that can have stack ops: most instructions leave on one table load. */
const MAY_HAVE_OPS = new Uint8Array(256);
for (const b of [0x01, 0x29, 0x0f, 0x68, 0x6a, 0x80, 0x81, 0x82, 0x83, 0x88, 0x89, 0x8b, 0x8d, 0x8f,
  0x9c, 0x9d, 0xc9, 0xcf, 0xe8, 0xff]) MAY_HAVE_OPS[b] = 1;
for (let b = 0x50; b <= 0x5f; b++) MAY_HAVE_OPS[b] = 1;

/**
 * Appends instruction `l`'s stack ops to `sink` and returns how many it added.
 * `inFunc`: for iret, whether it lies inside an STT_FUNC symbol (see classifyType).
 */
export function emitStackOps(l: InsnLayout, inFunc: boolean, sink: OpSink,
                             variant: DecoderVariant = DECODER_6_12): number {
  const op1 = l.op1;
  if (MAY_HAVE_OPS[op1] === 0 || l.vex) return 0;
  const rex = l.rex;
  const rexB = rex & 1;

  switch (op1) {
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      // push %reg
      sink.add(OpDestType.PUSH, 0, 0, OpSrcType.REG, (op1 & 7) + 8 * rexB, 0);
      return 1;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
      // pop %reg
      sink.add(OpDestType.REG, (op1 & 7) + 8 * rexB, 0, OpSrcType.POP, 0, 0);
      return 1;
    case 0x68: case 0x6a:
      // push $imm
      sink.add(OpDestType.PUSH, 0, 0, OpSrcType.CONST, 0, 0);
      return 1;
    case 0x8f:
      // pop to memory
      sink.add(OpDestType.MEM, 0, 0, OpSrcType.POP, 0, 0);
      return 1;
    case 0x9c:
      // pushf
      sink.add(OpDestType.PUSHF, 0, 0, OpSrcType.CONST, 0, 0);
      return 1;
    case 0x9d:
      // popf
      sink.add(OpDestType.MEM, 0, 0, OpSrcType.POPF, 0, 0);
      return 1;
    case 0xc9:
      // leave: mov %rbp,%rsp; pop %rbp
      sink.add(OpDestType.REG, SP, 0, OpSrcType.REG, BP, 0);
      sink.add(OpDestType.REG, BP, 0, OpSrcType.POP, 0, 0);
      return 2;
    case 0xcf:
      // sync_core()'s IRET-to-self pops a 5-word frame: add $40,%rsp
      if (!inFunc) return 0;
      sink.add(OpDestType.REG, SP, 0, OpSrcType.ADD, SP, 5 * 8);
      return 1;
    case 0xe8:
      // A call pushes the return address, like a push of a constant.
      sink.add(OpDestType.PUSH, 0, 0, OpSrcType.CONST, 0, 0);
      return 1;
    case 0x0f:
      switch (l.op2) {
        case 0xa0: case 0xa8: // push %fs / %gs
          sink.add(OpDestType.PUSH, 0, 0, OpSrcType.CONST, 0, 0);
          return 1;
        case 0xa1: case 0xa9: // pop %fs / %gs
          sink.add(OpDestType.MEM, 0, 0, OpSrcType.POP, 0, 0);
          return 1;
        default:
          return 0;
      }
    case 0x01: case 0x29: case 0x80: case 0x81: case 0x82: case 0x83:
    case 0x88: case 0x89: case 0x8b: case 0x8d: case 0xff:
      return modrmOps(l, sink, variant);
    default:
      return 0;
  }
}

/** The ModRM-addressed forms: add/sub/and to %rsp, mov to/from the stack, lea, push mem. */
function modrmOps(l: InsnLayout, sink: OpSink, variant: DecoderVariant): number {
  const op1 = l.op1;
  const rex = l.rex;
  const rexW = (rex >>> 3) & 1;
  const modrm = l.modrm;
  const mod = modrm >>> 6;
  // Register numbers include the REX extension bits, as objtool's modrm_reg/modrm_rm do.
  const reg = ((modrm >>> 3) & 7) + ((rex & 4) << 1);
  const rm = (modrm & 7) + ((rex & 1) << 3);
  const sib = l.sib;
  const sibIndex = ((sib >>> 3) & 7) + ((rex & 2) << 2);
  const sibBase = (sib & 7) + ((rex & 1) << 3);
  const isMem = mod !== 3;
  const isRip = (rm & 7) === 5 && mod === 0;
  const haveSib = (rm & 7) === 4 && isMem;
  const disp = l.dispValue;

  switch (op1) {
    case 0x01: case 0x29:
      // add/sub %reg,%rsp: objtool records both as ADD of the register
      if (rexW && mod === 3 && rm === SP) {
        sink.add(OpDestType.REG, SP, 0, OpSrcType.ADD, reg, 0);
        return 1;
      }
      return 0;

    case 0x80: case 0x81: case 0x82: case 0x83: {
      if (!rexW || !(mod === 3 && rm === SP)) return 0;
      // immValue is already sign-extended from the immediate's size, as objtool extends it.
      const imm = l.immValue;
      switch (reg & 7) {
        case 0: // add $imm,%rsp
          sink.add(OpDestType.REG, SP, 0, OpSrcType.ADD, SP, imm);
          return 1;
        case 5: // sub $imm,%rsp
          sink.add(OpDestType.REG, SP, 0, OpSrcType.ADD, SP, -imm | 0);
          return 1;
        case 4: // and $imm,%rsp
          sink.add(OpDestType.REG, SP, 0, OpSrcType.AND, SP, imm);
          return 1;
        default:
          return 0;
      }
    }

    case 0x89:
      if (!rexW) return 0;
      if (mod === 3) {
        // 6.12: mov %reg,%reg, any pair. 6.1: only mov %rsp,%reg and mov %reg,%rsp.
        if (variant.movRegReg || reg === SP || rm === SP) {
          sink.add(OpDestType.REG, rm, 0, OpSrcType.REG, reg, 0);
          return 1;
        }
        return 0;
      }
      if (reg === SP) {
        if (isRip) return 0;
        let base = rm;
        if (haveSib) {
          // only a plain base register, no index (a SIB without base still names 5, as objtool does)
          if (sibIndex !== SP) return 0;
          base = sibBase;
        }
        // mov %rsp,disp(%reg)
        sink.add(OpDestType.REG_INDIRECT, base, disp, OpSrcType.REG, SP, 0);
        return 1;
      }
      // objtool falls through to the 88 case (its SIB re-read there gives the same answer).
      return movToStack(l, reg, disp, sink, variant);

    case 0x88:
      if (!rexW) return 0;
      return movToStack(l, reg, disp, sink, variant);

    case 0x8b:
      if (!rexW) return 0;
      if (rmIsMem(l, BP, variant)) {
        // mov disp(%rbp),%reg
        sink.add(OpDestType.REG, reg, 0, OpSrcType.REG_INDIRECT, BP, disp);
        return 1;
      }
      if (rmIsMem(l, SP, variant)) {
        // mov disp(%rsp),%reg
        sink.add(OpDestType.REG, reg, 0, OpSrcType.REG_INDIRECT, SP, disp);
        return 1;
      }
      return 0;

    case 0x8d: {
      // lea; a register operand is an invalid encoding (flagged by the decoder)
      if (mod === 3 || !rexW || isRip) return 0;
      let base = rm;
      if (haveSib) {
        if (sibIndex !== SP) return 0;
        base = sibBase;
      }
      // lea (%src),%dst is a move; lea disp(%src),%dst an add
      if (disp === 0) sink.add(OpDestType.REG, reg, 0, OpSrcType.REG, base, 0);
      else sink.add(OpDestType.REG, reg, 0, OpSrcType.ADD, base, disp);
      return 1;
    }

    case 0xff:
      if (reg === 6) {
        // push from memory
        sink.add(OpDestType.PUSH, 0, 0, OpSrcType.CONST, 0, 0);
        return 1;
      }
      return 0;

    default:
      return 0;
  }
}

/** mov %reg,disp(%rbp) / mov %reg,disp(%rsp): a register save. */
function movToStack(l: InsnLayout, reg: number, disp: number, sink: OpSink, variant: DecoderVariant): number {
  if (rmIsMem(l, BP, variant)) {
    sink.add(OpDestType.REG_INDIRECT, BP, disp, OpSrcType.REG, reg, 0);
    return 1;
  }
  if (rmIsMem(l, SP, variant)) {
    sink.add(OpDestType.REG_INDIRECT, SP, disp, OpSrcType.REG, reg, 0);
    return 1;
  }
  return 0;
}

/**
 * objtool's rm_is_mem(): a memory operand addressed by exactly register `r`: not RIP-relative,
 * no index, and (6.12, variant.sibNoBase) not a SIB "base 101 with mod 00", which has no base
 * at all (6.1 takes that for %rbp).
 */
function rmIsMem(l: InsnLayout, r: number, variant: DecoderVariant): boolean {
  const modrm = l.modrm;
  const mod = modrm >>> 6;
  if (mod === 3) return false;
  const rm = (modrm & 7) + ((l.rex & 1) << 3);
  if ((rm & 7) === 5 && mod === 0) return false; // RIP-relative
  if ((rm & 7) !== 4) return rm === r;
  const sib = l.sib;
  const sibBase = (sib & 7) + ((l.rex & 1) << 3);
  const sibIndex = ((sib >>> 3) & 7) + ((l.rex & 2) << 2);
  return sibBase === r && sibIndex === SP && (!variant.sibNoBase || sibBase !== BP || mod !== 0);
}
