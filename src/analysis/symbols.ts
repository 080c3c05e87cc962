// SPDX-License-Identifier: GPL-2.0-only
// Symbols as the analysis sees them (objtool's struct symbol): aliases, .cold parent/child
// links, the flags classify_symbols() sets, and the look-ups by offset with objtool's rules —
// zero-length symbols are not in the interval tree, overlapping symbols are visited by start
// and, at equal starts, in symbol-table order.
import type { ElfFile } from '../elf/reader.js';
import { STB_GLOBAL, STT_FILE, STT_FUNC, STT_NOTYPE, STT_SECTION } from '../elf/constants.js';
import { OrctoolError } from '../errors.js';

export class Sym {
  pfunc: Sym = this;
  cfunc: Sym = this;
  alias: Sym = this;
  uaccessSafe = false;
  staticCallTramp = false;
  retpolineThunk = false;
  returnThunk = false;
  embeddedInsn = false;
  fentry = false;
  profilingFunc = false;
  localLabel = false;
  warned = false;

  constructor(
    readonly idx: number,
    readonly name: string,
    readonly type: number,
    readonly bind: number,
    /** Section index; 0 for undefined and reserved sections. */
    readonly sec: number,
    readonly offset: number,
    /** st_size, shortened for a parent that encloses its .cold child (as objtool does). */
    public len: number,
  ) {}
}

interface Tree {
  syms: Sym[];
  /** maxEnd[k]: the furthest end among syms[0..k]. */
  maxEnd: Float64Array;
}

const STATIC_CALL_TRAMP_PREFIX = '__SCT__';

/** Index of the first symbol (sorted by start) that starts after `offset`. */
function firstAfter(syms: readonly Sym[], offset: number): number {
  let lo = 0;
  let hi = syms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (syms[mid]!.offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SymbolIndex {
  readonly all: Sym[] = [];
  /** Per section, every symbol in offset order (objtool's sec->symbol_list). */
  private lists = new Map<number, Sym[]>();
  private trees = new Map<number, Tree>();
  private names = new Map<string, Sym>();
  readonly numFiles: number;

  constructor(elf: ElfFile) {
    const t = elf.symbols;
    let files = 0;
    if (t) {
      for (let i = 0; i < t.count; i++) {
        const type = t.type(i);
        const sec = t.isDefined(i) ? t.shndx[i]! : 0;
        const name = type === STT_SECTION ? (elf.section(sec)?.name ?? '') : t.name(i);
        const s = new Sym(i, name, type, t.bind(i), sec, t.value[i]!, t.size[i]!);
        if (type === STT_FILE) files++;
        this.all.push(s);
        // Later symbols shadow earlier ones of the same name (objtool's hash lists add at the head).
        this.names.set(name, s);
      }
    }
    this.numFiles = files;
    for (const s of this.all) {
      if (s.idx === 0) continue;
      let l = this.lists.get(s.sec);
      if (!l) this.lists.set(s.sec, (l = []));
      l.push(s);
    }
    for (const l of this.lists.values()) l.sort((a, b) => a.offset - b.offset || a.idx - b.idx);
    // Aliases: an earlier symbol with the same offset, type and size points at the later one.
    for (const l of this.lists.values()) {
      for (let k = 1; k < l.length; k++) {
        const s = l[k]!;
        for (let j = k - 1; j >= 0 && l[j]!.offset === s.offset; j--) {
          const o = l[j]!;
          if (o.type === s.type && o.len === s.len && o.len > 0) o.alias = s;
        }
      }
    }
  }

  /** Link .cold children to their parents (objtool read_symbols()); throws if a parent is missing. */
  linkColdFunctions(file: string): void {
    for (const l of this.lists.values()) {
      for (const s of l) {
        if (s.type !== STT_FUNC) continue;
        const at = s.name.indexOf('.cold');
        if (at < 0) continue;
        const p = this.names.get(s.name.slice(0, at));
        if (!p) throw new OrctoolError(file, 'symbols', undefined, `${s.name}(): can't find parent function`);
        s.pfunc = p;
        p.cfunc = s;
        if (s.sec === p.sec && s.offset >= p.offset && s.offset + s.len === p.offset + p.len) p.len -= s.len;
      }
    }
    this.trees.clear();
  }

  /** objtool classify_symbols(). */
  classify(): void {
    for (const s of this.all) {
      if (s.type === STT_NOTYPE && s.name.startsWith('.L')) s.localLabel = true;
      if (s.bind !== STB_GLOBAL) continue;
      if (s.name.startsWith(STATIC_CALL_TRAMP_PREFIX)) s.staticCallTramp = true;
      if (s.name.startsWith('__x86_indirect_')) s.retpolineThunk = true;
      if (s.name === '__x86_return_thunk') s.returnThunk = true;
      if (s.name === 'retbleed_return_thunk' || s.name === 'srso_safe_ret') s.embeddedInsn = true;
      if (s.name === '__fentry__') s.fentry = true;
      if (s.name.startsWith('__sanitizer_cov_') || s.name.startsWith('__tsan_func_') || s.name === '__tsan_atomic_signal_fence') s.profilingFunc = true;
    }
  }

  byName(name: string): Sym | undefined {
    return this.names.get(name);
  }

  /** Every symbol of a section in objtool's list order. */
  inSection(sec: number): readonly Sym[] {
    return this.lists.get(sec) ?? [];
  }

  private tree(sec: number): Tree {
    let t = this.trees.get(sec);
    if (!t) {
      const syms = this.inSection(sec).filter((s) => s.len > 0);
      const maxEnd = new Float64Array(syms.length);
      let m = -1;
      syms.forEach((s, k) => {
        m = Math.max(m, s.offset + s.len);
        maxEnd[k] = m;
      });
      t = { syms, maxEnd };
      this.trees.set(sec, t);
    }
    return t;
  }

  /** Symbols whose [offset, offset+len) holds `offset`, in tree order (by start, then index). */
  private containing(sec: number, offset: number, pick: (s: Sym) => boolean): Sym | undefined {
    const { syms, maxEnd } = this.tree(sec);
    const lo = firstAfter(syms, offset);
    let best: Sym | undefined;
    for (let k = lo - 1; k >= 0 && maxEnd[k]! > offset; k--) {
      const s = syms[k]!;
      if (offset < s.offset + s.len && pick(s)) best = s;
    }
    return best;
  }

  findSymbolContaining(sec: number, offset: number): Sym | undefined {
    return this.containing(sec, offset, (s) => s.type !== STT_SECTION);
  }

  findFuncContaining(sec: number, offset: number): Sym | undefined {
    return this.containing(sec, offset, (s) => s.type === STT_FUNC);
  }

  findSymbolByOffset(sec: number, offset: number): Sym | undefined {
    return this.containing(sec, offset, (s) => s.offset === offset && s.type !== STT_SECTION);
  }

  findFuncByOffset(sec: number, offset: number): Sym | undefined {
    return this.containing(sec, offset, (s) => s.offset === offset && s.type === STT_FUNC);
  }

  /**
   * objtool find_symbol_hole_containing(): 0 when `offset` is inside a symbol or before the
   * first one; the size of the gap up to the next symbol; -1 for a gap running to the end.
   */
  findHoleContaining(sec: number, offset: number): number {
    const { syms } = this.tree(sec);
    if (this.containing(sec, offset, () => true)) return 0;
    const lo = firstAfter(syms, offset);
    if (lo === 0) return 0;
    return lo < syms.length ? syms[lo]!.offset - offset : -1;
  }
}
