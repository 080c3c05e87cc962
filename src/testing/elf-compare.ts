// SPDX-License-Identifier: GPL-2.0-only
// Test-only: are two relocatable objects the same ELF content? Every section in the same order
// with the same header fields (name, type, flags, address, size, link, info, alignment, entry
// size) and the same bytes — symbol, string and relocation tables included. Where a section
// sits in the file (sh_offset) may differ: objtool's libelf and orctool's writer lay files out
// differently. Returns the first difference, or undefined.
import { ElfFile } from '../elf/reader.js';
import { SHT_NOBITS } from '../elf/constants.js';

export function firstElfDiff(ours: string, theirs: string): string | undefined {
  const a = ElfFile.open(ours);
  const b = ElfFile.open(theirs);
  if (a.sections.length !== b.sections.length) {
    const names = (e: ElfFile) => new Set(e.sections.map((s) => s.name));
    const na = names(a);
    const nb = names(b);
    const onlyA = [...na].filter((n) => !nb.has(n));
    const onlyB = [...nb].filter((n) => !na.has(n));
    return `${a.sections.length} sections vs objtool ${b.sections.length}` +
      (onlyA.length ? `; only orctool: ${onlyA.join(' ')}` : '') + (onlyB.length ? `; only objtool: ${onlyB.join(' ')}` : '');
  }
  for (let i = 0; i < a.sections.length; i++) {
    const x = a.sections[i]!;
    const y = b.sections[i]!;
    const fields: [string, unknown, unknown][] = [
      ['name', x.name, y.name], ['type', x.type, y.type], ['flags', x.flags, y.flags], ['addr', x.addr, y.addr],
      ['size', x.size, y.size], ['link', x.link, y.link], ['info', x.info, y.info], ['addralign', x.addralign, y.addralign],
      ['entsize', x.entsize, y.entsize],
    ];
    for (const [f, u, v] of fields) if (u !== v) return `[${i}] ${x.name}: ${f} ${String(u)} vs objtool ${String(v)}`;
    if (x.type === SHT_NOBITS) continue;
    const dx = x.data;
    const dy = y.data;
    for (let k = 0; k < dx.length; k++) {
      if (dx[k] !== dy[k]) return `[${i}] ${x.name}+0x${k.toString(16)}: orctool 0x${dx[k]!.toString(16)} objtool 0x${dy[k]!.toString(16)}`;
    }
  }
  return undefined;
}

// `node dist/testing/elf-compare.js A B` (scripts/boot-test.sh): "layout only (every section
// equal)" and exit 0 when the two files differ only in where sections sit, else the first
// difference and exit 1.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) {
    process.stderr.write('usage: elf-compare.js A B\n');
    process.exitCode = 2;
  } else {
    const d = firstElfDiff(a, b);
    process.stdout.write(d === undefined ? 'layout only (every section equal)\n' : `${d}\n`);
    process.exitCode = d === undefined ? 0 : 1;
  }
}
