// SPDX-License-Identifier: GPL-2.0-only
// One ORC entry (struct orc_entry, arch/x86/include/asm/orc_types.h): the model, its register and
// type numbers, and its 6-byte encoding in each kernel era.
//
// Bytes 0-1 hold sp_offset (s16), 2-3 bp_offset (s16), 4-5 a little-endian flags word: sp_reg in
// bits 0-3, bp_reg in bits 4-7, then per era (OrcEntryLayout):
//   <= 6.2: type:2 (bits 8-9), end (bit 10)
//   6.3:    type:2 (bits 8-9), signal (bit 10), end (bit 11)
//   6.4+:   type:3 (bits 8-10), signal (bit 11)
// Bits beyond the fields are zero when objtool writes an entry and ignored when it reads one.
import type { OrcEntryLayout } from '../kernel/versions.js';

export const ORC_ENTRY_SIZE = 6;
/** Size of one .orc_unwind_ip slot (an s32 filled in by an R_X86_64_PC32 relocation). */
export const ORC_IP_SIZE = 4;

// The registers an entry names, version-neutral: the numbers of orc_types.h from 4.14 to 7.0,
// plus AX. An entry holds these; the era's own numbers (renumbered in 7.1/7.2) are applied only
// where bytes are read or written, through OrcEntryLayout.regs (see orcRegToRaw/orcRegFromRaw).
export const ORC_REG_UNDEFINED = 0;
export const ORC_REG_PREV_SP = 1;
export const ORC_REG_DX = 2;
export const ORC_REG_DI = 3;
export const ORC_REG_BP = 4;
export const ORC_REG_SP = 5;
export const ORC_REG_R10 = 6;
export const ORC_REG_R13 = 7;
export const ORC_REG_BP_INDIRECT = 8;
export const ORC_REG_SP_INDIRECT = 9;
/** RAX as a CFA base (Clang's DRAP sequence): only eras that number it have it (7.2+: 1). */
export const ORC_REG_AX = 10;
export const ORC_REG_MAX = 15;
/** A raw number the era does not define reads as this plus the number, so that it writes back unchanged. */
const ORC_REG_UNKNOWN_BASE = 16;

/** The names of the neutral registers, in their order, for the era tables (versions.ts). */
export const ORC_REG_NAMES = [
  'UNDEFINED', 'PREV_SP', 'DX', 'DI', 'BP', 'SP', 'R10', 'R13', 'BP_INDIRECT', 'SP_INDIRECT', 'AX',
] as const;
export type OrcRegName = (typeof ORC_REG_NAMES)[number];

/** An era's register numbering as the two look-up arrays the encoders use. */
export interface OrcRegCodec {
  /** Neutral register -> the era's 4-bit number (-1: the era has no such register). */
  toRaw: Int8Array;
  /** The era's 4-bit number -> neutral register (unknown numbers: ORC_REG_UNKNOWN_BASE + raw). */
  fromRaw: Int8Array;
}

const codecs = new WeakMap<object, OrcRegCodec>();

/** The codec of an era's table `{ SP: 5, ... }` (made once per table). */
export function orcRegCodec(regs: Readonly<Partial<Record<OrcRegName, number>>>): OrcRegCodec {
  let c = codecs.get(regs);
  if (c) return c;
  const toRaw = new Int8Array(ORC_REG_NAMES.length).fill(-1);
  const fromRaw = new Int8Array(16);
  for (let raw = 0; raw < 16; raw++) fromRaw[raw] = ORC_REG_UNKNOWN_BASE + raw;
  ORC_REG_NAMES.forEach((name, neutral) => {
    const raw = regs[name];
    if (raw === undefined) return;
    toRaw[neutral] = raw;
    fromRaw[raw] = neutral;
  });
  c = { toRaw, fromRaw };
  codecs.set(regs, c);
  return c;
}

/** The era's number for a neutral register (an unknown one read from bytes goes back as it was). */
export function orcRegToRaw(reg: number, layout: OrcEntryLayout): number {
  if (reg >= ORC_REG_UNKNOWN_BASE) return reg - ORC_REG_UNKNOWN_BASE;
  const raw = orcRegCodec(layout.regs).toRaw[reg] ?? -1;
  return raw < 0 ? reg : raw;
}

/** The neutral register of an era's number. */
export function orcRegFromRaw(raw: number, layout: OrcEntryLayout): number {
  return orcRegCodec(layout.regs).fromRaw[raw & 0xf]!;
}

/** Whether the era can express this neutral register. */
export function orcRegExists(reg: number, layout: OrcEntryLayout): boolean {
  return (orcRegCodec(layout.regs).toRaw[reg] ?? -1) >= 0;
}

// Entry types up to 6.3: the UNWIND_HINT_TYPE_* numbers.
export const ORC_V1_TYPE_CALL = 0;
export const ORC_V1_TYPE_REGS = 1;
export const ORC_V1_TYPE_REGS_PARTIAL = 2;

// Entry types from 6.4 (ORC_TYPE_*).
export const ORC_TYPE_UNDEFINED = 0;
export const ORC_TYPE_END_OF_STACK = 1;
export const ORC_TYPE_CALL = 2;
export const ORC_TYPE_REGS = 3;
export const ORC_TYPE_REGS_PARTIAL = 4;

export interface OrcEntry {
  /** s16 */
  spOffset: number;
  /** s16 */
  bpOffset: number;
  /** ORC_REG_* (neutral numbering; see orcRegToRaw) */
  spReg: number;
  /** ORC_REG_* (neutral numbering) */
  bpReg: number;
  /** The era's type number (2 or 3 bits). */
  type: number;
  /** 6.3+ only; always false up to 6.2. */
  signal: boolean;
  /** Up to 6.3 only; always false from 6.4. */
  end: boolean;
}

/** The all-zero entry: a section terminator, and "undefined" in every era. */
export function zeroOrcEntry(): OrcEntry {
  return { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, signal: false, end: false };
}

/**
 * The 16-bit flags word of an entry in this layout. Fields are truncated to their widths as C
 * bitfield assignment does; a field the layout lacks is dropped.
 */
export function orcFlags(e: OrcEntry, layout: OrcEntryLayout): number {
  const sp = orcRegToRaw(e.spReg, layout);
  const bp = orcRegToRaw(e.bpReg, layout);
  let f = (sp & 0xf) | ((bp & 0xf) << 4) | ((e.type & ((1 << layout.typeBits) - 1)) << 8);
  if (e.signal && layout.signalBit !== undefined) f |= 1 << layout.signalBit;
  if (e.end && layout.endBit !== undefined) f |= 1 << layout.endBit;
  return f;
}

/**
 * The entry's 6 bytes as one integer below 2^48 (bytes 0-5 little-endian), exact in a double:
 * equal keys mean equal bytes, which is what objtool's memcmp() deduplication compares.
 */
export function orcKey(e: OrcEntry, layout: OrcEntryLayout): number {
  const lo = ((e.spOffset & 0xffff) | ((e.bpOffset & 0xffff) << 16)) >>> 0;
  return orcFlags(e, layout) * 0x1_0000_0000 + lo;
}

/** Write the key's 6 bytes at `at`. */
export function storeOrcKey(key: number, out: Uint8Array, at: number): void {
  const lo = key % 0x1_0000_0000;
  const hi = (key - lo) / 0x1_0000_0000;
  out[at] = lo & 0xff;
  out[at + 1] = (lo >>> 8) & 0xff;
  out[at + 2] = (lo >>> 16) & 0xff;
  out[at + 3] = lo >>> 24;
  out[at + 4] = hi & 0xff;
  out[at + 5] = hi >>> 8;
}

/** The key of the 6 bytes at `at`. */
export function loadOrcKey(bytes: Uint8Array, at: number): number {
  const lo = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
  return (bytes[at + 4]! | (bytes[at + 5]! << 8)) * 0x1_0000_0000 + lo;
}

/** Encode an entry into `out` at `at` (6 bytes). */
export function packOrcEntry(e: OrcEntry, layout: OrcEntryLayout, out: Uint8Array, at = 0): void {
  storeOrcKey(orcKey(e, layout), out, at);
}

/** The entry's 6 bytes. */
export function encodeOrcEntry(e: OrcEntry, layout: OrcEntryLayout): Uint8Array {
  const out = new Uint8Array(ORC_ENTRY_SIZE);
  packOrcEntry(e, layout, out);
  return out;
}

/** Decode the flags word of an entry in this layout into `e` (offsets untouched). */
export function applyOrcFlags(flags: number, layout: OrcEntryLayout, e: OrcEntry): OrcEntry {
  const { fromRaw } = orcRegCodec(layout.regs);
  e.spReg = fromRaw[flags & 0xf]!;
  e.bpReg = fromRaw[(flags >> 4) & 0xf]!;
  e.type = (flags >> 8) & ((1 << layout.typeBits) - 1);
  e.signal = layout.signalBit !== undefined && ((flags >> layout.signalBit) & 1) === 1;
  e.end = layout.endBit !== undefined && ((flags >> layout.endBit) & 1) === 1;
  return e;
}

/** Decode the 6 bytes at `at`. Bits outside the layout's fields are ignored, as objtool's bitfields do. */
export function unpackOrcEntry(bytes: Uint8Array, at: number, layout: OrcEntryLayout, into?: OrcEntry): OrcEntry {
  const e = into ?? zeroOrcEntry();
  e.spOffset = ((bytes[at]! | (bytes[at + 1]! << 8)) << 16) >> 16;
  e.bpOffset = ((bytes[at + 2]! | (bytes[at + 3]! << 8)) << 16) >> 16;
  return applyOrcFlags(bytes[at + 4]! | (bytes[at + 5]! << 8), layout, e);
}
