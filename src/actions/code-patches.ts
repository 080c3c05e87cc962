// SPDX-License-Identifier: GPL-2.0-only
// The code objtool rewrites in place, each with its relocation turned into R_X86_64_NONE:
// --hacks=jump_label turns a jump-label site the key says starts disabled into a NOP;
// --hacks=noinstr turns KCOV calls in noinstr text into NOPs (a tail call into a return);
// --mnop turns calls to __fentry__ into NOPs.
import { R_X86_64_NONE } from '../elf/constants.js';
import type { ElfEditor } from '../elf/writer.js';
import type { ObjFile, RelocRef } from '../analysis/objfile.js';
import type { Insn } from '../analysis/insn.js';
import { nopInsn, retInsn } from '../x86/index.js';

function rewrite(editor: ElfEditor, insn: Insn, reloc: RelocRef | undefined, bytes: Uint8Array): void {
  if (reloc) editor.setRelocType(reloc.table.section.index, reloc.i, R_X86_64_NONE);
  editor.patchBytes(insn.sec.index, insn.offset, bytes);
}

/** Apply every rewrite the check decided on; returns whether there was any. */
export function applyCodePatches(file: ObjFile, editor: ElfEditor): boolean {
  let changed = false;
  for (const insn of file.jumpLabelNops) {
    rewrite(editor, insn, file.insnReloc(insn), nopInsn(insn.len) ?? nopInsn(5)!);
    changed = true;
  }
  for (const { insn, sibling, reloc } of file.noinstrHackSites) {
    const bytes = sibling ? retInsn(insn.len) : nopInsn(insn.len);
    if (!bytes) continue;
    rewrite(editor, insn, reloc, bytes);
    changed = true;
  }
  for (const { insn, reloc } of file.mnopSites) {
    const bytes = nopInsn(insn.len);
    if (!bytes) continue;
    rewrite(editor, insn, reloc, bytes);
    changed = true;
  }
  return changed;
}
