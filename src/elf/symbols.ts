// SPDX-License-Identifier: GPL-2.0-only
// The symbol table as parallel typed arrays (vmlinux.o has hundreds of thousands of symbols),
// with names decoded on demand and the look-ups the analysis needs built lazily.
import { sortIds } from './sort-ids.js';
import { SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_SYMTAB_SHNDX, STB_LOCAL, STT_FUNC, STT_SECTION, SYM_SIZE } from './constants.js';
import { latin1, u64, viewOf } from './bytes.js';
import type { ElfFile } from './reader.js';
import type { Section } from './section.js';

export interface SymbolRecord {
  index: number;
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  other: number;
  /** Section index with SHN_XINDEX resolved; reserved values (SHN_ABS, SHN_COMMON) as they are. */
  shndx: number;
}

export class SymbolTable {
  readonly count: number;
  /** sh_info of .symtab: index of the first non-local symbol. */
  readonly firstGlobal: number;
  readonly nameOffset: Uint32Array;
  readonly info: Uint8Array;
  readonly other: Uint8Array;
  /** st_shndx as stored (SHN_XINDEX where the real index is in .symtab_shndx). */
  readonly rawShndx: Uint16Array;
  /** Real section index for symbols defined in a section (0 for undefined or reserved). */
  readonly shndx: Uint32Array;
  readonly value: Float64Array;
  readonly size: Float64Array;
  private names: (string | undefined)[];
  /** The string table as one string (latin1: a byte a character). */
  private strings?: string;
  private byName?: Map<string, number[]>;
  private bySection?: Map<number, Uint32Array>;
  private funcsBySection?: Map<number, { order: Uint32Array; maxEnd: Float64Array }>;

  private constructor(readonly file: ElfFile, readonly section: Section, readonly strtab: Section) {
    this.count = section.size / SYM_SIZE;
    this.firstGlobal = section.info;
    this.nameOffset = new Uint32Array(this.count);
    this.info = new Uint8Array(this.count);
    this.other = new Uint8Array(this.count);
    this.rawShndx = new Uint16Array(this.count);
    this.shndx = new Uint32Array(this.count);
    this.value = new Float64Array(this.count);
    this.size = new Float64Array(this.count);
    this.names = new Array(this.count);
  }

  static read(file: ElfFile, symtab: Section): SymbolTable {
    const strtab = file.section(symtab.link);
    if (!strtab || symtab.link === 0) throw file.error(symtab.name, symtab.offset, `sh_link ${symtab.link} does not name a string table`);
    const t = new SymbolTable(file, symtab, strtab);
    t.parse();
    return t;
  }

  private parse(): void {
    const file = this.file;
    const v = viewOf(this.section.data);
    const nsec = file.sections.length;
    const shndxSec = file.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === this.section.index);
    const xv = shndxSec ? viewOf(shndxSec.data) : undefined;
    if (this.firstGlobal > this.count) {
      throw file.error(this.section.name, this.section.offset, `sh_info ${this.firstGlobal} (first global) is past the ${this.count} symbols`);
    }
    for (let i = 0; i < this.count; i++) {
      const at = i * SYM_SIZE;
      const nameOff = v.getUint32(at, true);
      if (nameOff >= this.strtab.size && nameOff !== 0) {
        throw file.error(this.section.name, this.section.offset + at, `symbol ${i}: name index ${nameOff} out of range of ${this.strtab.name} (${this.strtab.size} bytes)`);
      }
      this.nameOffset[i] = nameOff;
      this.info[i] = v.getUint8(at + 4);
      this.other[i] = v.getUint8(at + 5);
      const raw = v.getUint16(at + 6, true);
      this.rawShndx[i] = raw;
      let idx = raw;
      if (raw === SHN_XINDEX) {
        if (!xv || (i + 1) * 4 > xv.byteLength) {
          throw file.error(this.section.name, this.section.offset + at, `symbol ${i} has SHN_XINDEX but there is no .symtab_shndx entry for it`);
        }
        idx = xv.getUint32(i * 4, true);
      } else if (raw >= SHN_LORESERVE) {
        idx = 0;
      }
      if (idx >= nsec) {
        throw file.error(this.section.name, this.section.offset + at, `symbol ${i}: section index ${idx} out of range (${nsec} sections)`);
      }
      this.shndx[i] = idx;
      this.value[i] = u64(v, at + 8);
      this.size[i] = u64(v, at + 16);
    }
  }

  type(i: number): number {
    return this.info[i]! & 0xf;
  }

  bind(i: number): number {
    return this.info[i]! >> 4;
  }

  isDefined(i: number): boolean {
    return this.rawShndx[i] !== SHN_UNDEF && this.shndx[i] !== 0;
  }

  /** Exact st_value (symbols of linked kernels sit above 2^53). */
  valueBig(i: number): bigint {
    return viewOf(this.section.data).getBigUint64(i * SYM_SIZE + 8, true);
  }

  name(i: number): string {
    let n = this.names[i];
    if (n === undefined) {
      // The whole table decoded once (natively: flat), each name a slice of it: vmlinux.o asks
      // for ~150,000, and a decode of each cost ~0.4 us.
      const all = (this.strings ??= latin1(this.strtab.data));
      const at = this.nameOffset[i]!;
      const nul = at < all.length ? all.indexOf('\0', at) : -1;
      if (nul < 0) throw this.file.error(this.strtab.name, at, `symbol ${i}: name is not NUL-terminated`);
      n = all.slice(at, nul);
      this.names[i] = n;
    }
    return n;
  }

  /** The name to print: a section symbol is shown by its section's name, as binutils does. */
  displayName(i: number): string {
    if (this.type(i) === STT_SECTION) return this.file.section(this.shndx[i]!)?.name ?? '';
    return this.name(i);
  }

  record(i: number): SymbolRecord {
    return {
      index: i, name: this.name(i), value: this.value[i]!, size: this.size[i]!,
      type: this.type(i), bind: this.bind(i), other: this.other[i]!, shndx: this.rawShndx[i] === SHN_XINDEX || this.rawShndx[i]! < SHN_LORESERVE ? this.shndx[i]! : this.rawShndx[i]!,
    };
  }

  /** Index of the symbol with this name, preferring a global over locals; -1 if none. */
  byNameIndex(name: string): number {
    const list = this.indicesByName(name);
    if (list.length === 0) return -1;
    for (const i of list) if (this.bind(i) !== STB_LOCAL) return i;
    return list[0]!;
  }

  indicesByName(name: string): readonly number[] {
    if (!this.byName) {
      this.byName = new Map();
      for (let i = 1; i < this.count; i++) {
        const n = this.name(i);
        if (n === '') continue;
        const l = this.byName.get(n);
        if (l) l.push(i);
        else this.byName.set(n, [i]);
      }
    }
    return this.byName.get(name) ?? [];
  }

  /** The STT_SECTION symbol of a section, or -1. */
  sectionSymbol(sectionIndex: number): number {
    for (const i of this.inSection(sectionIndex)) if (this.type(i) === STT_SECTION) return i;
    return -1;
  }

  /** Symbols defined in a section, sorted by value (then by index). */
  inSection(sectionIndex: number): Uint32Array {
    if (!this.bySection) {
      const counts = new Map<number, number[]>();
      for (let i = 1; i < this.count; i++) {
        if (!this.isDefined(i)) continue;
        const s = this.shndx[i]!;
        const l = counts.get(s);
        if (l) l.push(i);
        else counts.set(s, [i]);
      }
      this.bySection = new Map();
      for (const [s, l] of counts) this.bySection.set(s, sortIds(l, (i) => this.value[i]!, this.count));
    }
    return this.bySection.get(sectionIndex) ?? new Uint32Array(0);
  }

  /**
   * The STT_FUNC symbol whose [value, value+size) holds `offset` in the section; -1 if none.
   * Functions may overlap (aliases), so a running maximum of ends lets the search walk back
   * only as far as an earlier function could still reach.
   */
  funcContaining(sectionIndex: number, offset: number): number {
    return this.containing(this.funcIndex(sectionIndex), offset);
  }

  private funcIndex(sectionIndex: number): { order: Uint32Array; maxEnd: Float64Array } {
    if (!this.funcsBySection) this.funcsBySection = new Map();
    let e = this.funcsBySection.get(sectionIndex);
    if (!e) {
      const order = this.inSection(sectionIndex).filter((i) => this.type(i) === STT_FUNC);
      const maxEnd = new Float64Array(order.length);
      let m = 0;
      for (let k = 0; k < order.length; k++) {
        const i = order[k]!;
        m = Math.max(m, this.value[i]! + this.size[i]!);
        maxEnd[k] = m;
      }
      e = { order, maxEnd };
      this.funcsBySection.set(sectionIndex, e);
    }
    return e;
  }

  private containing(idx: { order: Uint32Array; maxEnd: Float64Array }, offset: number): number {
    const { order, maxEnd } = idx;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.value[order[mid]!]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo - 1; k >= 0 && maxEnd[k]! > offset; k--) {
      const i = order[k]!;
      if (offset < this.value[i]! + this.size[i]!) return i;
    }
    return -1;
  }
}
