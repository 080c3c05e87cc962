// SPDX-License-Identifier: GPL-2.0-only
// The kernel's NOP handling at patch time (arch/x86/kernel/alternative.c): add_nops() with the
// 64-bit NOP table (src/x86/nops.ts) and optimize_nops() in its two versions — 6.1 merges runs of one-byte 0x90s into
// long NOPs; 6.12 merges any run of NOP/NOPL instructions into one NOP, or a JMP over INT3s when
// the run is longer than the longest NOP.
import { decodeSection, NOPS } from '../x86/index.js';
import { InsnLayout, parseLayout } from '../x86/layout.js';


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

/** insn_is_nop() up to 6.12 (alternative.c): NOP (but not REP NOP, i.e. PAUSE) and NOPL. */
function isNop612(buf: Uint8Array, at: number, len: number): boolean {
  let i = at;
  while (i < at + len && (PREFIXES.has(buf[i]!) || (buf[i]! & 0xf0) === 0x40)) i++;
  if (buf[i] === 0x90) return buf[at] !== 0xf3;
  return buf[i] === 0x0f && buf[i + 1] === 0x1f;
}

const scratch = new InsnLayout();

/**
 * 7.x insn_is_nop() (arch/x86/lib/insn-eval.c): NOP (not PAUSE, not xchg %r8,%rax), NOPL /0,
 * and the instructions that do nothing: `mov %reg,%reg`, `lea 0(%reg),%reg` (64-bit, only a DS
 * prefix) and `jmp +0`. In an object an operand a relocation fills reads 0 here, yet is not:
 * `relocated` says which bytes are such.
 */
function isNop73(buf: Uint8Array, at: number, len: number, relocated: (off: number) => boolean): boolean {
  const l = scratch;
  parseLayout(buf, at, len, l);
  if (l.vex) return false;
  const rex = l.rex;
  const modrmReg = ((l.modrm >> 3) & 7) + ((rex & 4) << 1);
  let modrmRm = (l.modrm & 7) + ((rex & 1) << 3);
  const mod = l.modrm >> 6;
  if (l.hasSib) modrmRm = (l.sib & 7) + ((rex & 1) << 3);
  let rep = false;
  let onlyDs = true;
  for (let i = at; i < at + l.nPrefix; i++) {
    if (buf[i] === 0xf3) rep = true;
    if (buf[i] !== 0x3e) onlyDs = false;
  }
  const native = (rex & 8) !== 0 && !buf.subarray(at, at + l.nPrefix).includes(0x66);
  const fieldRelocated = (pos: number, size: number): boolean => {
    for (let k = 0; k < size; k++) if (relocated(at + pos + k)) return true;
    return false;
  };
  switch (l.op1) {
    case 0x0f:
      return l.op2 === 0x1f && modrmReg === 0;
    case 0x89:
      return mod === 3 && native && modrmReg === modrmRm;
    case 0x8d: {
      if (mod === 0 || mod === 3 || !native || l.dispValue !== 0 || fieldRelocated(l.dispPos, l.dispSize)) return false;
      if (l.hasSib && ((l.sib >> 6) !== 0 || (((l.sib >> 3) & 7) + ((rex & 2) << 2)) !== 4)) return false;
      return onlyDs && modrmReg === modrmRm;
    }
    case 0x90:
      return (rex & 1) === 0 && !rep;
    case 0xe9:
    case 0xeb:
      return l.immValue === 0 && !fieldRelocated(l.immPos, l.immSize);
    default:
      return false;
  }
}

/** Which insn_is_nop() optimize_nops() asks: '6.12' (up to 6.12) or '7.3' (insn-eval.c's). */
export type NopMatch = '6.12' | '7.3';

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

/**
 * optimize_nops() of 6.12 and 7.x on `buf` (the bytes of one site); `relocated` marks the bytes
 * a relocation will fill (7.x's wider insn_is_nop() must not take them for zeros).
 */
export function optimizeNops612(buf: Uint8Array, max: number, match: NopMatch = '6.12', relocated: (off: number) => boolean = () => false): void {
  const lens = lengths(buf);
  const isNop = match === '7.3' ? (b: Uint8Array, at: number, len: number) => isNop73(b, at, len, relocated) : isNop612;
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
  // (an empty site has nothing to optimize: the kernel's loop would decode past it)
  for (let i = 0; i < buf.length;) {
    const len = lens[i]!;
    if (!len) return;
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
