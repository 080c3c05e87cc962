// SPDX-License-Identifier: GPL-2.0-only
// Fuzz target `elf`: the ELF reader on the bytes (ElfFile.fromBytes, no file): the header and
// section table, the symbol table and its indexes, every relocation table (validated, indexed and
// searched), section groups, the linked-image address layer of an ET_EXEC/ET_DYN, the kernel
// detection, and `orctool elf`'s listing of it all. Each part runs on its own, so that a part
// refusing the input (a typed error) does not hide the others.
import { ElfFile } from '../elf/reader.js';
import { LinkedImage } from '../elf/linked.js';
import { SHT_GROUP, SHT_REL, SHT_RELA } from '../elf/constants.js';
import { dumpElf } from '../cli/elf-dump.js';
import { detectLayout } from '../kernel/detect.js';
import { SymbolIndex } from '../analysis/symbols.js';
import { expectTyped } from './harness.js';

/** No kbuild variables: the layout comes from the object alone. */
const NO_ENV: NodeJS.ProcessEnv = {};

export function fuzz(data: Buffer): void {
  let elf: ElfFile | undefined;
  expectTyped(() => (elf = ElfFile.fromBytes(data, 'fuzz.o')));
  if (!elf) return;
  const e = elf;
  for (const s of e.sections) {
    if (s.type === SHT_GROUP) expectTyped(() => e.groupMembers(s));
    if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
    expectTyped(() => {
      const t = e.relocTable(s);
      t.sortedOffsets();
      const target = e.section(s.info);
      t.inRange(0, target?.size ?? 0);
      for (let i = 0; i < t.count && i < 64; i++) t.at(t.offset(i));
      if (target) e.relocationsFor(target);
    });
  }
  expectTyped(() => {
    const syms = e.symbols;
    if (!syms) return;
    for (let i = 0; i < syms.count; i++) syms.record(i);
    for (const s of e.sections) {
      syms.sectionSymbol(s.index);
      syms.funcContaining(s.index, 0);
      syms.funcContaining(s.index, s.size > 0 ? s.size - 1 : 0);
    }
    if (syms.count > 1) syms.byNameIndex(syms.name(syms.count - 1));
    new SymbolIndex(e);
  });
  expectTyped(() => {
    const linked = LinkedImage.of(e);
    if (!linked) return;
    for (const s of e.sections) if (s.size > 0 && linked.placed(s.index)) linked.symbolsAt(s.index, 0);
  });
  expectTyped(() => detectLayout(e, NO_ENV));
  // `orctool elf`: sections, every symbol, every relocation table.
  expectTyped(() => dumpElf(e, () => {}));
}
