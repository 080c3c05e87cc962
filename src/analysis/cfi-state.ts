// SPDX-License-Identifier: GPL-2.0-only
// CFI state operations: the initial states, copying, objtool's full comparison (cficmp) and
// interning, so instructions that share a state share one object.
import { CFI_CFA, CFI_NUM_REGS, CFI_RA, CFI_UNDEFINED, type CfiReg, type CfiState, UnwindType } from './cfi.js';

const SP = 4;

/**
 * Register entries are replaced, never changed in place, so one entry serves all. (Not frozen:
 * a frozen object has a shape of its own, and the hot loops would see two kinds of entry.)
 */
const UNDEFINED_ENTRY: Readonly<CfiReg> = { base: CFI_UNDEFINED, offset: 0 };

function regs(): CfiReg[] {
  return new Array<CfiReg>(CFI_NUM_REGS).fill(UNDEFINED_ENTRY);
}

/** objtool init_cfi_state(): everything undefined. */
export function undefinedCfi(): CfiState {
  return {
    cfa: { base: CFI_UNDEFINED, offset: 0 }, regs: regs(), vals: regs(), stackSize: 0, drapReg: CFI_UNDEFINED,
    drapOffset: -1, type: UnwindType.CALL, bpScratch: false, drap: false, signal: false, end: false, forceUndefined: false, shared: 0,
    id: -1,
  };
}

/** arch_initial_func_cfi_state(): CFA = SP+8, return address at CFA-8. */
export const INITIAL_FUNC_CFA: Readonly<CfiReg> = { base: SP, offset: 8 };

export function isInitialReg(i: number, r: CfiReg): boolean {
  if (i === CFI_RA) return r.base === CFI_CFA && r.offset === -8;
  return r.base === CFI_UNDEFINED && r.offset === 0;
}

const SHARED_REGS = 1;
const SHARED_VALS = 2;

/** Where register `i` was saved; copies a shared array first. */
export function setReg(cfi: CfiState, i: number, r: CfiReg): void {
  if (cfi.shared && cfi.shared & SHARED_REGS) {
    cfi.regs = cfi.regs.slice();
    cfi.shared &= ~SHARED_REGS;
  }
  cfi.regs[i] = r;
}

/** What register `i` holds (stack-relative values); copies a shared array first. */
export function setVal(cfi: CfiState, i: number, r: CfiReg): void {
  if (cfi.shared && cfi.shared & SHARED_VALS) {
    cfi.vals = cfi.vals.slice();
    cfi.shared &= ~SHARED_VALS;
  }
  cfi.vals[i] = r;
}

const INITIAL_RA: Readonly<CfiReg> = { base: CFI_CFA, offset: -8 };

export function restoreInitialReg(cfi: CfiState, i: number): void {
  setReg(cfi, i, i === CFI_RA ? INITIAL_RA : UNDEFINED_ENTRY);
}

/** objtool set_func_state(): the state at a function's entry. */
export function setFuncState(cfi: CfiState): void {
  cfi.cfa = { base: INITIAL_FUNC_CFA.base, offset: INITIAL_FUNC_CFA.offset };
  for (let i = 0; i < CFI_NUM_REGS; i++) restoreInitialReg(cfi, i);
  cfi.stackSize = INITIAL_FUNC_CFA.offset;
  cfi.type = UnwindType.CALL;
}

export function funcCfi(): CfiState {
  const c = undefinedCfi();
  setFuncState(c);
  return c;
}

/**
 * A copy that shares the register arrays with the original until either writes to them (the
 * walk copies the state at every branch; most copies never change a register). Register
 * entries are never changed in place, only replaced.
 */
export function copyCfi(c: CfiState): CfiState {
  // (A fresh state of the one shape every state has, then the copy.)
  const d = undefinedCfi();
  loadCfi(d, c);
  return d;
}

/** copyCfi() into an existing state `d` (the walk's scratch state: no allocation). */
export function loadCfi(d: CfiState, c: CfiState): void {
  c.shared = SHARED_REGS | SHARED_VALS;
  d.cfa.base = c.cfa.base;
  d.cfa.offset = c.cfa.offset;
  d.regs = c.regs;
  d.vals = c.vals;
  d.stackSize = c.stackSize;
  d.drapReg = c.drapReg;
  d.drapOffset = c.drapOffset;
  d.type = c.type;
  d.bpScratch = c.bpScratch;
  d.drap = c.drap;
  d.signal = c.signal;
  d.end = c.end;
  d.forceUndefined = c.forceUndefined;
  d.shared = SHARED_REGS | SHARED_VALS;
}

function regsEqual(a: CfiReg[], b: CfiReg[]): boolean {
  if (a === b) return true;
  for (let i = 0; i < CFI_NUM_REGS; i++) if (a[i]!.base !== b[i]!.base || a[i]!.offset !== b[i]!.offset) return false;
  return true;
}

/** objtool cficmp() (a memcmp of the whole state): true when the states are the same. */
export function cfiEqual(a: CfiState, b: CfiState): boolean {
  return a === b || (a.cfa.base === b.cfa.base && a.cfa.offset === b.cfa.offset && a.stackSize === b.stackSize &&
    a.drapReg === b.drapReg && a.drapOffset === b.drapOffset && a.type === b.type && a.bpScratch === b.bpScratch &&
    a.drap === b.drap && a.signal === b.signal && a.end === b.end && a.forceUndefined === b.forceUndefined &&
    regsEqual(a.regs, b.regs) && regsEqual(a.vals, b.vals));
}

/** One murmur3 round: every input bit reaches every hash bit (multiplies alone only carry upwards). */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** A hash of every field cfiEqual compares (no strings: interning runs millions of times). */
function hash(c: CfiState): number {
  let h = mix(c.cfa.base, c.cfa.offset);
  h = mix(h, c.stackSize);
  h = mix(h, c.drapReg);
  h = mix(h, c.drapOffset);
  h = mix(h, c.type | (+c.bpScratch << 4) | (+c.drap << 5) | (+c.signal << 6) | (+c.end << 7) | (+c.forceUndefined << 8));
  for (let i = 0; i < CFI_NUM_REGS; i++) {
    const r = c.regs[i]!;
    const v = c.vals[i]!;
    h = mix(mix(h, r.base), r.offset);
    h = mix(mix(h, v.base), v.offset);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  // 30 bits: a Map key in V8's small-integer range, not a heap number.
  return h & 0x3fffffff;
}

/**
 * Interned, immutable CFI states (objtool's cfi_hash): equal states are one object, numbered in
 * the order they were first seen so that instructions can refer to them by number.
 */
export class CfiInterner {
  private buckets = new Map<number, CfiState | CfiState[]>();
  private readonly list: CfiState[] = [];

  get size(): number {
    return this.list.length;
  }

  intern(c: CfiState): CfiState {
    const h = hash(c);
    const b = this.buckets.get(h);
    if (b === undefined) {
      const s = this.add(c);
      this.buckets.set(h, s);
      return s;
    }
    if (!Array.isArray(b)) {
      if (cfiEqual(b, c)) return b;
      const s = this.add(c);
      this.buckets.set(h, [b, s]);
      return s;
    }
    for (const x of b) if (cfiEqual(x, c)) return x;
    const s = this.add(c);
    b.push(s);
    return s;
  }

  /** The number of an interned state (a state not interned yet is interned first). */
  idOf(c: CfiState): number {
    const id = c.id;
    if (id !== undefined && id >= 0 && this.list[id] === c) return id;
    return this.intern(c).id!;
  }

  byId(id: number): CfiState {
    return this.list[id]!;
  }

  private add(c: CfiState): CfiState {
    const s = copyCfi(c);
    s.id = this.list.length;
    this.list.push(s);
    return s;
  }
}
