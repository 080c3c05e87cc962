// SPDX-License-Identifier: GPL-2.0-only
// --ibt: `.ibt_endbr_seal`, the function-start ENDBRs nothing takes the address of, which the
// kernel turns into NOPs at boot (objtool create_ibt_endbr_seal_sections()). Entries are s32
// with a PC32 relocation to the instruction, in decode order (src/analysis/validate-ibt.ts).
import { R_X86_64_PC32, SHF_ALLOC, SHT_PROGBITS } from '../elf/constants.js';
import type { ElfEditor, NewReloc } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';
import { endbrSeal } from '../analysis/validate-ibt.js';
import { textSectionSymbol } from './text-sym.js';

export function writeIbtSeal(file: ObjFile, editor: ElfEditor, stdout: (s: string) => void): boolean {
  if (editor.hasSection('.ibt_endbr_seal')) {
    file.warn('file already has .ibt_endbr_seal, skipping');
    return false;
  }
  const s = endbrSeal(file);
  const list = s.list.filter((insn) => !s.used.has(insn));
  if (file.opts.stats) {
    stdout(`ibt: ENDBR at function start: ${s.list.length}\n`);
    stdout(`ibt: ENDBR inside functions:  ${s.inner}\n`);
    stdout(`ibt: superfluous ENDBR:       ${list.length}\n`);
  }
  if (list.length === 0) return false;
  const index = editor.addSection({ name: '.ibt_endbr_seal', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(list.length * 4), addralign: 1, entsize: 4 });
  const relocs: NewReloc[] = [];
  list.forEach((insn, k) => {
    const func = insn.func;
    if (file.opts.module && func && insn.offset === func.offset && (func.name === 'init_module' || func.name === 'cleanup_module')) {
      if (file.layout.ibt.magicModuleNames === 'fatal') file.fatal(`${func.name}(): Magic init_module() function name is deprecated, use module_init(fn) instead`);
      file.warn(`${func.name}(): not an indirect call target`);
    }
    relocs.push({ offset: k * 4, type: R_X86_64_PC32, sym: textSectionSymbol(editor, insn.sec.index), addend: insn.offset });
  });
  editor.addRelaSection(index, relocs);
  return true;
}
