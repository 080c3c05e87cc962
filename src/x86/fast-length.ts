// SPDX-License-Identifier: GPL-2.0-only
// The length of the most common kernel instructions, worked out here without asking iced:
// mov, push/pop, the ALU group, lea, test, shifts, jumps and calls, cmov/setcc, movzx/movsx,
// the long NOPs and endbr64 are 99% of the 5 million instructions of a 6.12 vmlinux.o, and each
// answer from iced costs three calls into its wasm. Only forms that iced accepts whatever their ModRM byte
// says are listed, with the prefixes that cannot change that; anything else is left to iced
// (a 0 answer). fast-length.test.ts holds this to iced over every ModRM byte of every opcode
// listed, under each prefix allowed.

/** What follows the opcode (bits of OP1/OP2): a ModRM byte, and an immediate of a kind. */
const enum F {
  NONE = 0,
  MODRM = 1 << 4,
  /** The ModRM byte must not name a register (lea). */
  MEM_ONLY = 1 << 5,
  /** ModRM.reg must be 0 (mov $imm, r/m). */
  REG0 = 1 << 6,
  /** Listed but a 0x66 prefix changes what it is (branches): left to iced then. */
  NO_66 = 1 << 7,
  /** A 0f xx opcode that stays what it is after 0x66 (nopw). */
  OK_66 = 1 << 9,
  // Immediate kinds (low nibble).
  I8 = 1,
  /** imm32, imm16 with 0x66. */
  IZ = 2,
  /** imm32, imm64 with REX.W, imm16 with 0x66 (mov $imm, %reg). */
  IV = 3,
  I16 = 4,
  /** test in the f6/f7 group: an immediate only for ModRM.reg 0 and 1 (I8 or IZ by opcode). */
  GRP3 = 5,
  /** ff group: not /7, nor far call/jmp (/3, /5) on a register. */
  GRP5 = 6,
  /** fe group: only /0 and /1. */
  GRP4 = 7,
}

/** Marks a listed opcode (whose other bits may all be 0). */
const LISTED = 1 << 8;
/** F bits by opcode byte: one-byte opcodes, and the second byte of 0f xx. */
const OP1 = new Uint16Array(256);
const OP2 = new Uint16Array(256);
function list(t: Uint16Array, lo: number, hi: number, f: number): void {
  for (let b = lo; b <= hi; b++) t[b] = f | LISTED;
}
// The ALU group: op r/m, r and op r, r/m; op %al, $ib; op %eax, $iz.
for (let op = 0x00; op <= 0x38; op += 8) {
  list(OP1, op, op + 3, F.MODRM);
  list(OP1, op + 4, op + 4, F.I8);
  list(OP1, op + 5, op + 5, F.IZ);
}
list(OP1, 0x50, 0x5f, F.NONE); // push/pop %reg
list(OP1, 0x63, 0x63, F.MODRM); // movsxd
list(OP1, 0x68, 0x68, F.IZ);
list(OP1, 0x69, 0x69, F.MODRM | F.IZ);
list(OP1, 0x6a, 0x6a, F.I8);
list(OP1, 0x6b, 0x6b, F.MODRM | F.I8);
list(OP1, 0x70, 0x7f, F.I8 | F.NO_66); // jcc rel8
list(OP1, 0x80, 0x80, F.MODRM | F.I8);
list(OP1, 0x81, 0x81, F.MODRM | F.IZ);
list(OP1, 0x83, 0x83, F.MODRM | F.I8);
list(OP1, 0x84, 0x8b, F.MODRM); // test, xchg, mov
list(OP1, 0x8d, 0x8d, F.MODRM | F.MEM_ONLY); // lea
list(OP1, 0x90, 0x99, F.NONE); // nop, xchg %reg,%eax, cbw/cwd
list(OP1, 0x9c, 0x9d, F.NONE); // pushf, popf
list(OP1, 0xa8, 0xa8, F.I8);
list(OP1, 0xa9, 0xa9, F.IZ);
list(OP1, 0xb0, 0xb7, F.I8);
list(OP1, 0xb8, 0xbf, F.IV);
list(OP1, 0xc0, 0xc1, F.MODRM | F.I8);
list(OP1, 0xc2, 0xc2, F.I16 | F.NO_66);
list(OP1, 0xc3, 0xc3, F.NONE | F.NO_66);
list(OP1, 0xc6, 0xc6, F.MODRM | F.REG0 | F.I8);
list(OP1, 0xc7, 0xc7, F.MODRM | F.REG0 | F.IZ);
list(OP1, 0xc9, 0xc9, F.NONE | F.NO_66);
list(OP1, 0xcc, 0xcc, F.NONE);
list(OP1, 0xd0, 0xd3, F.MODRM);
list(OP1, 0xe8, 0xe9, F.IZ | F.NO_66); // call/jmp rel32
list(OP1, 0xeb, 0xeb, F.I8 | F.NO_66);
list(OP1, 0xf6, 0xf6, F.MODRM | F.GRP3);
list(OP1, 0xf7, 0xf7, F.MODRM | F.GRP3);
list(OP1, 0xfe, 0xfe, F.MODRM | F.GRP4);
list(OP1, 0xff, 0xff, F.MODRM | F.GRP5);
// Two-byte opcodes, 0f xx, without 0x66 (which makes most of them SSE instructions).
list(OP2, 0x0b, 0x0b, F.NONE); // ud2
list(OP2, 0x1f, 0x1f, F.MODRM | F.OK_66); // nopl, nopw
list(OP2, 0x40, 0x4f, F.MODRM); // cmovcc
list(OP2, 0x80, 0x8f, F.IZ | F.NO_66); // jcc rel32
list(OP2, 0x90, 0x9f, F.MODRM); // setcc
list(OP2, 0xa3, 0xa3, F.MODRM); // bt
list(OP2, 0xab, 0xab, F.MODRM); // bts
list(OP2, 0xaf, 0xaf, F.MODRM); // imul
list(OP2, 0xb1, 0xb1, F.MODRM); // cmpxchg
list(OP2, 0xb3, 0xb3, F.MODRM); // btr
list(OP2, 0xb6, 0xb7, F.MODRM); // movzx
list(OP2, 0xbe, 0xbf, F.MODRM); // movsx
list(OP2, 0xc1, 0xc1, F.MODRM); // xadd
list(OP2, 0xc8, 0xcf, F.NONE); // bswap

/** Prefixes that change neither the length nor the validity of a listed form: segments. */
const SEGMENT = new Uint8Array(256);
for (const b of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) SEGMENT[b] = 1;

/**
 * The length of the instruction at bytes[pos] if it is one of the listed forms, else 0 (ask
 * iced). Never reads past `end`: a form cut short by it is left to iced too.
 */
export function fastLength(bytes: Uint8Array, pos: number, end: number): number {
  let p = pos;
  let b = bytes[p]!;
  // endbr64, at the start of nearly every function of an IBT kernel.
  if (b === 0xf3) {
    return p + 4 <= end && bytes[p + 1] === 0x0f && bytes[p + 2] === 0x1e && bytes[p + 3] === 0xfa ? 4 : 0;
  }
  let o16 = false;
  while (SEGMENT[b] === 1 || b === 0x66) {
    if (b === 0x66) o16 = true;
    if (++p >= end || p - pos > 4) return 0;
    b = bytes[p]!;
  }
  let rexW = false;
  if ((b & 0xf0) === 0x40) {
    rexW = (b & 8) !== 0;
    if (++p >= end) return 0;
    b = bytes[p]!;
  }
  let f: number;
  if (b === 0x0f) {
    if (++p >= end) return 0;
    f = OP2[bytes[p]!]!;
    if (o16 && (f & F.OK_66) === 0) return 0;
  } else {
    f = OP1[b]!;
  }
  if (f === 0 || (o16 && (f & F.NO_66) !== 0)) return 0;
  p++;
  let imm = f & 0xf;
  if ((f & F.MODRM) !== 0) {
    if (p >= end) return 0;
    const modrm = bytes[p++]!;
    const mod = modrm >>> 6;
    const reg = (modrm >>> 3) & 7;
    if (mod === 3) {
      if ((f & F.MEM_ONLY) !== 0) return 0;
    } else {
      const rm = modrm & 7;
      if (rm === 4) {
        if (p >= end) return 0;
        const sib = bytes[p++]!;
        if (mod === 0 && (sib & 7) === 5) p += 4;
      } else if (mod === 0 && rm === 5) {
        p += 4;
      }
      if (mod === 1) p += 1;
      else if (mod === 2) p += 4;
    }
    if ((f & F.REG0) !== 0 && reg !== 0) return 0;
    if (imm === F.GRP3) imm = reg < 2 ? (b === 0xf6 ? F.I8 : F.IZ) : F.NONE;
    else if (imm === F.GRP5) {
      if (reg === 7 || (mod === 3 && (reg === 3 || reg === 5))) return 0;
      imm = F.NONE;
    } else if (imm === F.GRP4) {
      if (reg > 1) return 0;
      imm = F.NONE;
    }
  }
  switch (imm) {
    case F.I8: p += 1; break;
    case F.IZ: p += o16 && !rexW ? 2 : 4; break;
    case F.IV: p += rexW ? 8 : o16 ? 2 : 4; break;
    case F.I16: p += 2; break;
    default: break;
  }
  return p <= end ? p - pos : 0;
}
