// SPDX-License-Identifier: GPL-2.0-only
// `orctool elf FILE`: the object as orctool reads it (sections, symbols, relocations), in a
// readelf-like layout. Useful to check what the ELF layer sees before any analysis runs.
import type { ElfFile } from '../elf/reader.js';
import { relocTypeName, sectionTypeName, SHT_REL, SHT_RELA, symbolBindName, symbolTypeName } from '../elf/constants.js';

function hex(n: number | bigint, width = 0): string {
  return n.toString(16).padStart(width, '0');
}

function flagString(flags: number): string {
  const names: [number, string][] = [[0x1, 'W'], [0x2, 'A'], [0x4, 'X'], [0x10, 'M'], [0x20, 'S'], [0x40, 'I'], [0x200, 'G']];
  return names.filter(([bit]) => flags & bit).map(([, n]) => n).join('');
}

export function dumpElf(elf: ElfFile, out: (line: string) => void): void {
  out(`File: ${elf.path}`);
  out(`Sections (${elf.sections.length}):`);
  out('  [Nr] Name                 Type         Offset   Size     ES Flg Lk Inf Al');
  for (const s of elf.sections) {
    out(`  [${String(s.index).padStart(2)}] ${s.name.padEnd(20)} ${sectionTypeName(s.type).padEnd(12)} ${hex(s.offset, 8)} ${hex(s.size, 8)} ${hex(s.entsize, 2)} ${flagString(s.flags).padStart(3)} ${String(s.link).padStart(2)} ${String(s.info).padStart(3)} ${s.addralign}`);
  }
  const syms = elf.symbols;
  if (syms) {
    out('');
    out(`Symbols (${syms.count}, first global ${syms.firstGlobal}):`);
    out('   Num:            Value  Size Type    Bind   Ndx Name');
    for (let i = 0; i < syms.count; i++) {
      const r = syms.record(i);
      const ndx = elf.shndxLabel(syms.rawShndx[i]!, syms.shndx[i]!);
      out(`${String(i).padStart(6)}: ${hex(syms.valueBig(i), 16)} ${String(r.size).padStart(5)} ${symbolTypeName(r.type).padEnd(7)} ${symbolBindName(r.bind).padEnd(6)} ${ndx.padEnd(3)} ${syms.displayName(i)}`);
    }
  }
  for (const s of elf.sections) {
    if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
    const t = elf.relocTable(s);
    out('');
    out(`Relocations in ${s.name} (${t.count}, for ${elf.section(s.info)?.name ?? s.info}):`);
    for (let i = 0; i < t.count; i++) {
      const sym = t.sym(i);
      const name = syms && sym ? syms.displayName(sym) : '';
      const add = t.addend(i);
      const addStr = t.isRela ? (add < 0 ? ` - ${hex(-add)}` : ` + ${hex(add)}`) : '';
      out(`  ${hex(t.offset(i), 12)}  ${relocTypeName(t.type(i)).padEnd(18)} ${name}${addStr}`);
    }
  }
}
