// SPDX-License-Identifier: GPL-2.0-only
// __bug_table: which ud2 is a WARN's, after which the kernel goes on with the next instruction
// (handle_bug(), report_bug(), BUGFLAG_WARNING). objtool does not read it (it has the REACHABLE
// annotations, which shipped modules no longer carry); `verify` does, to walk what follows.
// The fields are self-relative `.long X - .`; in a relocatable object each is a relocation, so an
// entry's address is its relocation's symbol + addend. In a linked image (vmlinux) it is the
// field's own address plus its value, and the entry size (the config) is the one of the layout's
// sizes for which every entry's bug_addr is in code.
import type { ElfFile } from '../elf/reader.js';
import { LinkedImage } from '../elf/linked.js';
import type { Section } from '../elf/section.js';
import type { KernelLayout } from './versions.js';
import { relocsOf, relocTarget, relocRef } from './common.js';

/** A code address: section index and offset. */
export interface CodeRef {
  sec: number;
  off: number;
}

/** Targets of the relocations of `name` at (entry start + field), by entry; undefined without relocations. */
function fieldTargets(elf: ElfFile, name: string, field: number, entrySize: number): Map<number, CodeRef> | undefined {
  const sec = elf.sectionByName(name);
  if (!sec) return undefined;
  const rel = relocsOf(elf, sec);
  if (!rel) return undefined;
  const out = new Map<number, CodeRef>();
  for (let i = 0; i < rel.count; i++) {
    const at = rel.offset(i);
    if (at % entrySize !== field) continue;
    out.set((at - field) / entrySize, relocTarget(elf.symbols, relocRef(rel, i)));
  }
  return out;
}

/**
 * WARN sites: the trapping instructions of __bug_table entries with BUGFLAG_WARNING. The entry
 * size tells the config (CONFIG_DEBUG_BUGVERBOSE adds file and line); the layout says where the
 * flags are for each size. Empty when the table is absent or its size is none the layout knows.
 */
export function readWarnSites(elf: ElfFile, layout: KernelLayout): CodeRef[] {
  const sec = elf.sectionByName('__bug_table');
  if (!sec || !sec.size) return [];
  const linked = LinkedImage.of(elf);
  if (linked) return linkedWarnSites(elf, linked, sec, layout);
  const rel = relocsOf(elf, sec);
  if (!rel) return [];
  // One relocation per entry points at code (bug_addr); the others at strings.
  let entries = 0;
  for (let i = 0; i < rel.count; i++) {
    const t = relocTarget(elf.symbols, relocRef(rel, i));
    if (elf.section(t.sec)?.isExec) entries++;
  }
  if (!entries || sec.size % entries) return [];
  const size = sec.size / entries;
  const flagsAt = layout.bugTable.entryFlags[size];
  if (flagsAt === undefined) return [];
  const addr = fieldTargets(elf, '__bug_table', 0, size)!;
  const data = sec.data;
  const out: CodeRef[] = [];
  for (let e = 0; e < entries; e++) {
    const flags = data[e * size + flagsAt]! | (data[e * size + flagsAt + 1]! << 8);
    const a = addr.get(e);
    if (a && flags & layout.bugTable.warningFlag) out.push(a);
  }
  return out;
}

/** readWarnSites() of a linked image. */
function linkedWarnSites(elf: ElfFile, linked: LinkedImage, sec: Section, layout: KernelLayout): CodeRef[] {
  const data = sec.data;
  for (const [sizeKey, flagsAt] of Object.entries(layout.bugTable.entryFlags)) {
    const size = Number(sizeKey);
    if (sec.size % size) continue;
    const out: CodeRef[] = [];
    let fits = true;
    for (let at = 0; at < sec.size && fits; at += size) {
      const t = linked.selfRel32(sec, at);
      if (!t || !elf.section(t.sec)?.isExec) fits = false;
      else if ((data[at + flagsAt]! | (data[at + flagsAt + 1]! << 8)) & layout.bugTable.warningFlag) out.push(t);
    }
    if (fits) return out;
  }
  return [];
}
