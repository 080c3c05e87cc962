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

export function functions(elf: ElfFile, syms: SymbolTable | undefined): Func[] {
  const out: Func[] = [];
  if (!syms) return out;
  // (vmlinux.o has ~200,000 functions: by section, then by value, numbers for keys)
  const seen = new Map<number, Map<number, Func>>();
  // Every name of every function, aliases included; the names .cold parts are named after.
  const names: string[] = [];
  const of: Func[] = [];
  const parentNames = new Set<string>();
  for (let i = 1; i < syms.count; i++) {
    if (syms.type(i) !== STT_FUNC || !syms.isDefined(i) || !syms.size[i]) continue;
    const sec = syms.shndx[i]!;
    const s = elf.section(sec);
    if (!s || !s.isExec) continue;
    const value = syms.value[i]!;
    let inSec = seen.get(sec);
    if (!inSec) seen.set(sec, (inSec = new Map()));
    const name = syms.name(i);
    const at = name.indexOf('.cold');
    if (at > 0) parentNames.add(name.slice(0, at));
    // Aliases share one walk; every name still finds it (a .cold part is named after one of them).
    let f = inSec.get(value);
    if (!f) {
      f = { name, sec, start: value, end: value + syms.size[i]!, cold: [], away: [] };
      inSec.set(value, f);
      out.push(f);
    }
    names.push(name);
    of.push(f);
  }
  // Every function of a name: static functions of different files may share one.
  const byName = new Map<string, Func[]>();
  for (let k = 0; k < names.length; k++) {
    if (!parentNames.has(names[k]!)) continue;
    const l = byName.get(names[k]!);
    if (!l) byName.set(names[k]!, [of[k]!]);
    else if (!l.includes(of[k]!)) l.push(of[k]!);
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
      if (p.sec === f.sec) p.cold.push({ start: f.start, end: f.end });
      else p.away.push(f);
    }
  }
  // A part elsewhere is walked on its own when a jump leaves for it: from there the parent and
  // the other parts are elsewhere in turn.
  for (const p of parents) {
    for (const a of p.away) for (const x of [p, ...p.away]) if (x !== a && !a.away.includes(x)) a.away.push(x);
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
