// SPDX-License-Identifier: GPL-2.0-only
// Splits one instruction's bytes into the fields the kernel's insn decoder reports to objtool:
// legacy prefixes, REX, VEX, opcode bytes, ModRM, SIB, displacement and immediate. iced has
// already said the instruction is valid and how long it is, so the immediate is simply what
// follows the displacement; all we need to know is which opcodes carry a ModRM byte.
// Pure JS on purpose: reading these through iced would cost a wasm call per field.

/** Fields of one instruction. One instance is reused for every instruction (no allocation). */
export class InsnLayout {
  /** Legacy prefix bytes, repeats included (the kernel's prefixes.nbytes). */
  nPrefix = 0;
  /** The kernel's prefixes.bytes[0]: the first distinct legacy prefix (0 if none). */
  prefix0 = 0;
  /** The kernel's prefixes.bytes[3]: the last legacy prefix (0 if none). */
  lastPrefix = 0;
  /** A 0x3e prefix byte is present. */
  notrack = false;
  /** A 0x2e prefix byte is present. */
  csPrefix = false;
  /** The REX byte that applies (0 if none). */
  rex = 0;
  /** VEX, EVEX or XOP encoded. */
  vex = false;
  /**
   * Opcode bytes as the kernel decoder records them: op2 only after 0f, op3 only after
   * 0f 38/3a. For VEX/EVEX/XOP, op1 is the prefix byte and op2 the opcode after it.
   */
  op1 = 0;
  op2 = 0;
  op3 = 0;
  hasModrm = false;
  modrm = 0;
  hasSib = false;
  sib = 0;
  /** Position of the displacement (or moffs) inside the instruction; 0 = none. */
  dispPos = 0;
  dispSize = 0;
  /** Sign-extended displacement, low 32 bits of a moffs (the kernel's displacement.value). */
  dispValue = 0;
  /** Position of the first immediate inside the instruction; 0 = none. */
  immPos = 0;
  immSize = 0;
  /** The kernel's immediate.value: the first immediate sign-extended, low 32 bits of an imm64/moffs. */
  immValue = 0;
  /** The memory operand is RIP-relative (ModRM mod 00, r/m 101). */
  rip = false;
}

const LEGACY_PREFIX = new Uint8Array(256);
for (const b of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) LEGACY_PREFIX[b] = 1;

function table(ranges: Array<[number, number]>): Uint8Array {
  const t = new Uint8Array(256);
  for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) t[b] = 1;
  return t;
}

/** One-byte opcodes (64-bit mode) followed by a ModRM byte. */
const MODRM_1 = table([
  [0x00, 0x03], [0x08, 0x0b], [0x10, 0x13], [0x18, 0x1b],
  [0x20, 0x23], [0x28, 0x2b], [0x30, 0x33], [0x38, 0x3b],
  [0x62, 0x63], [0x69, 0x69], [0x6b, 0x6b], [0x80, 0x8f],
  [0xc0, 0xc1], [0xc4, 0xc7], [0xd0, 0xd3], [0xd8, 0xdf],
  [0xf6, 0xf7], [0xfe, 0xff],
]);

/**
 * Two-byte opcodes 0f xx followed by a ModRM byte (0f 38 and 0f 3a maps always have one).
 * 0f a6/a7 (VIA PadLock) count: their third byte is laid out like a register-form ModRM.
 */
const MODRM_2 = table([
  [0x00, 0x03], [0x0d, 0x0d], [0x0f, 0x0f],
  [0x10, 0x2f], [0x40, 0x76], [0x78, 0x7f],
  [0x90, 0x9f], [0xa3, 0xa7], [0xab, 0xaf],
  [0xb0, 0xc7], [0xd0, 0xff],
]);

/** VEX 0f 3a opcodes whose imm8 only names a register (vblendv*, vpermil2*, FMA4). */
const IS4_MAP3 = table([[0x48, 0x4c], [0x5c, 0x5f], [0x68, 0x6f], [0x78, 0x7f]]);

function s8(b: number): number {
  return (b << 24) >> 24;
}

function readField(bytes: Uint8Array, p: number, size: number): number {
  switch (size) {
    case 1: return s8(bytes[p]);
    case 2: return ((bytes[p] | (bytes[p + 1] << 8)) << 16) >> 16;
    case 0: return 0;
    default: // 4, or the low half of 8
      return bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
  }
}

/**
 * Fills `l` from the instruction at bytes[start, start + len). `len` must come from a decoder
 * that accepted the instruction, so no bounds checks are needed inside it.
 */
export function parseLayout(bytes: Uint8Array, start: number, len: number, l: InsnLayout): void {
  // Everything is worked out in locals and stored once at the end: this runs per instruction.
  const end = start + len;
  let p = start;
  let b = bytes[p];
  let vex = false;
  let op2 = 0, op3 = 0;
  let hasModrm = false;
  let modrm = 0, hasSib = false, sib = 0, rip = false;
  let dispPos = 0, dispSize = 0, dispValue = 0;
  let immPos = 0, immSize = 0, immValue = 0;
  let noImm = false;
  let regForm = false;

  if (LEGACY_PREFIX[b] !== 0 || (b & 0xf0) === 0x40) {
    p = parsePrefixes(bytes, p, end, l);
    b = bytes[p];
  } else {
    l.nPrefix = 0;
    l.prefix0 = 0;
    l.lastPrefix = 0;
    l.notrack = false;
    l.csPrefix = false;
    l.rex = 0;
  }
  const op1 = b;
  p++;

  if (b === 0x0f) {
    op2 = bytes[p++];
    if (op2 === 0x38 || op2 === 0x3a) {
      op3 = bytes[p++];
      hasModrm = true;
    } else {
      hasModrm = MODRM_2[op2] !== 0;
      // mov to/from %crN/%drN ignores ModRM.mod: always a register, never memory.
      regForm = op2 >= 0x20 && op2 <= 0x23;
      // 3DNow!: the trailing byte is an opcode suffix, not an immediate.
      noImm = op2 === 0x0f;
    }
  } else if (MODRM_1[b] !== 0) {
    hasModrm = true;
    if (b === 0xc4 || b === 0xc5 || b === 0x62 || (b === 0x8f && (bytes[p] & 0x1f) >= 8)) {
      // VEX (c4/c5), EVEX (62) and XOP (8f with map >= 8) are always those in 64-bit mode.
      vex = true;
      let map: number;
      if (b === 0xc5) {
        map = 1;
        p += 1;
      } else if (b === 0x62) {
        map = bytes[p] & 0x7;
        p += 3;
      } else {
        map = bytes[p] & 0x1f;
        p += 2;
      }
      op2 = bytes[p++];
      hasModrm = !(map === 1 && op2 === 0x77 && b !== 0x62); // vzeroupper/vzeroall
      // A trailing register-in-imm8 ("is4") operand is a register, not an immediate.
      if (map === 3 && b !== 0x62 && IS4_MAP3[op2] !== 0) noImm = true;
      else if (map === 8 && b === 0x8f && op2 < 0xc0) noImm = true; // XOP vpperm, vpcmov, vpmacs*
    }
  } else if (b >= 0xa0 && b <= 0xa3) {
    // mov between rAX and a moffs address: an 8-byte (4 with 0x67) absolute displacement,
    // which the kernel decoder reports as the immediate.
    dispPos = p - start;
    dispSize = end - p;
    dispValue = readField(bytes, p, 4);
    immValue = dispValue;
    noImm = true;
    p = end;
  }

  if (hasModrm) {
    modrm = bytes[p++];
    const mod = modrm >>> 6;
    if (mod !== 3 && !regForm) {
      const rm = modrm & 7;
      let dsz = mod === 1 ? 1 : mod === 2 ? 4 : 0;
      if (rm === 4) {
        sib = bytes[p++];
        hasSib = true;
        if (mod === 0 && (sib & 7) === 5) dsz = 4;
      } else if (mod === 0 && rm === 5) {
        dsz = 4;
        rip = true;
      }
      if (dsz !== 0) {
        dispPos = p - start;
        dispSize = dsz;
        dispValue = readField(bytes, p, dsz);
        p += dsz;
      }
    }
  }

  if (p < end && !noImm) {
    immSize = end - p;
    if (op1 === 0x0f) {
      if (op2 === 0x78 && immSize === 2) immSize = 1; // extrq/insertq $ib, $ib
    } else if (op1 === 0xc8) {
      immSize = 2; // enter $iw, $ib
    }
    immPos = p - start;
    immValue = readField(bytes, p, immSize);
  }

  l.vex = vex;
  l.op1 = op1;
  l.op2 = op2;
  l.op3 = op3;
  l.hasModrm = hasModrm;
  l.modrm = modrm;
  l.hasSib = hasSib;
  l.sib = sib;
  l.rip = rip;
  l.dispPos = dispPos;
  l.dispSize = dispSize;
  l.dispValue = dispValue;
  l.immPos = immPos;
  l.immSize = immSize;
  l.immValue = immValue;
}

/** Legacy prefixes and REX, the kernel decoder's way (insn_get_prefixes). Returns the opcode position. */
function parsePrefixes(bytes: Uint8Array, p: number, end: number, l: InsnLayout): number {
  // Up to four distinct prefixes; the last one seen is moved into the fourth slot.
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  let nb = 0;
  let last = 0;
  let rex = 0;
  let nPrefix = 0;
  let notrack = false;
  let cs = false;
  for (; p < end; p++) {
    const b = bytes[p];
    if ((b & 0xf0) === 0x40) {
      rex = b;
      continue;
    }
    if (LEGACY_PREFIX[b] === 0) break;
    // A REX followed by a legacy prefix is ignored by the CPU (and iced).
    rex = 0;
    nPrefix++;
    last = b;
    if (b === 0x3e) notrack = true;
    else if (b === 0x2e) cs = true;
    if (b === b0 || b === b1 || b === b2 || b === b3) continue;
    switch (nb) {
      case 0: b0 = b; break;
      case 1: b1 = b; break;
      case 2: b2 = b; break;
      case 3: b3 = b; break;
      default: break; // a fifth distinct prefix: the kernel's table has no room for it
    }
    nb++;
  }
  if (last !== 0 && last !== b3) {
    if (b3 !== 0) {
      if (b0 === last) b0 = b3;
      else if (b1 === last) b1 = b3;
      else if (b2 === last) b2 = b3;
    }
    b3 = last;
  }
  l.nPrefix = nPrefix;
  l.prefix0 = b0;
  l.lastPrefix = b3;
  l.notrack = notrack;
  l.csPrefix = cs;
  l.rex = rex;
  return p;
}
