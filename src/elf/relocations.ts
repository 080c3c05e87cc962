// SPDX-License-Identifier: GPL-2.0-only
// Relocations of one SHT_RELA/SHT_REL section, read straight from the file's bytes. Only an
// ordering index is built (and only when the entries are not already sorted by offset), so
// no object exists per relocation.
import { REL_SIZE, RELA_SIZE, SHT_REL, SHT_RELA } from './constants.js';
import { s64, u64, viewOf } from './bytes.js';
import type { ElfFile } from './reader.js';
import type { Section } from './section.js';
import { OffsetIndex } from './offset-index.js';
import { sortIds } from './sort-ids.js';

export class RelocTable {
  readonly count: number;
  readonly isRela: boolean;
  private readonly entSize: number;
  private readonly v: DataView;
  /** Entry indices in offset order; undefined when the section is already in that order. */
  private order?: Uint32Array;
  /**
   * Offsets in offset order and their index, made on the first search (lowerBound()).
   * Tables never searched (a debug-info object's DWARF relocations) never get them.
   */
  private sorted?: Float64Array;
  private search?: OffsetIndex;

  private constructor(readonly file: ElfFile, readonly section: Section, readonly target: Section | undefined) {
    this.isRela = section.type === SHT_RELA;
    this.entSize = this.isRela ? RELA_SIZE : REL_SIZE;
    this.count = section.size / this.entSize;
    this.v = viewOf(section.data);
  }

  static read(file: ElfFile, section: Section): RelocTable {
    // (a section found by its .rela name whose header says something else has no entries to read)
    if (section.type !== SHT_RELA && section.type !== SHT_REL) {
      throw file.error(section.name, section.offset, `not a relocation section (type ${section.type})`);
    }
    const t = new RelocTable(file, section, file.section(section.info));
    t.validateAndIndex();
    return t;
  }

  private validateAndIndex(): void {
    const nsyms = this.file.symbols?.count ?? 0;
    let sorted = true;
    let prev = -1;
    for (let i = 0; i < this.count; i++) {
      const sym = this.sym(i);
      if (sym >= nsyms && sym !== 0) {
        throw this.file.error(this.section.name, this.section.offset + i * this.entSize,
          `relocation ${i} refers to symbol ${sym}, but the symbol table has ${nsyms} symbols`);
      }
      const off = this.offset(i);
      if (off < prev) sorted = false;
      prev = off;
    }
    if (sorted) return;
    const ids = new Uint32Array(this.count);
    for (let i = 0; i < this.count; i++) ids[i] = i;
    this.order = sortIds(ids, (i) => this.offset(i), this.count);
  }

  offset(i: number): number {
    return u64(this.v, i * this.entSize);
  }

  type(i: number): number {
    return this.v.getUint32(i * this.entSize + 8, true);
  }

  sym(i: number): number {
    return this.v.getUint32(i * this.entSize + 12, true);
  }

  /** r_addend for RELA; for REL the implicit addend lives in the target bytes (0 here). */
  addend(i: number): number {
    return this.isRela ? s64(this.v, i * this.entSize + 16) : 0;
  }

  /** The k-th relocation in offset order. */
  nth(k: number): number {
    return this.order ? this.order[k]! : k;
  }

  /** Every offset in offset order: sortedOffsets()[k] is offset(nth(k)). */
  sortedOffsets(): Float64Array {
    let a = this.sorted;
    if (!a) {
      a = new Float64Array(this.count);
      for (let k = 0; k < this.count; k++) a[k] = this.offset(this.nth(k));
      this.sorted = a;
    }
    return a;
  }

  /** First position k (in offset order) whose offset is >= `offset`. */
  lowerBound(offset: number): number {
    const s = (this.search ??= new OffsetIndex(this.sortedOffsets(), this.count));
    return s.lowerBound(offset);
  }

  /**
   * The relocation applying exactly at `offset`, or -1 (objtool's find_reloc_by_dest(): its hash
   * chains hold the newest entry first, so of relocations at one offset the last in the file).
   */
  at(offset: number): number {
    let found = -1;
    for (let k = this.lowerBound(offset); k < this.count; k++) {
      const i = this.nth(k);
      if (this.offset(i) !== offset) break;
      if (i > found) found = i;
    }
    return found;
  }

  /** The first relocation (lowest offset) in [start, end), or -1: objtool's insn_reloc(). */
  firstInRange(start: number, end: number): number {
    const k = this.lowerBound(start);
    return k < this.count && this.sorted![k]! < end ? this.nth(k) : -1;
  }

  /** All relocations in [start, end), in offset order. */
  inRange(start: number, end: number): number[] {
    const out: number[] = [];
    for (let k = this.lowerBound(start); k < this.count; k++) {
      const i = this.nth(k);
      if (this.offset(i) >= end) break;
      out.push(i);
    }
    return out;
  }
}
