// SPDX-License-Identifier: GPL-2.0-only
// The functions verify walks (with their .cold parts, here and in other sections), which
// ones objtool skips, and which function an address is in.
import type { ElfFile } from '../elf/reader.js';
import type { SymbolTable } from '../elf/symbols.js';
import { STT_FUNC } from '../elf/constants.js';
import type { KernelLayout } from '../kernel/versions.js';
import { readAnnotations } from '../kernel/annotations.js';

/** A function as verify walks it: its range, its .cold parts, and where else it has code. */
export interface Func {
  name: string;
  sec: number;
  start: number;
  end: number;
  /** The function's .cold part(s): reached only from the function, with its frame. */
  cold: { start: number; end: number }[];
  /**
   * Parts of the same function in other sections (GCC puts `.cold` parts in .text.unlikely), and
   * for such a part its parent and siblings: walked when a jump leaves for them.
   */
  away: Func[];
  /** Set when the frame at the entry cannot be known (a linked image's hinted functions): why. */
  opaque?: string;
  /** The code outside functions of a whole section, walked from its unwind hints. */
  whole?: boolean;
}

/** The parts of a function that has none (most): one shared, frozen list. */
const NO_PARTS = Object.freeze([]) as unknown as Func['cold'];
const NO_AWAY = Object.freeze([]) as unknown as Func['away'];

export function functions(elf: ElfFile, syms: SymbolTable | undefined): Func[] {
  const out: Func[] = [];
  if (!syms) return out;
  // Aliases (same section and value) share one walk, made for the first of them in symbol order:
  // found through the table's by-value order (vmlinux.o has ~200,000 functions; maps of them
  // by section and value cost more than the walks' set-up around them).
  const leader = new Int32Array(syms.count).fill(-1);
  for (const s of elf.sections) {
    if (!s.isExec) continue;
    const order = syms.inSection(s.index);
    for (let k = 0, first = -1, firstValue = -1; k < order.length; k++) {
      const i = order[k]!;
      if (syms.type(i) !== STT_FUNC || !syms.size[i]) continue;
      if (first < 0 || syms.value[i] !== firstValue) {
        first = i;
        firstValue = syms.value[i]!;
      }
      leader[i] = first;
    }
  }
  const funcOf = new Array<Func | undefined>(syms.count);
  // The names .cold parts are named after; the functions of each, aliases included.
  const parentNames = new Set<string>();
  for (let i = 1; i < syms.count; i++) {
    const l = leader[i]!;
    if (l < 0) continue;
    const name = syms.name(i);
    const at = name.indexOf('.cold');
    if (at > 0) parentNames.add(name.slice(0, at));
    if (l === i) {
      const value = syms.value[i]!;
      const f: Func = { name, sec: syms.shndx[i]!, start: value, end: value + syms.size[i]!, cold: NO_PARTS, away: NO_AWAY };
      funcOf[i] = f;
      out.push(f);
    }
  }
  // Every function of a name: static functions of different files may share one.
  const byName = new Map<string, Func[]>();
  if (parentNames.size) {
    for (let i = 1; i < syms.count; i++) {
      const l = leader[i]!;
      if (l < 0 || !parentNames.has(syms.name(i))) continue;
      const f = funcOf[l]!;
      const list = byName.get(syms.name(i));
      if (!list) byName.set(syms.name(i), [f]);
      else if (!list.includes(f)) list.push(f);
    }
  }
  // A .cold part is entered from its parent, never called: walk it as part of the parent (of
  // each function of that name: only the right one jumps there).
  const parents: Func[] = [];
  for (const f of out) {
    const at = f.name.indexOf('.cold');
    const ps = at > 0 ? byName.get(f.name.slice(0, at))?.filter((p) => !p.name.includes('.cold')) : undefined;
    if (!ps?.length) {
      parents.push(f);
      continue;
    }
    for (const p of ps) {
      if (p.sec === f.sec) (p.cold === NO_PARTS ? (p.cold = []) : p.cold).push({ start: f.start, end: f.end });
      else (p.away === NO_AWAY ? (p.away = []) : p.away).push(f);
    }
  }
  // A part elsewhere is walked on its own when a jump leaves for it: from there the parent and
  // the other parts are elsewhere in turn.
  for (const p of parents) {
    for (const a of p.away) for (const x of [p, ...p.away]) if (x !== a && !a.away.includes(x)) (a.away === NO_AWAY ? (a.away = []) : a.away).push(x);
  }
  return parents;
}

/** The functions STACK_FRAME_NON_STANDARD names (empty when unreadable: the check reports it). */
export function nonStandardFunctions(elf: ElfFile, layout: KernelLayout): Set<string> {
  try {
    const a = readAnnotations(elf, layout, new Set(['.discard.func_stack_frame_non_standard']));
    return new Set(a.ignoredFuncs.map((f) => elf.symbols!.name(f.sym)));
  } catch {
    return new Set();
  }
}

/** Functions by address: which one an alternative site is in. */
export class FuncIndex {
  private readonly bySec = new Map<number, { start: Float64Array; end: Float64Array; maxEnd: Float64Array; fn: Int32Array }>();

  constructor(fns: readonly Func[]) {
    // Ranges as flat [start, end, function] triples per section, sorted by start, then function.
    const lists = new Map<number, number[]>();
    fns.forEach((f, k) => {
      let l = lists.get(f.sec);
      if (!l) lists.set(f.sec, (l = []));
      l.push(f.start, f.end, k);
      for (const c of f.cold) l.push(c.start, c.end, k);
    });
    for (const [sec, l] of lists) {
      const n = l.length / 3;
      const order = new Int32Array(n);
      for (let j = 0; j < n; j++) order[j] = j;
      let sorted = true;
      for (let j = 1; j < n && sorted; j++) sorted = l[3 * j - 3]! < l[3 * j]! || (l[3 * j - 3] === l[3 * j] && l[3 * j - 1]! <= l[3 * j + 2]!);
      // (vmlinux.o: ~270,000 ranges, a comparator sort of them costs tens of milliseconds)
      if (!sorted) order.sort((a, b) => l[3 * a]! - l[3 * b]! || l[3 * a + 2]! - l[3 * b + 2]! || a - b);
      const start = new Float64Array(n);
      const end = new Float64Array(n);
      const maxEnd = new Float64Array(n);
      const fn = new Int32Array(n);
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const x = 3 * order[j]!;
        start[j] = l[x]!;
        end[j] = l[x + 1]!;
        fn[j] = l[x + 2]!;
        maxEnd[j] = m = Math.max(m, end[j]!);
      }
      this.bySec.set(sec, { start, end, maxEnd, fn });
    }
  }

  /** The first function (in symbol order) whose body or .cold part holds `off`, or -1. */
  of(sec: number, off: number): number {
    const e = this.bySec.get(sec);
    if (!e) return -1;
    let lo = 0;
    let hi = e.start.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (e.start[mid]! <= off) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    // Ranges may overlap: walk back while an earlier one can still reach `off`.
    for (let k = lo - 1; k >= 0 && e.maxEnd[k]! > off; k--) {
      if (off < e.end[k]! && (best < 0 || e.fn[k]! < best)) best = e.fn[k]!;
    }
    return best;
  }
}
