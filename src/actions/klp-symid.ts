// SPDX-License-Identifier: GPL-2.0-only
// 7.x --klp-symids (klp_create_symid_sections()), for vmlinux.o only: `.klp.symid`, one
// {u64 id; u64 addr} entry (R_X86_64_64 on addr) for each local function or object that shares
// its name with another symbol, so that livepatch tooling can tell the copies apart. Prefix
// symbols and symbols in sections the final link drops are left out.
import { R_X86_64_64, SHF_ALLOC, SHT_PROGBITS, STB_LOCAL, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/constants.js';
import type { ElfEditor, NewReloc } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';
import type { Sym } from '../analysis/symbols.js';

const DISCARDED = ['.discard', '.exitcall.exit', '.modinfo', '.no_trim_symbol', '__tracepoint_check'];
const PREFIX_NAMES = ['__pfx_', '__cfi_', '__pi___pfx_', '__pi___cfi_'];

export function writeKlpSymids(file: ObjFile, editor: ElfEditor): boolean {
  if (!file.objname.endsWith('vmlinux.o')) return false;
  const byName = new Map<string, Sym[]>();
  for (const s of file.syms.all) {
    if (s.idx === 0 || s.sec === 0 || s.type === STT_SECTION || s.type === STT_FILE) continue;
    let l = byName.get(s.name);
    if (!l) byName.set(s.name, (l = []));
    l.push(s);
  }
  const needed = file.syms.all.filter((s) => {
    if (s.bind !== STB_LOCAL || s.sec === 0 || (s.type !== STT_FUNC && s.type !== STT_OBJECT)) return false;
    if (s.type === STT_FUNC && PREFIX_NAMES.some((p) => s.name.startsWith(p))) return false;
    const sec = file.elf.section(s.sec)!;
    if (!(sec.flags & SHF_ALLOC) || DISCARDED.some((p) => sec.name.startsWith(p))) return false;
    return byName.get(s.name)!.some((o) => o !== s);
  });
  if (needed.length === 0) return false;
  const data = new Uint8Array(needed.length * 16);
  const view = new DataView(data.buffer);
  const relocs: NewReloc[] = [];
  needed.forEach((s, i) => {
    view.setBigUint64(i * 16, BigInt(i), true);
    relocs.push({ offset: i * 16 + 8, type: R_X86_64_64, sym: s.idx, addend: 0 });
  });
  const index = editor.addSection({ name: '.klp.symid', type: SHT_PROGBITS, flags: 0, data, addralign: 8, entsize: 16 });
  editor.addRelaSection(index, relocs);
  return true;
}
