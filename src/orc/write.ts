// SPDX-License-Identifier: GPL-2.0-only
// Put an ORC table into an object as objtool does (orc_gen.c orc_create(), elf.c
// elf_create_section()/elf_create_section_pair()/elf_init_reloc_text_sym()), the same for a
// single .o and a linked object (--link):
//   .orc_unwind          SHT_PROGBITS, SHF_ALLOC, sh_addralign 1, sh_entsize 6, the entries;
//   .orc_unwind_ip       SHT_PROGBITS, SHF_ALLOC, sh_addralign 1, sh_entsize 4, zeros;
//   .rela.orc_unwind_ip  SHT_RELA, SHF_INFO_LINK, sh_addralign 8, sh_entsize 24, sh_link .symtab,
//                        sh_info .orc_unwind_ip; entry k is R_X86_64_PC32 at k*4 against the
//                        STT_SECTION symbol of the instruction's section, addend = its offset
//                        (no -4: "due to how weak functions work"), the symbol being created
//                        among the locals when the section has none.
// Sections are created in that order. An empty table writes nothing (even when the file has ORC
// already); a file that has .orc_unwind is refused with objtool's warning.
import { R_X86_64_PC32, SHF_ALLOC, SHT_PROGBITS } from '../elf/constants.js';
import { textSectionSymbol } from '../actions/text-sym.js';
import type { ElfEditor, SymbolRef } from '../elf/writer.js';
import { ORC_ENTRY_SIZE, ORC_IP_SIZE } from './entry.js';
import type { OrcTable } from './generate.js';

export const ORC_EXISTS_WARNING = 'file already has .orc_unwind section, skipping';

export type OrcWriteResult =
  /** The three sections were added to the editor (written when the editor is). */
  | { status: 'written'; orcSection: number; ipSection: number; relaSection: number }
  /** No entries: objtool returns 0 from orc_create() without touching the file. */
  | { status: 'empty' }
  /**
   * The file already has .orc_unwind: objtool prints `warning` (WARN: "<obj>: warning: objtool:
   * <warning>"), orc_create() returns -1 and check() stops there but exits 0; changes made by
   * earlier passes are still written.
   */
  | { status: 'exists'; warning: string };

export function writeOrcSections(editor: ElfEditor, table: OrcTable): OrcWriteResult {
  const nr = table.count;
  if (nr === 0) return { status: 'empty' };
  if (editor.hasSection('.orc_unwind')) return { status: 'exists', warning: ORC_EXISTS_WARNING };

  const orcSection = editor.addSection({
    name: '.orc_unwind', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(table.entries.subarray(0, nr * ORC_ENTRY_SIZE)),
    addralign: 1, entsize: ORC_ENTRY_SIZE,
  });
  const ipSection = editor.addSection({
    name: '.orc_unwind_ip', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(nr * ORC_IP_SIZE),
    addralign: 1, entsize: ORC_IP_SIZE,
  });

  // Section symbols are made in entry order, as write_orc_entry() meets their sections.
  const made = new Map<number, SymbolRef>();
  const relocs = editor.addRelaEntries(ipSection, nr, R_X86_64_PC32);
  for (let k = 0; k < nr; k++) {
    const sec = table.sections[k]!;
    let sym = made.get(sec);
    if (sym === undefined) {
      sym = textSectionSymbol(editor, sec);
      made.set(sec, sym);
    }
    relocs.set(k, k * ORC_IP_SIZE, sym, table.offsets[k]!);
  }
  const relaSection = relocs.index;
  return { status: 'written', orcSection, ipSection, relaSection };
}
