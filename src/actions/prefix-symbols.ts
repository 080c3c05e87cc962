// SPDX-License-Identifier: GPL-2.0-only
// --prefix: a `__pfx_<func>` symbol over each chosen function's padding (objtool's
// elf_create_prefix_symbol(); which functions, and their order, is the analysis' choice per
// version: see CheckRules.prefixSymbols). Binding and type are the function's.
import type { ElfEditor } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';

export function addPrefixSymbols(file: ObjFile, editor: ElfEditor): boolean {
  for (const func of file.prefixSymbols) {
    editor.addSymbol({
      name: `__pfx_${func.name}`, value: func.offset - file.opts.prefix, size: file.opts.prefix,
      type: func.type, bind: func.bind, shndx: func.sec,
    });
  }
  return file.prefixSymbols.length > 0;
}
