// SPDX-License-Identifier: GPL-2.0-only
// The ORC table of an object, built as objtool's orc_create() builds it (tools/objtool/orc_gen.c):
// text sections in section order; in each, the CFI state of every instruction in address order
// (an alternative group contributes its flattened per-byte CFI array instead, skipping bytes
// without CFI); an entry is kept only when its 6 bytes differ from the previous kept entry of
// the same section, the "previous" entry starting all-zero, so a leading all-zero entry is
// dropped; a section that kept any entry gets an all-zero terminator at its sh_size.
//
// The analysis streams its points into an OrcBuilder, which stores only the kept entries in
// flat typed arrays (vmlinux.o has millions of instructions but far fewer distinct entries).
import type { CfiState } from '../analysis/cfi.js';
import type { OrcEntryLayout } from '../kernel/versions.js';
import { ORC_ENTRY_SIZE, type OrcEntry, orcKey, storeOrcKey, zeroOrcEntry } from './entry.js';
import { orcEntryFromCfi } from './from-cfi.js';

/** An ORC table ready for writing: entry k describes `offsets[k]` in section `sections[k]`. */
export interface OrcTable {
  count: number;
  /** count * 6 bytes: the contents of .orc_unwind. */
  entries: Uint8Array;
  /** Section index of each entry's instruction. */
  sections: Uint32Array;
  /** Offset of each entry's instruction in its section (the terminator: the section size). */
  offsets: Uint32Array | Float64Array;
}

/** One point of a text section: an instruction (or alternative byte) offset and its CFI. */
export interface OrcPoint {
  offset: number;
  cfi: CfiState | null;
}

export interface OrcSectionPoints {
  index: number;
  /** sh_size: where the terminator goes. */
  size: number;
  points: Iterable<OrcPoint>;
}

export class OrcBuilder {
  private n = 0;
  private keys: Float64Array;
  private secs: Uint32Array;
  private offs: Uint32Array;
  /** The section being added to, or -1. */
  private current = -1;
  private prevKey = 0;
  private empty = true;
  private readonly scratch = zeroOrcEntry();

  /**
   * `capacity`: the entries expected (grown by doubling past it). Each doubling holds the old
   * arrays and the new at once, at the run's peak of memory: vmlinux.o keeps ~580,000 entries.
   */
  constructor(readonly layout: OrcEntryLayout, capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.secs = new Uint32Array(capacity);
    this.offs = new Uint32Array(capacity);
  }

  /** Entries kept so far (terminators included). */
  get count(): number {
    return this.n;
  }

  /**
   * The next point of a text section: `cfi` null for an instruction without CFI. Throws
   * OrcMappingError (objtool's message) for a state ORC cannot express; objtool then writes no
   * ORC at all.
   */
  add(sectionIndex: number, offset: number, cfi: CfiState | null): void {
    this.addKey(sectionIndex, offset, this.keyOf(cfi));
  }

  /** The entry of a state as a key (see orcKey); throws OrcMappingError as add() does. */
  keyOf(cfi: CfiState | null): number {
    return orcKey(orcEntryFromCfi(cfi, this.layout, this.scratch), this.layout);
  }

  /** The next point, as an already computed entry. */
  addEntry(sectionIndex: number, offset: number, entry: OrcEntry): void {
    this.addKey(sectionIndex, offset, orcKey(entry, this.layout));
  }

  /** The next point, as an entry key (see orcKey). */
  addKey(sectionIndex: number, offset: number, key: number): void {
    if (sectionIndex !== this.current) {
      if (this.current !== -1) throw new Error(`OrcBuilder: section ${this.current} was not ended before section ${sectionIndex}`);
      this.current = sectionIndex;
      this.prevKey = 0;
      this.empty = true;
    }
    if (key === this.prevKey) return;
    this.push(sectionIndex, offset, key);
    this.prevKey = key;
    this.empty = false;
  }

  /** The end of a text section of `size` bytes: its terminator, if it kept any entry. */
  endSection(sectionIndex: number, size: number): void {
    if (this.current === -1) return; // no point at all: nothing to terminate
    if (this.current !== sectionIndex) throw new Error(`OrcBuilder: ending section ${sectionIndex} while section ${this.current} is open`);
    if (!this.empty) this.push(sectionIndex, size, 0);
    this.current = -1;
  }

  private push(sectionIndex: number, offset: number, key: number): void {
    if (this.n === this.keys.length) {
      const cap = this.n * 2;
      const k = new Float64Array(cap); k.set(this.keys); this.keys = k;
      const s = new Uint32Array(cap); s.set(this.secs); this.secs = s;
      const o = new Uint32Array(cap); o.set(this.offs); this.offs = o;
    }
    this.keys[this.n] = key;
    this.secs[this.n] = sectionIndex;
    this.offs[this.n] = offset;
    this.n++;
  }

  /** The table built so far (call once every section has ended). */
  finish(): OrcTable {
    if (this.current !== -1) throw new Error(`OrcBuilder: section ${this.current} was not ended`);
    const entries = new Uint8Array(this.n * ORC_ENTRY_SIZE);
    for (let k = 0; k < this.n; k++) storeOrcKey(this.keys[k]!, entries, k * ORC_ENTRY_SIZE);
    // (views, not copies: at vmlinux.o's half a million entries, copies would be the outputs' peak)
    return { count: this.n, entries, sections: this.secs.subarray(0, this.n), offsets: this.offs.subarray(0, this.n) };
  }
}

/** The whole table from every text section's points, in section order. */
export function generateOrc(layout: OrcEntryLayout, sections: Iterable<OrcSectionPoints>): OrcTable {
  const b = new OrcBuilder(layout);
  for (const s of sections) {
    for (const p of s.points) b.add(s.index, p.offset, p.cfi);
    b.endSection(s.index, s.size);
  }
  return b.finish();
}
