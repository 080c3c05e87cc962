// SPDX-License-Identifier: GPL-2.0-only
// Changes to an ELF relocatable object, serialized without disturbing what did not change.
//
// Every unchanged section keeps its bytes at its original file offset: the output starts as a
// copy of the input, a changed section of the same size is overwritten in place, and a grown
// or new section is appended, followed by a fresh section header table. With no change at all
// the output is the input, byte for byte.
//
// Symbols: a new local must sit before every global (sh_info). As objtool does, the first
// global is moved to the end of the table and the local takes its slot, so only the
// relocations (and group signatures) naming a moved global are rewritten.
import { ElfFormatError } from '../errors.js';
import {
  EHDR_SIZE, RELA_SIZE, SHDR_SIZE, SHF_INFO_LINK, SHN_LORESERVE, SHN_XINDEX, SHT_GROUP, SHT_REL,
  SHT_RELA, SHT_SYMTAB_SHNDX, STB_LOCAL, STT_SECTION, SYM_SIZE,
} from './constants.js';
import { setS64, setU64, viewOf } from './bytes.js';
import type { ElfFile } from './reader.js';
import type { Section } from './section.js';
import { type Chunk, appendsOnly, chunkLength, forEachPiece, writeChunksAtomic, writeInPlace } from './atomic-write.js';
import type { GlobalRefs } from './global-refs.js';

/** ElfEditor.relocateFrom's default: 256 MiB (a vmlinux.o with DWARF; not one without, ~60 MB, whose copy is cheap and keeps it compact). */
export const RELOCATE_MIN_BYTES = 256 << 20;

/** ElfEditor.streamFrom's default: 32 MiB (a debug-info vmlinux.o's .rela.debug_info is ~385 MB; no other relocation section comes near). */
const STREAM_MIN_BYTES = 32 << 20;

/** The piece a streamed relocation section is read, remapped and written in: ~8 MiB, whole entries of either size (24, 16). */
const STREAM_PIECE = (8 << 20) - ((8 << 20) % 48);

/**
 * At most this many bytes of a big relocation section are patched where they are (and saved
 * for undoing first): beyond it the section is rewritten whole. .rela.debug_info of a 6.12
 * debug-info vmlinux.o with --prefix: 6,626 of 16.8 million entries name a moved global.
 */
const PATCH_MAX_BYTES = 16 << 20;

/** Changed symbol fields closer than this are patched as one range (fewer writes, a few bytes more). */
const PATCH_GAP = 512;

/**
 * A symbol reference that stays valid while symbols are added: an original symbol's index
 * (>= 0), or -1-k for the k-th added symbol. Final indices are assigned at serialization.
 */
export type SymbolRef = number;

export interface NewSection {
  name: string;
  type: number;
  flags: number;
  data: Uint8Array;
  addralign: number;
  entsize: number;
  link?: number;
  info?: number;
}

export interface NewSymbol {
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  other?: number;
  /** Real section index (SHN_XINDEX is applied when needed). */
  shndx: number;
}

export interface NewReloc {
  offset: number;
  type: number;
  sym: SymbolRef;
  addend: number;
}

/**
 * Many relocations of one type, written straight into their section's bytes as they are made
 * (addRelaEntries()): an ORC table of vmlinux.o has half a million, which as NewReloc objects
 * would cost their allocation and a young-generation collection or two, and as columns beside
 * the section's bytes twice the memory.
 */
export interface RelaEntries {
  /** The new .rela section's index. */
  readonly index: number;
  /** Entry k; `sym` is resolved to its final index when the file is laid out. */
  set(k: number, offset: number, sym: SymbolRef, addend: number): void;
}

interface HeaderFields {
  name: number;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

/** Strings appended to a string table, in one growing buffer (vmlinux.o gets some 60K). */
interface AppendedStrings {
  bytes: Uint8Array;
  /** Bytes of `bytes` in use. */
  used: number;
  /** The table's size with them. */
  size: number;
  byOffset: Map<number, string>;
}

interface PendingRelocSection {
  index: number;
  /** Written by a RelaEntries but for the symbols, which are resolved (each layout) from these. */
  relocs: NewReloc[] | { syms: Int32Array };
  /** Byte position of the first new entry (appends follow the existing ones). */
  base?: number;
}

/**
 * The symbol fields of a relocation section's entries that name a moved symbol, from the entries
 * naming a global (`refs`), as 4-byte chunks at their file positions; undefined when they are
 * too many for patches to pay (more than one entry in 32: the section is then rewritten).
 */
function patchesFromRefs(s: Section, ent: number, refs: GlobalRefs, moved: Uint8Array, origToFinal: Int32Array): Chunk[] | undefined {
  const { entries, syms } = refs;
  let n = 0;
  for (let k = 0; k < syms.length; k++) if (moved[syms[k]!] === 1) n++;
  if (n * ent * 32 > s.size) return undefined;
  const bytes = new Uint8Array(4 * n);
  const v = viewOf(bytes);
  const out: Chunk[] = [];
  for (let k = 0, j = 0; k < syms.length; k++) {
    const sym = syms[k]!;
    if (moved[sym] !== 1) continue;
    v.setUint32(4 * j, origToFinal[sym]!, true);
    out.push({ position: s.offset + entries[k]! * ent + 12, bytes: bytes.subarray(4 * j, 4 * j + 4) });
    j++;
  }
  return out;
}

export class ElfEditor {
  /** Section headers as they will be written, original then added. */
  private headers: HeaderFields[];
  /** Contents replacing or defining a section, by index. */
  private contents = new Map<number, Uint8Array>();
  /** Strings appended to string tables, by table index. */
  /** Strings appended to a string table: each add appends (objtool's elf_add_string() does not share). */
  private appendedStrings = new Map<number, AppendedStrings>();
  /** .strtab offsets of the added symbols' names, given when each is added, as objtool does. */
  private addedNames: number[] = [];
  /** New st_size of existing symbols (objtool's elf_write_symbol() after growing one). */
  private sizeEdits = new Map<number, number>();
  /** The symbol table order: original index (>= 0) or added symbol -1-k. */
  private symOrder: number[];
  private firstGlobal: number;
  private added: NewSymbol[] = [];
  private pendingRelocs: PendingRelocSection[] = [];
  private pendingAppends: PendingRelocSection[] = [];
  private relocTypeEdits = new Map<number, Map<number, number>>();
  private sectionSymbols = new Map<number, SymbolRef>();
  /** The serialized layout; once built, the editor takes no more changes. */
  private built?: Chunk[];
  /**
   * From this input size on, every changed section goes after the input's end, none over its
   * old bytes: then write() appends to the file in place instead of copying it first (a
   * debug-info vmlinux.o is ~1 GB, and its copy took 2-2.5 s of a 7-8 s run, more than all the
   * sections that change). The file keeps the old bytes unused, as it does for a section that
   * grows. A field for the tests.
   */
  relocateFrom = RELOCATE_MIN_BYTES;
  /**
   * From this size on, a relocation section whose only change is symbols renumbered is not held
   * in memory: it is read a piece at a time, and the entries naming a moved symbol are patched
   * where they are (`patches`); when there are too many (PATCH_MAX_BYTES) it is remapped and
   * written whole, a piece at a time (Chunk.streamed). A field for the tests.
   */
  streamFrom = STREAM_MIN_BYTES;
  /** The relocation sections rewritten whole that way: their symbol map. */
  private streamed = new Map<number, { moved: Uint8Array; origToFinal: Int32Array }>();
  /** At most this many bytes of one relocation section are patched (PATCH_MAX_BYTES). A field for the tests. */
  patchUpTo = PATCH_MAX_BYTES;
  /** Ranges of big relocation sections patched where they are, at their file positions. */
  private patches: Chunk[] = [];
  /**
   * The entries of big relocation sections that name a global, found beforehand on another
   * thread (global-refs.ts): a section unchanged but for renumbered symbols then has just those
   * patched, unread. Set by the caller; undefined (or giving undefined) when there are none.
   */
  globalRefs?: () => Map<number, GlobalRefs> | undefined;

  /** Whether every changed section goes after the input's end (relocateFrom). */
  get relocates(): boolean {
    return this.elf.size >= this.relocateFrom;
  }

  constructor(readonly elf: ElfFile) {
    this.headers = elf.sections.map((s) => ({
      name: s.nameOffset, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size,
      link: s.link, info: s.info, addralign: s.addralign, entsize: s.entsize,
    }));
    const syms = elf.symbols;
    this.symOrder = syms ? Array.from({ length: syms.count }, (_, i) => i) : [];
    this.firstGlobal = syms?.firstGlobal ?? 0;
  }

  get sectionCount(): number {
    return this.headers.length;
  }

  /** Whether the input or an added section has this name (objtool's find_section_by_name()). */
  hasSection(name: string): boolean {
    if (this.elf.sectionByName(name)) return true;
    for (let i = this.elf.sections.length; i < this.headers.length; i++) if (this.sectionName(i) === name) return true;
    return false;
  }

  private get symtab(): Section {
    const s = this.elf.symbols?.section;
    if (!s) throw new ElfFormatError(this.elf.path, 'symbol table', undefined, 'object has no symbol table');
    return s;
  }

  /** Add a section; returns its index. Its name goes into .shstrtab. */
  addSection(spec: NewSection): number {
    this.assertOpen();
    const index = this.headers.length;
    this.headers.push({
      name: this.addString(this.elf.header.shstrndx, spec.name), type: spec.type, flags: spec.flags, addr: 0n,
      offset: 0, size: spec.data.length, link: spec.link ?? 0, info: spec.info ?? 0,
      addralign: spec.addralign, entsize: spec.entsize,
    });
    this.contents.set(index, spec.data);
    return index;
  }

  /**
   * Add `.rela<name>` for a section, linked to the symbol table, with the given relocations.
   * Symbol references are resolved to final indices when the file is serialized.
   */
  addRelaSection(target: number, relocs: NewReloc[]): number {
    const index = this.newRelaSection(target, new Uint8Array(relocs.length * RELA_SIZE));
    this.pendingRelocs.push({ index, relocs });
    return index;
  }

  /** addRelaSection() for `count` relocations of one type, each given with set(). */
  addRelaEntries(target: number, count: number, type: number): RelaEntries {
    const data = new Uint8Array(count * RELA_SIZE);
    const index = this.newRelaSection(target, data);
    const syms = new Int32Array(count);
    this.pendingRelocs.push({ index, relocs: { syms } });
    const v = viewOf(data);
    return {
      index,
      set(k: number, offset: number, sym: SymbolRef, addend: number): void {
        const at = k * RELA_SIZE;
        setU64(v, at, offset);
        v.setUint32(at + 8, type, true);
        syms[k] = sym;
        setS64(v, at + 16, addend);
      },
    };
  }

  private newRelaSection(target: number, data: Uint8Array): number {
    return this.addSection({
      name: `.rela${this.sectionName(target)}`, type: SHT_RELA, flags: SHF_INFO_LINK, data,
      addralign: 8, entsize: RELA_SIZE, link: this.symtab.index, info: target,
    });
  }

  sectionName(index: number): string {
    const orig = this.elf.section(index);
    if (orig) return orig.name;
    const h = this.headers[index];
    if (!h) throw new Error(`no section ${index}`);
    return this.stringAt(this.elf.header.shstrndx, h.name);
  }

  /** Append relocations to an existing SHT_RELA section (symbols resolved at serialization). */
  appendRelocs(relSection: number, relocs: NewReloc[]): void {
    this.assertOpen();
    if (this.headers[relSection]?.type !== SHT_RELA) throw new Error(`section ${relSection} is not SHT_RELA`);
    if (relocs.length) this.pendingAppends.push({ index: relSection, relocs });
  }

  /** Replace a section's contents. */
  setSectionData(index: number, data: Uint8Array): void {
    this.assertOpen();
    this.contents.set(index, data);
    this.headers[index]!.size = data.length;
  }

  /** Overwrite bytes inside a section (e.g. NOPs over a call). */
  patchBytes(index: number, offset: number, bytes: Uint8Array): void {
    this.assertOpen();
    const cur = this.sectionBytes(index);
    if (offset + bytes.length > cur.length) {
      throw new ElfFormatError(this.elf.path, this.sectionName(index), offset, `patch of ${bytes.length} bytes runs past the section end`);
    }
    const copy = this.contents.has(index) ? cur : new Uint8Array(cur);
    copy.set(bytes, offset);
    this.contents.set(index, copy);
  }

  /** Change the type of relocation `reloc` in relocation section `relSection` (e.g. to R_X86_64_NONE). */
  setRelocType(relSection: number, reloc: number, type: number): void {
    this.assertOpen();
    let m = this.relocTypeEdits.get(relSection);
    if (!m) this.relocTypeEdits.set(relSection, (m = new Map()));
    m.set(reloc, type);
  }

  /** Current contents of a section (original bytes unless replaced). */
  sectionBytes(index: number): Uint8Array {
    return this.contents.get(index) ?? this.elf.section(index)?.data ?? new Uint8Array(0);
  }

  /** Add a symbol; locals go before the globals. */
  addSymbol(sym: NewSymbol): SymbolRef {
    this.assertOpen();
    const ref = -1 - this.added.length;
    this.added.push(sym);
    this.addedNames.push(sym.name === '' ? 0 : this.addString(this.elf.symbols!.strtab.index, sym.name));
    if (sym.bind === STB_LOCAL) {
      const slot = this.firstGlobal;
      if (slot < this.symOrder.length) this.symOrder.push(this.symOrder[slot]!);
      else this.symOrder.push(ref);
      this.symOrder[slot] = ref;
      this.firstGlobal++;
    } else {
      this.symOrder.push(ref);
    }
    return ref;
  }

  /** Give an existing symbol another st_size, in place. */
  setSymbolSize(index: number, size: number): void {
    this.assertOpen();
    this.sizeEdits.set(index, size);
  }

  /** The STT_SECTION symbol of a section, created when missing. */
  sectionSymbol(sectionIndex: number): SymbolRef {
    const known = this.sectionSymbols.get(sectionIndex);
    if (known !== undefined) return known;
    const existing = sectionIndex < this.elf.sections.length ? (this.elf.symbols?.sectionSymbol(sectionIndex) ?? -1) : -1;
    const ref = existing >= 0 ? existing : this.addSymbol({ name: '', value: 0, size: 0, type: STT_SECTION, bind: STB_LOCAL, shndx: sectionIndex });
    this.sectionSymbols.set(sectionIndex, ref);
    return ref;
  }

  /**
   * Re-encode the symbol table and every relocation section from what the reader parsed, as
   * if each had been edited. Serializing right after must give back the input byte for byte:
   * the round-trip test of everything the reader models.
   */
  reencodeAll(): void {
    this.assertOpen();
    const elf = this.elf;
    const syms = elf.symbols;
    if (syms) {
      const out = new Uint8Array(syms.count * SYM_SIZE);
      const v = viewOf(out);
      for (let i = 0; i < syms.count; i++) {
        const at = i * SYM_SIZE;
        v.setUint32(at, syms.nameOffset[i]!, true);
        v.setUint8(at + 4, syms.info[i]!);
        v.setUint8(at + 5, syms.other[i]!);
        v.setUint16(at + 6, syms.rawShndx[i]!, true);
        setU64(v, at + 8, syms.value[i]!);
        setU64(v, at + 16, syms.size[i]!);
      }
      this.contents.set(syms.section.index, out);
      const shndxSec = elf.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === syms.section.index);
      if (shndxSec) {
        const x = new Uint8Array(shndxSec.size);
        const xv = viewOf(x);
        for (let i = 0; i < syms.count && i * 4 < x.length; i++) {
          if (syms.rawShndx[i] === SHN_XINDEX) xv.setUint32(i * 4, syms.shndx[i]!, true);
        }
        this.contents.set(shndxSec.index, x);
      }
    }
    for (const s of elf.sections) {
      if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
      const t = elf.relocTable(s);
      const ent = t.isRela ? RELA_SIZE : 16;
      const out = new Uint8Array(s.size);
      const v = viewOf(out);
      for (let i = 0; i < t.count; i++) {
        const at = i * ent;
        setU64(v, at, t.offset(i));
        v.setUint32(at + 8, t.type(i), true);
        v.setUint32(at + 12, t.sym(i), true);
        if (t.isRela) setS64(v, at + 16, t.addend(i));
      }
      this.contents.set(s.index, out);
    }
  }

  private assertOpen(): void {
    if (this.built) throw new Error('ElfEditor: no changes may follow serialization');
  }

  get changed(): boolean {
    return this.contents.size > 0 || this.added.length > 0 || this.sizeEdits.size > 0 || this.relocTypeEdits.size > 0 || this.pendingAppends.length > 0 || this.headers.length !== this.elf.sections.length;
  }

  private addString(table: number, s: string): number {
    let a = this.appendedStrings.get(table);
    if (!a) {
      const base = this.elf.section(table)?.size ?? 0;
      a = { bytes: new Uint8Array(4096), used: 0, size: base, byOffset: new Map() };
      this.appendedStrings.set(table, a);
    }
    const at = a.size;
    if (a.used + s.length + 1 > a.bytes.length) {
      const grown = new Uint8Array(Math.max(a.bytes.length * 2, a.used + s.length + 1));
      grown.set(a.bytes.subarray(0, a.used));
      a.bytes = grown;
    }
    const b = a.bytes;
    let k = a.used;
    for (let i = 0; i < s.length; i++) b[k++] = s.charCodeAt(i) & 0xff;
    b[k++] = 0;
    a.used = k;
    a.size += s.length + 1;
    a.byOffset.set(at, s);
    return at;
  }

  private stringAt(table: number, offset: number): string {
    const orig = this.elf.section(table);
    if (orig && offset < orig.size) {
      const d = orig.data;
      const end = d.indexOf(0, offset);
      return String.fromCharCode(...d.subarray(offset, end < 0 ? d.length : end));
    }
    const s = this.appendedStrings.get(table)?.byOffset.get(offset);
    if (s !== undefined) return s;
    return '';
  }

  /** Final symbol index of every reference, once all additions are known. */
  private finalIndices(): { origToFinal: Int32Array; addedToFinal: Int32Array } {
    const n = this.elf.symbols?.count ?? 0;
    const origToFinal = new Int32Array(n);
    const addedToFinal = new Int32Array(this.added.length);
    this.symOrder.forEach((ref, pos) => {
      if (ref >= 0) origToFinal[ref] = pos;
      else addedToFinal[-1 - ref] = pos;
    });
    return { origToFinal, addedToFinal };
  }

  /** The output as changes over the original file: pieces to write over (or after) its bytes. */
  toChunks(): Chunk[] {
    this.built ??= this.layout();
    return this.built;
  }

  private layout(): Chunk[] {
    const elf = this.elf;
    const chunks: Chunk[] = [];
    if (!this.changed) return chunks;
    const nOrigSections = elf.sections.length;
    const { origToFinal, addedToFinal } = this.finalIndices();
    const resolve = (ref: SymbolRef): number => (ref >= 0 ? origToFinal[ref]! : addedToFinal[-1 - ref]!);
    const symsMoved = this.added.length > 0;

    // Symbols: rewrite .symtab (and .symtab_shndx) when anything was added or resized.
    if (symsMoved || this.sizeEdits.size > 0) this.rebuildSymbols();

    // Relocation sections and groups that name moved symbols.
    if (symsMoved) {
      // (a byte per symbol, not a Set: a debug-info vmlinux.o has ~25 million relocations to look at)
      const moved = new Uint8Array(origToFinal.length);
      let anyMoved = false;
      for (let i = 0; i < origToFinal.length; i++) {
        if (origToFinal[i] === i) continue;
        moved[i] = 1;
        anyMoved = true;
      }
      for (const s of elf.sections) {
        if (s.type === SHT_GROUP && moved[s.info]) this.headers[s.index]!.info = origToFinal[s.info]!;
        if ((s.type !== SHT_RELA && s.type !== SHT_REL) || s.link !== this.symtab.index || !anyMoved) continue;
        this.remapRelocSymbols(s, moved, origToFinal);
      }
    }
    for (const [relIdx, edits] of this.relocTypeEdits) {
      const data = this.mutableCopy(relIdx);
      const ent = this.headers[relIdx]!.type === SHT_RELA ? RELA_SIZE : 16;
      const v = viewOf(data);
      for (const [r, type] of edits) v.setUint32(r * ent + 8, type, true);
    }
    for (const p of this.pendingAppends) {
      const old = this.contents.get(p.index) ?? elf.section(p.index)!.data;
      const data = new Uint8Array(old.length + (p.relocs as NewReloc[]).length * RELA_SIZE);
      data.set(old, 0);
      this.contents.set(p.index, data);
      this.pendingRelocs.push({ index: p.index, relocs: p.relocs, base: old.length });
    }
    for (const p of this.pendingRelocs) {
      const data = this.contents.get(p.index)!;
      const v = viewOf(data);
      const base = p.base ?? 0;
      if (!Array.isArray(p.relocs)) {
        const syms = p.relocs.syms;
        for (let k = 0; k < syms.length; k++) v.setUint32(base + k * RELA_SIZE + 12, resolve(syms[k]!), true);
        continue;
      }
      p.relocs.forEach((r, k) => {
        const at = base + k * RELA_SIZE;
        setU64(v, at, r.offset);
        v.setUint32(at + 8, r.type, true);
        v.setUint32(at + 12, resolve(r.sym), true);
        setS64(v, at + 16, r.addend);
      });
    }

    // String tables that grew.
    for (const [table, a] of this.appendedStrings) {
      if (a.used === 0) continue;
      const orig = elf.section(table)!.data;
      const data = new Uint8Array(a.size);
      data.set(orig, 0);
      data.set(a.bytes.subarray(0, a.used), orig.length);
      this.contents.set(table, data);
      this.headers[table]!.size = data.length;
    }

    // Place changed contents: in place when the size is unchanged (and the file is not one to
    // append to, see relocateFrom), else appended.
    let end = elf.size;
    const relocate = this.relocates;
    const indices = [...this.contents.keys(), ...this.streamed.keys()].sort((a, b) => a - b);
    for (const idx of indices) {
      const data = this.contents.get(idx);
      const c: Chunk = data ? { position: 0, bytes: data } : this.streamedChunk(idx);
      const length = chunkLength(c);
      const h = this.headers[idx]!;
      h.size = length;
      const orig = idx < nOrigSections ? elf.sections[idx]! : undefined;
      if (orig && orig.size === length && !relocate) {
        c.position = orig.offset;
        chunks.push(c);
        continue;
      }
      const align = Math.max(1, h.addralign);
      end = Math.ceil(end / align) * align;
      h.offset = end;
      c.position = end;
      chunks.push(c);
      end += length;
    }

    chunks.push(...this.patches);

    // The section header table: in place when no section moved, else after everything.
    const total = this.headers.length;
    const inPlace = end === elf.size && total === nOrigSections && elf.header.shoff !== 0;
    if (inPlace) end = elf.header.shoff;
    else end = Math.ceil(end / 8) * 8;
    const shdrs = new Uint8Array(total * SHDR_SIZE);
    const sv = viewOf(shdrs);
    this.headers.forEach((h, i) => {
      const at = i * SHDR_SIZE;
      sv.setUint32(at, h.name, true);
      sv.setUint32(at + 4, h.type, true);
      setU64(sv, at + 8, h.flags);
      sv.setBigUint64(at + 16, h.addr, true);
      setU64(sv, at + 24, h.offset);
      setU64(sv, at + 32, h.size);
      sv.setUint32(at + 40, h.link, true);
      sv.setUint32(at + 44, h.info, true);
      setU64(sv, at + 48, h.addralign);
      setU64(sv, at + 56, h.entsize);
    });
    const shstrndx = elf.header.shstrndx;
    // Extended numbering: counts that do not fit e_shnum/e_shstrndx go into section header 0.
    setU64(sv, 32, total >= SHN_LORESERVE ? total : 0);
    sv.setUint32(40, shstrndx >= SHN_LORESERVE ? shstrndx : 0, true);
    chunks.push({ position: end, bytes: shdrs });

    // new Uint8Array copies (a Buffer's slice() would be a view onto the input).
    const ehdr = new Uint8Array(elf.range(0, EHDR_SIZE));
    const ev = viewOf(ehdr);
    ev.setUint16(16, elf.header.type, true);
    ev.setUint16(18, elf.header.machine, true);
    ev.setBigUint64(24, elf.header.entry, true);
    ev.setUint32(48, elf.header.flags, true);
    setU64(ev, 40, end);
    ev.setUint16(60, total >= SHN_LORESERVE ? 0 : total, true);
    ev.setUint16(62, shstrndx >= SHN_LORESERVE ? SHN_XINDEX : shstrndx, true);
    chunks.push({ position: 0, bytes: ehdr });
    return chunks;
  }

  private mutableCopy(index: number): Uint8Array {
    let d = this.contents.get(index);
    if (!d) {
      d = new Uint8Array(this.elf.section(index)!.data);
      this.contents.set(index, d);
    }
    return d;
  }

  /** `moved`: 1 for each symbol (original index) whose index changes. */
  private remapRelocSymbols(s: Section, moved: Uint8Array, origToFinal: Int32Array): void {
    const ent = s.type === SHT_RELA ? RELA_SIZE : 16;
    const unedited = !this.contents.has(s.index) && !this.relocTypeEdits.has(s.index) && !this.pendingAppends.some((p) => p.index === s.index);
    const refs = unedited ? this.globalRefs?.()?.get(s.index) : undefined;
    if (refs && this.onlyGlobalsMove(moved)) {
      const patches = patchesFromRefs(s, ent, refs, moved, origToFinal);
      if (patches) {
        for (const c of patches) this.patches.push(c);
        return;
      }
    }
    if (s.size >= this.streamFrom && unedited) {
      const patches = this.patchesOf(s, ent, moved, origToFinal);
      if (patches) this.patches.push(...patches);
      else this.streamed.set(s.index, { moved, origToFinal });
      return;
    }
    const src = viewOf(this.contents.get(s.index) ?? s.data);
    let out: DataView | undefined;
    for (let at = 0; at < s.size; at += ent) {
      const sym = src.getUint32(at + 12, true);
      if (moved[sym] !== 1) continue;
      out ??= viewOf(this.mutableCopy(s.index));
      out.setUint32(at + 12, origToFinal[sym]!, true);
    }
  }

  /** Whether no local symbol moves (what GlobalRefs count on); asked once. */
  private onlyGlobalsMove(moved: Uint8Array): boolean {
    if (this.localsStay === undefined) {
      this.localsStay = true;
      const locals = Math.min(this.elf.symbols?.firstGlobal ?? 0, moved.length);
      for (let i = 0; i < locals; i++) if (moved[i]) this.localsStay = false;
    }
    return this.localsStay;
  }

  private localsStay: boolean | undefined;

  /**
   * The ranges of a big relocation section `s` that change when symbols are renumbered, read a
   * piece at a time (kept nowhere else), as chunks at their file positions; undefined when they
   * come to more than `patchUpTo`.
   */
  private patchesOf(s: Section, ent: number, moved: Uint8Array, origToFinal: Int32Array): Chunk[] | undefined {
    const out: Chunk[] = [];
    let bytes = 0;
    const piece = new Uint8Array(Math.min(STREAM_PIECE, s.size));
    for (let from = 0; from < s.size; from += STREAM_PIECE) {
      const part = piece.subarray(0, Math.min(STREAM_PIECE, s.size - from));
      s.readInto(from, part);
      const v = viewOf(part);
      // [start, end): the range being gathered in this piece, of changed symbol fields.
      let start = -1;
      let end = -1;
      const close = (): void => {
        out.push({ position: s.offset + from + start, bytes: part.slice(start, end) });
        bytes += end - start;
      };
      for (let at = 12; at < part.length; at += ent) {
        const sym = v.getUint32(at, true);
        if (moved[sym] !== 1) continue;
        v.setUint32(at, origToFinal[sym]!, true);
        if (start >= 0 && at - end <= PATCH_GAP) {
          end = at + 4;
          continue;
        }
        if (start >= 0) close();
        start = at;
        end = at + 4;
        if (bytes > this.patchUpTo) return undefined;
      }
      if (start >= 0) close();
    }
    return bytes > this.patchUpTo ? undefined : out;
  }

  /** The chunk of a relocation section in `streamed`: its bytes read and remapped a piece at a time (position set by the caller). */
  private streamedChunk(index: number): Chunk {
    const s = this.elf.section(index)!;
    const { moved, origToFinal } = this.streamed.get(index)!;
    const ent = s.type === SHT_RELA ? RELA_SIZE : 16;
    return {
      position: 0,
      bytes: new Uint8Array(0),
      streamed: {
        length: s.size,
        piece: STREAM_PIECE,
        fill: (out, from, read) => {
          read(s.offset + from, out);
          const v = viewOf(out);
          for (let at = 0; at < out.length; at += ent) {
            const sym = v.getUint32(at + 12, true);
            if (moved[sym] === 1) v.setUint32(at + 12, origToFinal[sym]!, true);
          }
        },
      },
    };
  }

  private rebuildSymbols(): void {
    const elf = this.elf;
    const syms = elf.symbols!;
    const symtab = syms.section;
    const n = this.symOrder.length;
    const out = new Uint8Array(n * SYM_SIZE);
    const ov = viewOf(out);
    const orig = symtab.data;
    const shndxSec = elf.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index);
    const needXindex = this.added.some((a) => a.shndx >= SHN_LORESERVE);
    const xout = shndxSec || needXindex ? new Uint8Array(n * 4) : undefined;
    const xv = xout ? viewOf(xout) : undefined;
    const xorig = shndxSec ? viewOf(shndxSec.data) : undefined;
    this.symOrder.forEach((ref, pos) => {
      const at = pos * SYM_SIZE;
      if (ref >= 0) {
        out.set(orig.subarray(ref * SYM_SIZE, (ref + 1) * SYM_SIZE), at);
        const size = this.sizeEdits.get(ref);
        if (size !== undefined) setU64(ov, at + 16, size);
        if (xv && xorig && ref * 4 < xorig.byteLength) xv.setUint32(pos * 4, xorig.getUint32(ref * 4, true), true);
        return;
      }
      const a = this.added[-1 - ref]!;
      ov.setUint32(at, this.addedNames[-1 - ref]!, true);
      ov.setUint8(at + 4, (a.bind << 4) | (a.type & 0xf));
      ov.setUint8(at + 5, a.other ?? 0);
      const big = a.shndx >= SHN_LORESERVE;
      ov.setUint16(at + 6, big ? SHN_XINDEX : a.shndx, true);
      if (big) xv!.setUint32(pos * 4, a.shndx, true);
      setU64(ov, at + 8, a.value);
      setU64(ov, at + 16, a.size);
    });
    this.contents.set(symtab.index, out);
    this.headers[symtab.index]!.info = this.firstGlobal;
    if (xout) {
      if (shndxSec) this.contents.set(shndxSec.index, xout);
      else this.addSection({ name: '.symtab_shndx', type: SHT_SYMTAB_SHNDX, flags: 0, data: xout, addralign: 4, entsize: 4, link: symtab.index });
    }
  }

  /** The whole output file in memory (tests, small objects): reads all of the input. */
  serialize(): Uint8Array {
    const chunks = this.toChunks();
    const base = this.elf.bytes;
    if (chunks.length === 0) return base;
    let size = base.length;
    for (const c of chunks) size = Math.max(size, c.position + chunkLength(c));
    const out = new Uint8Array(size);
    out.set(base, 0);
    const read = (offset: number, into: Uint8Array): void => into.set(base.subarray(offset, offset + into.length));
    for (const c of chunks) forEachPiece(c, read, (bytes, from) => out.set(bytes, c.position + from));
    return out;
  }

  /**
   * Write to `path` (default: the input file) so that it is never seen half-written, keeping the
   * input's mode. The input's file must not have changed since it was opened. Changes that only
   * add to the input (new sections, a new header) are appended to it in place, and so are a big
   * input's (relocateFrom), with its patches (see writeInPlace); others are written over a copy
   * that is renamed over `path`.
   */
  write(path: string = this.elf.path): void {
    const chunks = this.toChunks();
    const source = this.elf.source;
    // (a big input's changes all go after its end, but for the header and patches of bounded size)
    if (source && path === this.elf.path && (this.relocates || appendsOnly(chunks, source.size))) writeInPlace(path, chunks, source);
    else if (source) writeChunksAtomic(path, chunks, this.elf.path, { path: this.elf.path, id: source });
    else writeChunksAtomic(path, [{ position: 0, bytes: this.elf.bytes }, ...chunks], this.elf.path);
  }
}
