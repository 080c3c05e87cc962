// SPDX-License-Identifier: GPL-2.0-only
// objtool's elf_init_reloc_text_sym(): a relocation to an instruction goes through its text
// section's symbol (sec->sym: the last STT_SECTION symbol read for it), which is made when the
// section has none (a local symbol: it takes the first global's slot). Shared by every writer
// of instruction-address tables (ORC, .retpoline_sites, .call_sites, ...), so that a section
// symbol one of them made is the one the others use.
import { SHF_EXECINSTR, STT_SECTION } from '../elf/constants.js';
import type { ElfEditor, SymbolRef } from '../elf/writer.js';

const perEditor = new WeakMap<ElfEditor, Map<number, SymbolRef>>();

function readSectionSymbols(editor: ElfEditor): Map<number, SymbolRef> {
  const out = new Map<number, SymbolRef>();
  const syms = editor.elf.symbols;
  if (!syms) return out;
  for (let i = 1; i < syms.count; i++) {
    if (syms.type(i) === STT_SECTION && syms.shndx[i] !== 0) out.set(syms.shndx[i]!, i);
  }
  return out;
}

/** The symbol a relocation to an instruction of section `sec` names; throws for a data section. */
export function textSectionSymbol(editor: ElfEditor, sec: number): SymbolRef {
  let known = perEditor.get(editor);
  if (!known) {
    known = readSectionSymbols(editor);
    perEditor.set(editor, known);
  }
  const s = editor.elf.section(sec);
  if (!s || (s.flags & SHF_EXECINSTR) === 0) {
    throw new Error(`relocation to an instruction in section ${sec} (${editor.sectionName(sec)}), which is not executable`);
  }
  let sym = known.get(sec);
  if (sym === undefined) {
    sym = editor.sectionSymbol(sec);
    known.set(sec, sym);
  }
  return sym;
}
