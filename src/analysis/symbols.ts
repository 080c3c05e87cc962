// SPDX-License-Identifier: GPL-2.0-only
// Symbols as the analysis sees them (objtool's struct symbol): aliases, .cold parent/child
// links, the flags classify_symbols() sets, and the look-ups by offset with objtool's rules —
// zero-length symbols are not in the interval tree, overlapping symbols are visited by start
// and, at equal starts, in symbol-table order.
import type { ElfFile } from '../elf/reader.js';
import { STB_GLOBAL, STB_LOCAL, STT_FILE, STT_FUNC, STT_NOTYPE, STT_SECTION } from '../elf/constants.js';
import { OrctoolError } from '../errors.js';
import type { CheckRules, SymbolClasses } from '../kernel/versions.js';

/** Sym's yes/no facts, one bit each of Sym.bits. */
const enum Bit {
  UACCESS_SAFE = 1 << 0,
  STATIC_CALL_TRAMP = 1 << 1,
  RETPOLINE_THUNK = 1 << 2,
  RETURN_THUNK = 1 << 3,
  EMBEDDED_INSN = 1 << 4,
  FENTRY = 1 << 5,
  PROFILING_FUNC = 1 << 6,
  LOCAL_LABEL = 1 << 7,
  WARNED = 1 << 8,
  NOCFI = 1 << 9,
}

// vmlinux.o has ~150,000 symbols, all made at once and all kept: the flags share one field so
// that each object is small (fewer bytes for the young-generation collections to copy).
export class Sym {
  pfunc: Sym = this;
  cfunc: Sym = this;
  alias: Sym = this;
  private bits = 0;

  constructor(
    readonly idx: number,
    readonly name: string,
    /** st_type, except that 7.x takes every `.cold` symbol for a function (see SymbolIndex). */
    public type: number,
    readonly bind: number,
    /** Section index; 0 for undefined and reserved sections. */
    readonly sec: number,
    readonly offset: number,
    /** st_size, shortened for a parent that encloses its .cold child (as objtool does). */
    public len: number,
  ) {}

  private set(bit: Bit, on: boolean): void {
    this.bits = on ? this.bits | bit : this.bits & ~bit;
  }

  get uaccessSafe(): boolean { return (this.bits & Bit.UACCESS_SAFE) !== 0; }
  set uaccessSafe(on: boolean) { this.set(Bit.UACCESS_SAFE, on); }
  get staticCallTramp(): boolean { return (this.bits & Bit.STATIC_CALL_TRAMP) !== 0; }
  set staticCallTramp(on: boolean) { this.set(Bit.STATIC_CALL_TRAMP, on); }
  get retpolineThunk(): boolean { return (this.bits & Bit.RETPOLINE_THUNK) !== 0; }
  set retpolineThunk(on: boolean) { this.set(Bit.RETPOLINE_THUNK, on); }
  get returnThunk(): boolean { return (this.bits & Bit.RETURN_THUNK) !== 0; }
  set returnThunk(on: boolean) { this.set(Bit.RETURN_THUNK, on); }
  get embeddedInsn(): boolean { return (this.bits & Bit.EMBEDDED_INSN) !== 0; }
  set embeddedInsn(on: boolean) { this.set(Bit.EMBEDDED_INSN, on); }
  get fentry(): boolean { return (this.bits & Bit.FENTRY) !== 0; }
  set fentry(on: boolean) { this.set(Bit.FENTRY, on); }
  get profilingFunc(): boolean { return (this.bits & Bit.PROFILING_FUNC) !== 0; }
  set profilingFunc(on: boolean) { this.set(Bit.PROFILING_FUNC, on); }
  get localLabel(): boolean { return (this.bits & Bit.LOCAL_LABEL) !== 0; }
  set localLabel(on: boolean) { this.set(Bit.LOCAL_LABEL, on); }
  get warned(): boolean { return (this.bits & Bit.WARNED) !== 0; }
  set warned(on: boolean) { this.set(Bit.WARNED, on); }
  /** 7.x ANNOTATE_NOCFI_SYM: its indirect calls need no kCFI check. */
  get nocfi(): boolean { return (this.bits & Bit.NOCFI) !== 0; }
  set nocfi(on: boolean) { this.set(Bit.NOCFI, on); }
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

/** FNV-1a of a name's characters (latin1: its bytes). */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < name.length; k++) h = Math.imul(h ^ name.charCodeAt(k), 16777619);
  return h;
}

/**
 * Symbols by name, as objtool's name hash lists hold them (each name's symbols, the last in
 * table order first): an open-addressing table of each name's last position in `all`, and for
 * each position the one before it of the same name. Maps of vmlinux.o's ~160,000 names (one
 * name to a symbol, or to an array of them) cost 100-300 ms, mostly their own stores of young
 * strings into an old table, and the collections of all they held; this holds numbers.
 */
class NameTable {
  /** Position in `all` + 1; 0: empty. */
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;
  /** Per position, the previous position of the same name + 1; 0: none. */
  private readonly prevSame: Int32Array;

  constructor(private readonly all: readonly Sym[]) {
    let size = 16;
    while (size < all.length * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    this.prevSame = new Int32Array(all.length);
    for (let i = 0; i < all.length; i++) {
      const name = all[i]!.name;
      const h = nameHash(name);
      const p = this.probe(name, h);
      this.prevSame[i] = this.slots[p]!;
      this.slots[p] = i + 1;
      this.hashes[p] = h;
    }
  }

  /** The slot holding `name`, or the empty one where it would go. */
  private probe(name: string, h: number): number {
    for (let p = h & this.mask; ; p = (p + 1) & this.mask) {
      const e = this.slots[p]!;
      if (e === 0 || (this.hashes[p] === h && this.all[e - 1]!.name === name)) return p;
    }
  }

  /** The last symbol of this name. */
  get(name: string): Sym | undefined {
    const e = this.slots[this.probe(name, nameHash(name))]!;
    return e === 0 ? undefined : this.all[e - 1];
  }

  /** Every symbol of this name, the last in table order first. */
  *each(name: string): Generator<Sym> {
    for (let e = this.slots[this.probe(name, nameHash(name))]!; e !== 0; e = this.prevSame[e - 1]!) yield this.all[e - 1]!;
  }
}

export class SymbolIndex {
  readonly all: Sym[] = [];
  /** Per section, every symbol in offset order (objtool's sec->symbol_list). */
  private lists = new Map<number, Sym[]>();
  private trees = new Map<number, Tree>();
  /** Made on the first look-up by name. */
  private nameTable?: NameTable;
  readonly numFiles: number;
  /** 7.x: look-ups answer the symbol's alias (see CheckRules.warnNamesAlias). */
  private readonly aliasLookups: boolean;
  /** 7.x: each local symbol's preceding STT_FILE symbol (index; -1: none), for .cold parents. */
  private readonly fileOf?: Int32Array;

  constructor(elf: ElfFile, private readonly rules: Pick<CheckRules, 'coldParent' | 'warnNamesAlias'> = { coldParent: 'jump', warnNamesAlias: false }) {
    this.aliasLookups = rules.warnNamesAlias;
    const t = elf.symbols;
    let files = 0;
    const all = this.all;
    if (t) {
      const { shndx, value, size, info } = t;
      const coldIsFunc = rules.coldParent === 'file';
      const fileOf = coldIsFunc ? new Int32Array(t.count).fill(-1) : undefined;
      this.fileOf = fileOf;
      let file = -1;
      for (let i = 0; i < t.count; i++) {
        const type = info[i]! & 0xf;
        const sec = t.isDefined(i) ? shndx[i]! : 0;
        const name = type === STT_SECTION ? (elf.section(sec)?.name ?? '') : t.name(i);
        const s = new Sym(i, name, type, info[i]! >> 4, sec, value[i]!, size[i]!);
        if (type === STT_FILE) files++;
        // 7.x elf_add_symbol(): Clang's .cold parts are NOTYPE; objtool takes any for a function.
        if (coldIsFunc && type !== STT_SECTION && name.includes('.cold')) s.type = STT_FUNC;
        if (fileOf) {
          if (type === STT_FILE) file = i;
          else if (s.bind === STB_LOCAL && type !== STT_SECTION) fileOf[i] = file;
        }
        all.push(s);
      }
      // Per section by offset, then index: the symbol table's own sorted lists (of numbers,
      // cheaper to sort than these objects), and the undefined and reserved ones under 0.
      // The map's order (first symbol of each section first) is the order passes visit them in.
      const seen = new Uint8Array(elf.sections.length);
      for (let i = 1; i < t.count; i++) {
        const sec = all[i]!.sec;
        if (seen[sec]) continue;
        seen[sec] = 1;
        let l: Sym[];
        if (sec === 0) {
          l = [];
          for (let j = i; j < t.count; j++) if (all[j]!.sec === 0) l.push(all[j]!);
          l.sort((a, b) => a.offset - b.offset || a.idx - b.idx);
        } else {
          const order = t.inSection(sec);
          l = [];
          for (let k = 0; k < order.length; k++) l.push(all[order[k]!]!);
        }
        this.lists.set(sec, l);
      }
    }
    this.numFiles = files;
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

  /** The parent a `.cold` part links to, by the era's rule; undefined: none. */
  private coldParentOf(s: Sym, pname: string): Sym | undefined {
    if (this.rules.coldParent === 'jump') return this.byName(pname);
    // 7.x: a local of that name under the same STT_FILE, else a global; the last in symbol
    // table order wins (objtool's name hash lists add at the head; section symbols are not in them).
    const fileOf = this.fileOf!;
    const file = fileOf[s.idx] ?? -1;
    let local: Sym | undefined;
    let global: Sym | undefined;
    for (const o of this.names().each(pname)) {
      if (o.type === STT_SECTION) continue;
      if (o.bind === STB_LOCAL) {
        if (fileOf[o.idx] === file) local ??= o;
      } else global ??= o;
      if (local) break;
    }
    return local ?? global;
  }

  /** Link .cold children to their parents (objtool read_symbols()); throws if a parent is missing. */
  linkColdFunctions(file: string): void {
    const byFile = this.rules.coldParent === 'file';
    for (const l of this.lists.values()) {
      for (const s of l) {
        if (s.type !== STT_FUNC) continue;
        const at = s.name.indexOf('.cold');
        if (at < 0) continue;
        const p = this.coldParentOf(s, s.name.slice(0, at));
        if (!p) throw new OrctoolError(file, 'symbols', undefined, `${s.name}(): can't find parent function`);
        s.pfunc = byFile ? p.alias : p;
        p.cfunc = s;
        if (byFile) p.alias.cfunc = s;
        if (s.sec === p.sec && s.offset >= p.offset && s.offset + s.len === p.offset + p.len) p.len -= s.len;
      }
    }
    this.trees.clear();
  }

  /** objtool classify_symbols(), with the era's names. */
  classify(names: SymbolClasses): void {
    for (const s of this.all) {
      if (s.type === STT_NOTYPE && s.name.startsWith('.L')) s.localLabel = true;
      if (s.bind !== STB_GLOBAL) continue;
      const n = s.name;
      if (n.startsWith(STATIC_CALL_TRAMP_PREFIX)) s.staticCallTramp = true;
      if (names.retpolineThunkPrefixes.some((p) => n.startsWith(p))) s.retpolineThunk = true;
      if (names.returnThunks.includes(n)) s.returnThunk = true;
      if (names.embeddedInsns.includes(n)) s.embeddedInsn = true;
      if (n === '__fentry__') s.fentry = true;
      if (names.profilingPrefixes.some((p) => n.startsWith(p)) || names.profilingNames.includes(n)) s.profilingFunc = true;
    }
  }

  /** The last symbol of this name in table order (section symbols go by their section's name). */
  byName(name: string): Sym | undefined {
    return this.names().get(name);
  }

  private names(): NameTable {
    return (this.nameTable ??= new NameTable(this.all));
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

  /** What a look-up answers for the symbol it found: 7.x answers its alias. */
  private answer(s: Sym | undefined): Sym | undefined {
    return s && this.aliasLookups ? s.alias : s;
  }

  findSymbolContaining(sec: number, offset: number): Sym | undefined {
    if (!this.aliasLookups) return this.containing(sec, offset, (s) => s.type !== STT_SECTION);
    // 7.x: the first in tree order, or, among overlapping symbols of other extents, the smaller.
    const { syms, maxEnd } = this.tree(sec);
    let k = firstAfter(syms, offset) - 1;
    while (k >= 0 && maxEnd[k]! > offset) k--;
    let best: Sym | undefined;
    for (k++; k < syms.length && syms[k]!.offset <= offset; k++) {
      const s = syms[k]!;
      if (offset >= s.offset + s.len) continue;
      if (!best) best = s;
      else if ((best.offset !== s.offset || best.len !== s.len) && s.len < best.len) best = s;
    }
    return this.answer(best);
  }

  findFuncContaining(sec: number, offset: number): Sym | undefined {
    return this.answer(this.containing(sec, offset, (s) => s.type === STT_FUNC));
  }

  findSymbolByOffset(sec: number, offset: number): Sym | undefined {
    return this.answer(this.containing(sec, offset, (s) => s.offset === offset && s.type !== STT_SECTION));
  }

  findFuncByOffset(sec: number, offset: number): Sym | undefined {
    return this.answer(this.containing(sec, offset, (s) => s.offset === offset && s.type === STT_FUNC));
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
