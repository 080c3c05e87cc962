// SPDX-License-Identifier: GPL-2.0-only
// objtool's instruction type for one decoded instruction: the type half of
// arch_decode_instruction() in tools/objtool/arch/x86/decode.c as of Linux 6.12.117 (6.1.192
// differs only where variant.ts says). Types decode.c does not give are check.c's business and
// not made here: e.g. a call/jmp to a retpoline thunk (__x86_indirect_*) is CALL/JUMP here and
// becomes dynamic in the analysis once its relocation is seen; a jump through a jump table is
// JUMP_DYNAMIC here whatever check.c later finds.
import { InsnType } from './insn.js';
import type { InsnLayout } from './layout.js';
import { DECODER_6_12, type DecoderVariant } from './variant.js';

/**
 * `inFunc` answers, for iret only, whether the instruction lies inside an STT_FUNC symbol:
 * there it is sync_core()'s IRET-to-self and stays OTHER (with a stack op), elsewhere it is
 * entry code leaving the kernel.
 */
export function classifyType(l: InsnLayout, inFunc: boolean, variant: DecoderVariant = DECODER_6_12): InsnType {
  if (l.vex) return InsnType.OTHER;
  const op1 = l.op1;
  const sysret = variant.syscallSysret ? InsnType.SYSRET : InsnType.CONTEXT_SWITCH;
  switch (op1 >>> 4) {
    case 0x7:
      return InsnType.JUMP_CONDITIONAL;
    case 0x0:
      return op1 === 0x0f ? classify0f(l, variant) : InsnType.OTHER;
    case 0x9:
      // 6.12 takes every 0x90 as a NOP, PAUSE (f3 90) and xchg %eax,%r8d (41 90) included.
      if (op1 !== 0x90) return InsnType.OTHER;
      if (variant.strictNops && ((l.rex & 1) !== 0 || l.prefix0 === 0xf3)) return InsnType.OTHER;
      return InsnType.NOP;
    case 0xc:
      switch (op1) {
        case 0xc2: case 0xc3: return InsnType.RETURN;
        case 0xca: case 0xcb: return sysret; // retf
        case 0xcc: return InsnType.TRAP; // int3
        case 0xcf: return inFunc ? InsnType.OTHER : sysret; // iret
        default: return InsnType.OTHER;
      }
    case 0xe:
      switch (op1) {
        case 0xe0: case 0xe1: case 0xe2: case 0xe3: return InsnType.JUMP_CONDITIONAL; // loop*, jrcxz
        case 0xe8: return InsnType.CALL;
        case 0xe9: case 0xeb: return InsnType.JUMP_UNCONDITIONAL;
        default: return InsnType.OTHER;
      }
    case 0xf:
      switch (op1) {
        case 0xfc: return InsnType.CLD;
        case 0xfd: return InsnType.STD;
        case 0xff: {
          // objtool's modrm_reg includes REX.R, so a REX.R-prefixed ff /2 is not a call to it.
          const reg = ((l.modrm >>> 3) & 7) + ((l.rex & 4) << 1);
          if (reg === 2 || reg === 3) return InsnType.CALL_DYNAMIC;
          if (reg === 4) return InsnType.JUMP_DYNAMIC;
          if (reg === 5) return sysret; // jmpf
          return InsnType.OTHER;
        }
        default: return InsnType.OTHER;
      }
    case 0xd:
      return op1 === 0xd6 && variant.udbIsBug ? InsnType.BUG : InsnType.OTHER; // udb
    default:
      return InsnType.OTHER;
  }
}

function classify0f(l: InsnLayout, variant: DecoderVariant): InsnType {
  const op2 = l.op2;
  if (op2 === 0x01) {
    // insn_last_prefix_id() is REPE/REPNE when the kernel's prefixes.bytes[3] is f3/f2.
    if (variant.eretuErets && (l.lastPrefix === 0xf3 || l.lastPrefix === 0xf2)) {
      return l.modrm === 0xca ? (variant.syscallSysret ? InsnType.SYSRET : InsnType.CONTEXT_SWITCH) : InsnType.OTHER; // eretu, erets
    }
    if (l.modrm === 0xca) return InsnType.CLAC;
    if (l.modrm === 0xcb) return InsnType.STAC;
    return InsnType.OTHER;
  }
  if (op2 >= 0x80 && op2 <= 0x8f) return InsnType.JUMP_CONDITIONAL;
  switch (op2) {
    case 0x05: case 0x34: // syscall, sysenter
      return variant.syscallSysret ? InsnType.SYSCALL : InsnType.CONTEXT_SWITCH;
    case 0x07: case 0x35: // sysret, sysexit
      return variant.syscallSysret ? InsnType.SYSRET : InsnType.CONTEXT_SWITCH;
    case 0x0b: case 0xb9: // ud2, ud1
      return InsnType.BUG;
    case 0x0d: // prefetch: a NOP up to 6.12
      return variant.strictNops ? InsnType.OTHER : InsnType.NOP;
    case 0x1f: // NOPL: 6.12 any ModRM reg, 7.x only /0 (objtool's modrm_reg includes REX.R)
      return !variant.strictNops || (((l.modrm >>> 3) & 7) | ((l.rex & 4) << 1)) === 0 ? InsnType.NOP : InsnType.OTHER;
    case 0x1e: // endbr64 / endbr32: objtool checks the first prefix byte
      return l.prefix0 === 0xf3 && (l.modrm === 0xfa || l.modrm === 0xfb) ? InsnType.ENDBR : InsnType.OTHER;
    default:
      return InsnType.OTHER;
  }
}
