// SPDX-License-Identifier: GPL-2.0-only
// The instruction-address tables objtool writes for the kernel's boot-time patching, each from
// the list annotate_call_site() filled while call and jump destinations were added:
//   .static_call_sites  --static-call    {s32 insn; s32 key} (key +1: a tail call), SHF_WRITE
//   .retpoline_sites    --retpoline      s32 insn (calls and jumps to __x86_indirect_*)
//   .return_sites       --rethunk        s32 insn (jumps to __x86_return_thunk)
//   .call_sites         --rethunk with --hacks=skylake: s32 insn (direct calls, for call depth tracking)
//   __mcount_loc        --mcount         u64 insn (R_X86_64_64; calls to __fentry__)
// Each is a PROGBITS, SHF_ALLOC section with its .rela section (elf_create_section_pair()),
// made only when the list is not empty; a file that already has one keeps it, with a warning.
import { R_X86_64_64, R_X86_64_PC32, SHF_ALLOC, SHF_WRITE, SHT_PROGBITS } from '../elf/constants.js';
import type { ElfEditor } from '../elf/writer.js';
import type { Insn, InsnList } from '../analysis/insn.js';
import type { ObjFile } from '../analysis/objfile.js';
import { isSiblingCall } from '../analysis/passes.js';
import { textSectionSymbol } from './text-sym.js';

export type SitesTable = 'static_call' | 'retpoline' | 'return' | 'call' | 'mcount';

interface TableSpec {
  name: string;
  /** objtool's warning when the file has the section already. */
  exists: string;
  entsize: number;
  addralign: number;
  flags: number;
  list: (file: ObjFile) => InsnList;
}

const TABLES: Record<SitesTable, TableSpec> = {
  static_call: {
    name: '.static_call_sites', exists: 'file already has .static_call_sites section, skipping', entsize: 8, addralign: 1,
    flags: SHF_ALLOC | SHF_WRITE, list: (f) => f.staticCallSites,
  },
  retpoline: {
    name: '.retpoline_sites', exists: 'file already has .retpoline_sites, skipping', entsize: 4, addralign: 1, flags: SHF_ALLOC,
    list: (f) => f.retpolineSites,
  },
  return: {
    name: '.return_sites', exists: 'file already has .return_sites, skipping', entsize: 4, addralign: 1, flags: SHF_ALLOC,
    list: (f) => f.returnThunkSites,
  },
  call: {
    name: '.call_sites', exists: 'file already has .call_sites section, skipping', entsize: 4, addralign: 1, flags: SHF_ALLOC,
    list: (f) => f.callSites,
  },
  mcount: {
    name: '__mcount_loc', exists: 'file already has __mcount_loc section, skipping', entsize: 8, addralign: 8, flags: SHF_ALLOC,
    list: (f) => f.mcountSites,
  },
};

const STATIC_CALL_TRAMP_PREFIX = '__SCT__';
const STATIC_CALL_KEY_PREFIX = '__SCK__';

/** create_static_call_sections()' key: `__SCK__<name>`, or in a module without it the trampoline. */
function staticCallKey(file: ObjFile, insn: Insn): number {
  const tramp = insn.callDest!;
  if (!tramp.name.startsWith(STATIC_CALL_TRAMP_PREFIX)) file.fatal(`static_call: trampoline name malformed: ${tramp.name}`);
  const keyName = STATIC_CALL_KEY_PREFIX + tramp.name.slice(STATIC_CALL_TRAMP_PREFIX.length);
  const key = file.syms.byName(keyName);
  if (key) return key.idx;
  if (!file.opts.module) file.fatal(`static_call: can't find static_call_key symbol: ${keyName}`);
  return tramp.idx;
}

/**
 * Write one table into the editor; returns whether a section was made. (Entries point at their
 * instruction through its text section's symbol, made if need be, in list order.)
 */
export function writeSitesTable(file: ObjFile, editor: ElfEditor, table: SitesTable): boolean {
  const spec = TABLES[table];
  if (editor.hasSection(spec.name)) {
    file.warn(spec.exists);
    return false;
  }
  const list = spec.list(file);
  if (list.length === 0) return false;
  const data = new Uint8Array(list.length * spec.entsize);
  const index = editor.addSection({ name: spec.name, type: SHT_PROGBITS, flags: spec.flags, data, addralign: spec.addralign, entsize: spec.entsize });
  // (written as made: vmlinux.o has a quarter of a million call sites)
  const relocs = editor.addRelaEntries(index, list.length * (table === 'static_call' ? 2 : 1), table === 'mcount' ? R_X86_64_64 : R_X86_64_PC32);
  let r = 0;
  list.forEach((insn, k) => {
    const at = k * spec.entsize;
    relocs.set(r++, at, textSectionSymbol(editor, insn.sec.index), insn.offset);
    if (table === 'static_call') relocs.set(r++, at + 4, staticCallKey(file, insn), isSiblingCall(file, insn) ? 1 : 0);
  });
  return true;
}
