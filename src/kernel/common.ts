// SPDX-License-Identifier: GPL-2.0-only
// What the kernel-metadata readers share: objtool's way of naming a place in a message
// (offstr()), of finding the relocation at an entry field (find_reloc_by_dest()), of turning a
// relocation into (section, offset), and the error type that carries objtool's own words.
import { OrctoolError } from '../errors.js';
import { STT_NOTYPE, STT_SECTION } from '../elf/constants.js';
import type { ElfFile } from '../elf/reader.js';
import type { RelocTable } from '../elf/relocations.js';
import type { Section } from '../elf/section.js';
import type { SymbolTable } from '../elf/symbols.js';

/**
 * A fatal problem in a kernel metadata section: objtool prints `objtoolMessage` as
 * "<obj>: warning: objtool: <objtoolMessage>" and stops checking the object.
 */
export class KernelMetadataError extends OrctoolError {
  constructor(file: string, where: string, offset: number | undefined, readonly objtoolMessage: string) {
    super(file, where, offset, objtoolMessage);
    this.name = 'KernelMetadataError';
  }
}

/**
 * objtool's offstr(): "func+0xN" for code inside a function, "sym+0xN" for data inside a sized
 * symbol, else "section+0xN". Section symbols never name a place.
 */
export function offstr(elf: ElfFile, sec: Section, offset: number): string {
  const syms = elf.symbols;
  let name: string | undefined;
  let base = 0;
  if (syms) {
    let i = sec.isExec ? syms.funcContaining(sec.index, offset) : -1;
    if (i < 0) i = symbolContaining(syms, sec.index, offset);
    if (i >= 0) {
      name = syms.name(i);
      base = syms.value[i]!;
    }
  }
  return name === undefined ? `${sec.name}+0x${hex(offset)}` : `${name}+0x${hex(offset - base)}`;
}

/** find_symbol_containing(): the first non-section symbol (by start) whose [value, value+size) holds offset. */
function symbolContaining(syms: SymbolTable, secIndex: number, offset: number): number {
  for (const i of syms.inSection(secIndex)) {
    const v = syms.value[i]!;
    if (v > offset) break;
    if (syms.type(i) !== STT_SECTION && offset < v + syms.size[i]!) return i;
  }
  return -1;
}

export function hex(n: number): string {
  return n < 0 ? `-${(-n).toString(16)}` : n.toString(16);
}

/** The relocations applying to a section (objtool's sec->rsec), if any. */
export function relocsOf(elf: ElfFile, sec: Section): RelocTable | undefined {
  const rsec = elf.relocSectionFor(sec);
  return rsec ? elf.relocTable(rsec) : undefined;
}

/** find_reloc_by_dest() on a section that may have no relocations: see RelocTable.at(). */
export function relocAt(rel: RelocTable | undefined, offset: number): number {
  return rel ? rel.at(offset) : -1;
}

/** A relocation's symbol and addend, the two things every reader starts from. */
export interface RelocRef {
  /** Symbol index (0 for STN_UNDEF). */
  sym: number;
  addend: number;
  type: number;
}

export function relocRef(rel: RelocTable, i: number): RelocRef {
  return { sym: rel.sym(i), addend: rel.addend(i), type: rel.type(i) };
}

/**
 * The section a relocation's symbol lives in, as objtool's reloc->sym->sec: 0 (objtool's null
 * section) for undefined, absolute and common symbols.
 */
export function symSection(syms: SymbolTable | undefined, sym: number): number {
  return syms && sym < syms.count ? syms.shndx[sym]! : 0;
}

export function symValue(syms: SymbolTable | undefined, sym: number): number {
  return syms && sym < syms.count ? syms.value[sym]! : 0;
}

/** reloc_to_sec_off(): (sym->sec, sym->offset + addend). */
export function relocTarget(syms: SymbolTable | undefined, r: RelocRef): { sec: number; off: number } {
  return { sec: symSection(syms, r.sym), off: symValue(syms, r.sym) + r.addend };
}

/** classify_symbols(): an STT_NOTYPE symbol named ".L..." is a local label. */
export function isLocalLabel(syms: SymbolTable | undefined, sym: number): boolean {
  return !!syms && sym < syms.count && syms.type(sym) === STT_NOTYPE && syms.name(sym).startsWith('.L');
}

export function symType(syms: SymbolTable | undefined, sym: number): number {
  return syms && sym < syms.count ? syms.type(sym) : STT_NOTYPE;
}
