// SPDX-License-Identifier: GPL-2.0-only
// kCFI preambles (Clang's `__cfi_<func>`: `mov $hash, %eax` before the function's padding).
// 6.2 to 6.12 --cfi: `.cfi_sites`, an s32 PC32 entry per `__cfi_` function, walked section by
// section in address order. 7.x: with --prefix, --cfi grows each 5-byte `__cfi_` symbol that a
// function follows over the padding, in place of `__pfx_` symbols (grow_cfi_symbols()), and
// --fineibt then writes `.cfi_sites` in symbol-table order.
import { R_X86_64_PC32, SHF_ALLOC, SHT_PROGBITS, STT_FUNC } from '../elf/constants.js';
import type { ElfEditor, NewReloc } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';
import type { Sym } from '../analysis/symbols.js';
import { textSectionSymbol } from './text-sym.js';

function isCfiPreamble(s: Sym): boolean {
  return s.type === STT_FUNC && s.name.startsWith('__cfi_');
}

/** The `__cfi_` functions in the era's order. */
function preambles(file: ObjFile): Sym[] {
  if (file.layout.cfi === 'grow') return file.syms.all.filter(isCfiPreamble);
  const out: Sym[] = [];
  for (const sec of file.elf.sections) for (const s of file.syms.inSection(sec.index)) if (isCfiPreamble(s)) out.push(s);
  return out;
}

/** create_cfi_sections(): made even when empty. */
export function writeCfiSites(file: ObjFile, editor: ElfEditor): boolean {
  if (editor.hasSection('.cfi_sites')) {
    file.warn('file already has .cfi_sites section, skipping');
    return false;
  }
  const list = preambles(file);
  const index = editor.addSection({ name: '.cfi_sites', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(list.length * 4), addralign: 1, entsize: 4 });
  const relocs: NewReloc[] = list.map((s, k) => ({ offset: k * 4, type: R_X86_64_PC32, sym: textSectionSymbol(editor, s.sec), addend: s.offset }));
  editor.addRelaSection(index, relocs);
  return true;
}

/** 7.x grow_cfi_symbols(); returns whether any grew. */
export function growCfiSymbols(file: ObjFile, editor: ElfEditor): boolean {
  const n = file.opts.prefix;
  let grew = false;
  for (const s of file.syms.all) {
    if (!isCfiPreamble(s) || s.len !== 5) continue;
    if (!file.syms.findFuncByOffset(s.sec, s.offset + s.len + n)) continue;
    s.len += n;
    editor.setSymbolSize(s.idx, s.len);
    grew = true;
  }
  return grew;
}
