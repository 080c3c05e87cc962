// SPDX-License-Identifier: GPL-2.0-only
// The kernel's NOP handling at patch time (arch/x86/kernel/alternative.c): add_nops() with the
// 64-bit NOP table (src/x86/nops.ts) and optimize_nops() in its two versions — 6.1 merges runs of one-byte 0x90s into
// long NOPs; 6.12 merges any run of NOP/NOPL instructions into one NOP, or a JMP over INT3s when
// the run is longer than the longest NOP.
import { decodeSection, NOPS } from '../x86/index.js';


const PREFIXES = new Set([0x66, 0x67, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0xf0, 0xf2, 0xf3]);

/** The kernel's add_nops() (6.1): fill with NOPs of at most `max` bytes each. */
export function addNops(buf: Uint8Array, at: number, len: number, max: number): void {
  while (len > 0) {
    const n = Math.min(len, max);
    buf.set(NOPS[n]!, at);
    at += n;
    len -= n;
  }
}

/** 6.12 add_nop(): one NOP, or a JMP over INT3 padding when longer than the longest NOP. */
function addNop(buf: Uint8Array, at: number, len: number, max: number): void {
  if (!len) return;
  if (len <= max) {
    buf.set(NOPS[len]!, at);
    return;
  }
  const jmp = len < 128 ? 2 : 5;
  if (jmp === 2) {
    buf[at] = 0xeb;
    buf[at + 1] = len - 2;
  } else {
    buf[at] = 0xe9;
    new DataView(buf.buffer, buf.byteOffset).setInt32(at + 1, len - 5, true);
  }
  buf.fill(0xcc, at + jmp, at + len);
}

/** insn_is_nop(): NOP (but not REP NOP, i.e. PAUSE) and NOPL. */
function isNop(buf: Uint8Array, at: number, len: number): boolean {
  let i = at;
  while (i < at + len && (PREFIXES.has(buf[i]!) || (buf[i]! & 0xf0) === 0x40)) i++;
  if (buf[i] === 0x90) return buf[at] !== 0xf3;
  return buf[i] === 0x0f && buf[i + 1] === 0x1f;
}

/**
 * Instruction lengths along the decoding of `buf` from its start: len[i] for each instruction
 * boundary i, 0 elsewhere and past an undecodable instruction (where the kernel's loop stops).
 * Decoded once: the loops below only ever stand on these boundaries, and rewriting the bytes
 * of the instructions already passed changes none of the ones ahead.
 */
function lengths(buf: Uint8Array): Uint8Array {
  const ds = decodeSection(buf, 'patch buffer', { onInvalid: 'stop' });
  const len = new Uint8Array(buf.length);
  for (let k = 0; k < ds.count; k++) len[ds.offset[k]!] = ds.len[k]!;
  return len;
}

/** optimize_nops() of 6.12 on `buf` (the bytes of one site). */
export function optimizeNops612(buf: Uint8Array, max: number): void {
  const lens = lengths(buf);
  for (let i = 0; i < buf.length;) {
    const len = lens[i]!;
    if (len === 0) return;
    let next = i + len;
    if (isNop(buf, i, len)) {
      if (next === buf.length) return;
      // Skip the NOPs that follow.
      while (next < buf.length && lens[next]! !== 0 && isNop(buf, next, lens[next]!)) next += lens[next]!;
      addNop(buf, i, next - i, max);
    }
    i = next;
  }
}

/** optimize_nops() of 6.1: runs of one-byte 0x90 become long NOPs. */
export function optimizeNops61(buf: Uint8Array, max: number): void {
  const lens = lengths(buf);
  for (let i = 0; ;) {
    const len = lens[i]!;
    if (len === 0) return;
    if (len === 1 && buf[i] === 0x90) {
      let j = i;
      while (j < buf.length && buf[j] === 0x90) j++;
      const n = j - i;
      if (n > 1) addNops(buf, i, n, max);
      i += n;
    } else {
      i += len;
    }
    if (i >= buf.length) return;
  }
}
