// SPDX-License-Identifier: GPL-2.0-only
// 7.x --noabs (check_abs_references()): code that runs before the kernel is relocated (the
// arch/x86/boot/startup objects) must not hold absolute addresses. Every R_X86_64_32, 32S or 64
// relocation of an allocated section is reported, but in `__patchable_function_entries`, which
// nothing reads before boot is done. Writes nothing.
import { R_X86_64_32, R_X86_64_32S, R_X86_64_64, SHF_ALLOC } from '../elf/constants.js';
import type { ObjFile } from '../analysis/objfile.js';

export function checkAbsReferences(file: ObjFile): number {
  let warnings = 0;
  for (const sec of file.elf.sections) {
    if (!(sec.flags & SHF_ALLOC) || sec.name === '__patchable_function_entries') continue;
    const rel = file.elf.relocationsFor(sec);
    if (!rel) continue;
    for (let i = 0; i < rel.count; i++) {
      const t = rel.type(i);
      if (t !== R_X86_64_32 && t !== R_X86_64_32S && t !== R_X86_64_64) continue;
      file.warn(`section ${sec.name} has absolute relocation at offset 0x${rel.offset(i).toString(16)}`);
      warnings++;
    }
  }
  return warnings;
}
