// SPDX-License-Identifier: GPL-2.0-only
// ELF64 constants used by orctool (values from the System V gABI and the x86-64 psABI).

export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const EM_X86_64 = 62;

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;
export const RELA_SIZE = 24;
export const REL_SIZE = 16;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_GROUP = 0x200;

export const GRP_COMDAT = 0x1;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;

/** x86-64 relocation type names, indexed by type number (psABI table). */
const RELOC_NAMES: readonly string[] = [
  'R_X86_64_NONE', 'R_X86_64_64', 'R_X86_64_PC32', 'R_X86_64_GOT32', 'R_X86_64_PLT32',
  'R_X86_64_COPY', 'R_X86_64_GLOB_DAT', 'R_X86_64_JUMP_SLOT', 'R_X86_64_RELATIVE',
  'R_X86_64_GOTPCREL', 'R_X86_64_32', 'R_X86_64_32S', 'R_X86_64_16', 'R_X86_64_PC16',
  'R_X86_64_8', 'R_X86_64_PC8', 'R_X86_64_DTPMOD64', 'R_X86_64_DTPOFF64', 'R_X86_64_TPOFF64',
  'R_X86_64_TLSGD', 'R_X86_64_TLSLD', 'R_X86_64_DTPOFF32', 'R_X86_64_GOTTPOFF',
  'R_X86_64_TPOFF32', 'R_X86_64_PC64', 'R_X86_64_GOTOFF64', 'R_X86_64_GOTPC32',
  'R_X86_64_GOT64', 'R_X86_64_GOTPCREL64', 'R_X86_64_GOTPC64', 'R_X86_64_GOTPLT64',
  'R_X86_64_PLTOFF64', 'R_X86_64_SIZE32', 'R_X86_64_SIZE64', 'R_X86_64_GOTPC32_TLSDESC',
  'R_X86_64_TLSDESC_CALL', 'R_X86_64_TLSDESC', 'R_X86_64_IRELATIVE', 'R_X86_64_RELATIVE64',
  'R_X86_64_PC32_BND', 'R_X86_64_PLT32_BND', 'R_X86_64_GOTPCRELX', 'R_X86_64_REX_GOTPCRELX',
  'R_X86_64_CODE_4_GOTPCRELX', 'R_X86_64_CODE_4_GOTTPOFF', 'R_X86_64_CODE_4_GOTPC32_TLSDESC',
];

export function relocTypeName(type: number): string {
  return RELOC_NAMES[type] ?? `R_X86_64_<unknown:${type}>`;
}

const SECTION_TYPE_NAMES: Record<number, string> = {
  [SHT_NULL]: 'NULL', [SHT_PROGBITS]: 'PROGBITS', [SHT_SYMTAB]: 'SYMTAB', [SHT_STRTAB]: 'STRTAB',
  [SHT_RELA]: 'RELA', [SHT_HASH]: 'HASH', [SHT_DYNAMIC]: 'DYNAMIC', [SHT_NOTE]: 'NOTE',
  [SHT_NOBITS]: 'NOBITS', [SHT_REL]: 'REL', [SHT_DYNSYM]: 'DYNSYM', [SHT_INIT_ARRAY]: 'INIT_ARRAY',
  [SHT_FINI_ARRAY]: 'FINI_ARRAY', [SHT_GROUP]: 'GROUP', [SHT_SYMTAB_SHNDX]: 'SYMTAB_SHNDX',
};

export function sectionTypeName(type: number): string {
  return SECTION_TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}

const SYMBOL_TYPE_NAMES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS'];
const SYMBOL_BIND_NAMES = ['LOCAL', 'GLOBAL', 'WEAK'];

export function symbolTypeName(type: number): string {
  return SYMBOL_TYPE_NAMES[type] ?? `${type}`;
}

export function symbolBindName(bind: number): string {
  return SYMBOL_BIND_NAMES[bind] ?? `${bind}`;
}
