// SPDX-License-Identifier: GPL-2.0-only
// ELF64 little-endian x86-64 reader. Parses the header and section table eagerly (cheap, and
// every malformation there is fatal), the symbol table on first use, and each relocation
// section only when asked for: a debug-info vmlinux.o carries hundreds of millions of DWARF
// relocations that the analysis never needs.
import { ElfFormatError } from '../errors.js';
import {
  EHDR_SIZE, ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_DYN, ET_EXEC, ET_REL, REL_SIZE, RELA_SIZE,
  SHDR_SIZE, SHN_ABS, SHN_COMMON, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_GROUP, SHT_NOBITS, SHT_NULL, SHT_REL, SHT_RELA,
  SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, SYM_SIZE,
} from './constants.js';
import { cString, u64, viewOf } from './bytes.js';
import { Section } from './section.js';
import type { FileIdentity } from './atomic-write.js';
import { FileImage } from './file-image.js';
import { SymbolTable } from './symbols.js';
import { RelocTable } from './relocations.js';

/** Entry sizes that must divide the sections of these types. */
const ENTRY_SIZES: Record<number, number> = {
  [SHT_SYMTAB]: SYM_SIZE,
  [SHT_RELA]: RELA_SIZE,
  [SHT_REL]: REL_SIZE,
  [SHT_SYMTAB_SHNDX]: 4,
  [SHT_GROUP]: 4,
};

export interface ElfHeader {
  type: number;
  machine: number;
  entry: bigint;
  shoff: number;
  flags: number;
  /** Section count after resolving the e_shnum = 0 escape. */
  shnum: number;
  /** Section name table index after resolving the SHN_XINDEX escape. */
  shstrndx: number;
}

export class ElfFile {
  readonly header: ElfHeader;
  readonly sections: readonly Section[];
  /** Over the whole file image: only the ranges read through `range()` are filled. */
  private readonly view: DataView;
  private byName?: Map<string, Section[]>;
  private symtabCache?: SymbolTable | null;
  private relocCache = new Map<number, RelocTable>();
  private relocByTarget?: Map<number, Section>;

  private constructor(readonly path: string, private readonly image: FileImage) {
    this.view = viewOf(image.bytes);
    this.header = this.readHeader();
    this.sections = this.readSections();
  }

  /** Sections are read from the file when first used (see FileImage). */
  static open(path: string): ElfFile {
    return new ElfFile(path, FileImage.open(path));
  }

  static fromBytes(bytes: Uint8Array, path: string): ElfFile {
    return new ElfFile(path, FileImage.inMemory(path, bytes));
  }

  /**
   * The file's identity when it was opened (open() only): a writer copies the unchanged bytes
   * from the file itself, which must still be that file.
   */
  get source(): FileIdentity | undefined {
    return this.image.source;
  }

  /** The file's size in bytes. */
  get size(): number {
    return this.image.size;
  }

  /** Bytes [offset, offset+len) of the file, clipped to its end. */
  range(offset: number, len: number): Uint8Array {
    return this.image.range(offset, len);
  }

  /** The whole file in memory (reads all of an opened file). */
  get bytes(): Uint8Array {
    return this.image.all();
  }

  get isRelocatable(): boolean {
    return this.header.type === ET_REL;
  }

  error(where: string, offset: number | undefined, detail: string): ElfFormatError {
    return new ElfFormatError(this.path, where, offset, detail);
  }

  /**
   * A section's bytes, to be read as a table: refused for SHT_NOBITS, whose size is no bytes in
   * the file (the readers count entries by sh_size).
   */
  contents(sec: Section): Uint8Array {
    if (sec.type === SHT_NOBITS && sec.size > 0) throw this.error(sec.name, sec.offset, `SHT_NOBITS section of 0x${sec.size.toString(16)} bytes: no contents to read`);
    return sec.data;
  }

  private readHeader(): ElfHeader {
    const b = this.range(0, EHDR_SIZE);
    const fileLen = this.size;
    const v = this.view;
    if (b.length < 16 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
      throw this.error('ELF header', 0, b.length < 4 ? 'file too short for an ELF header' : 'bad ELF magic');
    }
    if (b[4] !== ELFCLASS64) throw this.error('ELF header', 4, `unsupported ELF class ${b[4]} (need ELFCLASS64)`);
    if (b[5] !== ELFDATA2LSB) throw this.error('ELF header', 5, `unsupported data encoding ${b[5]} (need little-endian)`);
    if (b.length < EHDR_SIZE) throw this.error('ELF header', b.length, `file truncated: ${b.length} bytes, the header needs ${EHDR_SIZE}`);
    const type = v.getUint16(16, true);
    const machine = v.getUint16(18, true);
    if (machine !== EM_X86_64) throw this.error('ELF header', 18, `unsupported machine ${machine} (need EM_X86_64)`);
    if (type !== ET_REL && type !== ET_EXEC && type !== ET_DYN) {
      throw this.error('ELF header', 16, `unsupported ELF type ${type}`);
    }
    const shoff = u64(v, 40);
    const shentsize = v.getUint16(58, true);
    let shnum = v.getUint16(60, true);
    let shstrndx = v.getUint16(62, true);
    if (shoff === 0) return { type, machine, entry: v.getBigUint64(24, true), shoff, flags: v.getUint32(48, true), shnum: 0, shstrndx: 0 };
    if (shentsize !== SHDR_SIZE) throw this.error('ELF header', 58, `section header size ${shentsize}, expected ${SHDR_SIZE}`);
    if (shoff + SHDR_SIZE > fileLen) throw this.error('ELF header', 40, `section header table at 0x${shoff.toString(16)} is past the end of the file (${fileLen} bytes)`);
    // Extended numbering: the real counts live in section header 0.
    this.range(shoff, SHDR_SIZE);
    if (shnum === 0) shnum = u64(v, shoff + 32);
    if (shstrndx === SHN_XINDEX) shstrndx = v.getUint32(shoff + 40, true);
    if (shoff + shnum * SHDR_SIZE > fileLen) {
      throw this.error('ELF header', 40, `section header table (${shnum} entries at 0x${shoff.toString(16)}) runs past the end of the file (${fileLen} bytes)`);
    }
    if (shnum > 0 && shstrndx >= shnum) throw this.error('ELF header', 62, `section name table index ${shstrndx} out of range (${shnum} sections)`);
    return { type, machine, entry: v.getBigUint64(24, true), shoff, flags: v.getUint32(48, true), shnum, shstrndx };
  }

  private readSections(): Section[] {
    const { shoff, shnum, shstrndx } = this.header;
    const v = this.view;
    const fileLen = this.size;
    this.range(shoff, shnum * SHDR_SIZE);
    const raw: number[][] = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * SHDR_SIZE;
      raw.push([
        v.getUint32(at, true), v.getUint32(at + 4, true), u64(v, at + 8), at + 16, u64(v, at + 24),
        u64(v, at + 32), v.getUint32(at + 40, true), v.getUint32(at + 44, true), u64(v, at + 48), u64(v, at + 56),
      ]);
    }
    const str = raw[shstrndx];
    if (shnum > 0 && str) {
      if (str[1] !== SHT_STRTAB) throw this.error('section header', shoff + shstrndx * SHDR_SIZE, `section name table (index ${shstrndx}) is not SHT_STRTAB`);
      if (str[4]! + str[5]! > fileLen) throw this.error('section name table', str[4], `data (0x${str[5]!.toString(16)} bytes) runs past the end of the file`);
    }
    const names = str ? this.range(str[4]!, str[5]!) : new Uint8Array(0);
    const sections: Section[] = [];
    for (let i = 0; i < shnum; i++) {
      const [nameOff, type, flags, addrAt, offset, size, link, info, align, entsize] = raw[i]!;
      let name = '';
      if (i > 0 || type !== SHT_NULL) {
        if (nameOff! >= str![5]!) throw this.error(`section ${i}`, shoff + i * SHDR_SIZE, `name index ${nameOff} out of range of the section name table (${str![5]} bytes)`);
        const n = cString(names, nameOff!, names.length);
        if (n === undefined) throw this.error(`section ${i}`, shoff + i * SHDR_SIZE, 'section name is not NUL-terminated');
        name = n;
      }
      // (only index 0's SHT_NULL header has a size that is not its data's: e_shnum's overflow;
      // an SHT_NULL section past index 0, or any other type at index 0, is checked too)
      if ((i > 0 || type !== SHT_NULL) && type !== SHT_NOBITS && offset! + size! > fileLen) {
        throw this.error(name || `section ${i}`, offset, `data (0x${size!.toString(16)} bytes) runs past the end of the file (${fileLen} bytes)`);
      }
      const want = ENTRY_SIZES[type!];
      if (want !== undefined && size! % want !== 0) {
        throw this.error(name, offset, `size 0x${size!.toString(16)} is not a multiple of the entry size ${want}`);
      }
      if (want !== undefined && entsize !== 0 && entsize !== want && type !== SHT_GROUP) {
        throw this.error(name, shoff + i * SHDR_SIZE + 56, `entry size ${entsize}, expected ${want}`);
      }
      sections.push(new Section(i, name, nameOff!, type!, flags!, v.getBigUint64(addrAt!, true), offset!, size!, link!, info!, align!, entsize!, this.image));
    }
    return sections;
  }

  section(index: number): Section | undefined {
    return this.sections[index];
  }

  /** The first section with this name (names repeat in some objects: see sectionsNamed). */
  sectionByName(name: string): Section | undefined {
    return this.nameIndex().get(name)?.[0];
  }

  sectionsNamed(name: string): readonly Section[] {
    return this.nameIndex().get(name) ?? [];
  }

  private nameIndex(): Map<string, Section[]> {
    if (!this.byName) {
      this.byName = new Map();
      for (const s of this.sections) {
        const list = this.byName.get(s.name);
        if (list) list.push(s);
        else this.byName.set(s.name, [s]);
      }
    }
    return this.byName;
  }

  /** The symbol table, or undefined for an object without one. */
  get symbols(): SymbolTable | undefined {
    if (this.symtabCache === undefined) {
      const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
      this.symtabCache = symtab ? SymbolTable.read(this, symtab) : null;
    }
    return this.symtabCache ?? undefined;
  }

  /** The SHT_RELA/SHT_REL section that applies to `target`, if any. */
  relocSectionFor(target: Section): Section | undefined {
    if (!this.relocByTarget) {
      this.relocByTarget = new Map();
      for (const s of this.sections) {
        if ((s.type === SHT_RELA || s.type === SHT_REL) && s.info !== 0 && !this.relocByTarget.has(s.info)) {
          this.relocByTarget.set(s.info, s);
        }
      }
    }
    return this.relocByTarget.get(target.index);
  }

  /** Parsed relocations of a SHT_RELA/SHT_REL section (validated and indexed on first use). */
  relocTable(relSection: Section): RelocTable {
    let t = this.relocCache.get(relSection.index);
    if (!t) {
      t = RelocTable.read(this, relSection);
      this.relocCache.set(relSection.index, t);
    }
    return t;
  }

  /** Relocations that apply to `target`, if it has any. */
  relocationsFor(target: Section): RelocTable | undefined {
    const rs = this.relocSectionFor(target);
    return rs ? this.relocTable(rs) : undefined;
  }

  /** SHT_GROUP contents: the flag word and member section indices. */
  groupMembers(group: Section): { flags: number; members: number[] } {
    const d = viewOf(group.data);
    const members: number[] = [];
    for (let at = 4; at < group.size; at += 4) {
      const m = d.getUint32(at, true);
      if (m >= this.sections.length) throw this.error(group.name, group.offset + at, `group member index ${m} out of range (${this.sections.length} sections)`);
      members.push(m);
    }
    return { flags: group.size >= 4 ? d.getUint32(0, true) : 0, members };
  }

  /** The name to show for a symbol's raw st_shndx (reserved values by their names). */
  shndxLabel(raw: number, resolved: number): string {
    if (raw === SHN_UNDEF) return 'UND';
    if (raw === SHN_ABS) return 'ABS';
    if (raw === SHN_COMMON) return 'COM';
    if (raw >= SHN_LORESERVE && raw !== SHN_XINDEX) return `0x${raw.toString(16)}`;
    return this.sections[resolved]?.name ?? `<section ${resolved}>`;
  }
}
