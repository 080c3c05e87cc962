// SPDX-License-Identifier: GPL-2.0-only
// --dump=orc: line formats of the three eras, and objtool's behaviour on odd files (missing or
// empty sections, short relocation tables, bad symbols, linked objects), each compared with
// Debian's objtool 6.12 and 6.1 byte for byte, exit status and stderr included.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS } from '../elf/constants.js';
import { ElfFile } from '../elf/reader.js';
import { ElfEditor } from '../elf/writer.js';
import { type KernelLayout, layoutByName } from '../kernel/versions.js';
import { objtoolPath, type ObjtoolVersion } from '../testing/corpus.js';
import { compileFixture, makeTempDir, removeDir } from '../testing/toolchain.js';
import { objtoolDumpSync } from '../corpus/orc-dump.js';
import { dumpOrc, dumpOrcFile } from './dump.js';
import { OrcBuilder } from './generate.js';
import { makeCfi } from './fixture-cfi.js';
import { parseOrcDump } from './parse-dump.js';
import { writeOrcSections } from './write.js';

const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';
const skipOracle = (v: ObjtoolVersion): string | false =>
  objtoolPath(v) === undefined && !required ? `objtool ${v} not fetched (scripts/corpus.sh)` : false;

/** A tiny object: one text section, a function symbol, and .orc_unwind with the given raw entries. */
function objectWith(entries: number[][], layout: KernelLayout, addends?: number[]): ElfFile {
  // Fresh copies: the editor writes its new ELF header into the input's bytes (see the report).
  const base = ElfFile.fromBytes(new Uint8Array(BASE!.bytes), 'base.o');
  const ed = new ElfEditor(base);
  const text = base.sectionByName('.text.mix')!;
  const b = new OrcBuilder(layout.orc);
  entries.forEach((_, k) => b.addKey(text.index, addends?.[k] ?? k, 1 + k)); // distinct keys: all kept
  b.endSection(text.index, text.size);
  const t = b.finish();
  const bytes = new Uint8Array(t.count * 6);
  entries.forEach((e, k) => bytes.set(e, k * 6));
  writeOrcSections(ed, { ...t, entries: bytes, count: entries.length });
  return ElfFile.fromBytes(new Uint8Array(ed.serialize()), 'mem.o');
}

let BASE: ElfFile | undefined;

describe('--dump=orc', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir('orctool-orc-dump-');
    BASE = ElfFile.open(compileFixture(join(import.meta.dirname, '..', '..', 'src', 'orc', 'fixtures', 'frames.c'), dir, ['-ffunction-sections', '-fno-asynchronous-unwind-tables']));
  });
  after(() => removeDir(dir));

  test('line formats of 6.1, 6.3 and 6.4+', () => {
    // sp:sp+8 bp:prevsp-16, type bits 1, bit 10 and bit 11 set.
    const raw = [[8, 0, 0xf0, 0xff, 0x15, 0x0d]];
    const l61 = layoutByName('6.1')!, l63 = layoutByName('6.3')!, l612 = layoutByName('6.12')!;
    assert.equal(dumpOrc(objectWith(raw, l61), l61.orc).stdout, '.text.mix+0: sp:sp+8 bp:prevsp-16 type:regs end:1\n');
    assert.equal(dumpOrc(objectWith(raw, l63), l63.orc).stdout, '.text.mix+0: sp:sp+8 bp:prevsp-16 type:regs signal:1 end:1\n');
    assert.equal(dumpOrc(objectWith(raw, l612), l612.orc).stdout, '.text.mix+0:type:? sp:sp+8 bp:prevsp-16 signal:1\n');
    assert.equal(dumpOrc(objectWith(raw, l612), layoutByName('6.4')!.orc).stdout, '.text.mix+0:type:? sp:sp+8 bp:prevsp-16 signal:1\n');
  });

  test('every register and type name, "?" for the unknown ones', () => {
    const l612 = layoutByName('6.12')!;
    const raw: number[][] = [];
    for (let reg = 0; reg < 16; reg++) raw.push([0xf8, 0xff, 12, 0, reg | (reg << 4), reg & 7]);
    const got = dumpOrc(objectWith(raw, l612), l612.orc).stdout.split('\n');
    const names = ['(und)', 'prevsp-8', 'dx-8', 'di-8', 'bp-8', 'sp-8', 'r10-8', 'r13-8', '(bp-8)', '(sp)-8', '?-8', '?-8', '?-8', '?-8', '?-8', '?-8'];
    const bpNames = names.map((n) => n.replace('-8', '+12').replace('(bp+12)', '(bp+12)'));
    const types = ['(und)', 'end', 'call', 'regs', 'regs (partial)', '?', '?', '?'];
    for (let reg = 0; reg < 16; reg++) {
      assert.equal(got[reg], `.text.mix+${reg.toString(16)}:type:${types[reg & 7]} sp:${names[reg]} bp:${bpNames[reg]} signal:0`);
    }
    const l61 = layoutByName('6.1')!;
    const got61 = dumpOrc(objectWith(raw, l61), l61.orc).stdout.split('\n');
    const types61 = ['call', 'regs', 'regs (partial)', '?'];
    for (let reg = 0; reg < 16; reg++) {
      assert.equal(got61[reg], `.text.mix+${reg.toString(16)}: sp:${names[reg]} bp:${bpNames[reg]} type:${types61[reg & 3]} end:${(reg >> 2) & 1}`);
    }
  });

  test('parse-dump reads back every named register and type', () => {
    for (const name of ['6.1', '6.3', '6.12']) {
      const layout = layoutByName(name)!;
      const raw: number[][] = [];
      const o = layout.orc;
      const bits = (o.signalBit !== undefined ? 1 << (o.signalBit - 8) : 0) | (o.endBit !== undefined ? 1 << (o.endBit - 8) : 0);
      for (let reg = 0; reg < 10; reg++) for (let type = 0; type < 3; type++) raw.push([reg, 0, 0x100 - reg, 0xff, reg | ((9 - reg) << 4), type | (reg & 1 ? bits : 0)]);
      const text = dumpOrc(objectWith(raw, layout), layout.orc).stdout;
      const parsed = parseOrcDump(text, layout.orc);
      assert.equal(parsed.length, raw.length);
      const again = dumpOrc(objectWith(raw, layout), layout.orc);
      assert.equal(again.stdout, text);
      parsed.forEach((p, k) => {
        assert.equal(p.name, '.text.mix');
        assert.equal(p.value, BigInt(k));
        assert.equal(p.entry.spReg, raw[k]![4]! & 0xf);
        assert.equal(p.entry.bpReg, raw[k]![4]! >> 4);
        assert.equal(p.entry.type, raw[k]![5]! & 3);
        assert.equal(p.entry.signal, o.signalBit !== undefined && (k / 3 & 1) === 1);
        assert.equal(p.entry.end, o.endBit !== undefined && (k / 3 & 1) === 1);
      });
    }
  });

  for (const [name, version] of [['6.12', '6.12'], ['6.1', '6.1']] as [string, ObjtoolVersion][]) {
    test(`${name}: odd files as objtool ${version} reads them`, { skip: skipOracle(version) }, () => {
      const layout = layoutByName(name)!;
      const b = new OrcBuilder(layout.orc);
      for (const s of BASE!.sections) {
        if (!(s.flags & SHF_EXECINSTR)) continue;
        for (let o = 0; o < s.size; o += 3) b.add(s.index, o, makeCfi(4, 8 * (1 + (o % 5))));
        b.endSection(s.index, s.size);
      }
      const good = new ElfEditor(ElfFile.fromBytes(new Uint8Array(BASE!.bytes), 'base.o'));
      writeOrcSections(good, b.finish());
      const goodBytes = new Uint8Array(good.serialize());
      const src = ElfFile.fromBytes(new Uint8Array(goodBytes), 'good.o');
      const sec = (n: string) => src.sectionByName(n)!;
      const rename = (n: string) => (ed: ElfEditor): void => ed.patchBytes(src.header.shstrndx, sec(n).nameOffset + 1, new Uint8Array([0x58]));
      const relaWith = (f: (v: DataView) => void) => (ed: ElfEditor): void => {
        const d = new Uint8Array(sec('.rela.orc_unwind_ip').data);
        f(new DataView(d.buffer));
        ed.setSectionData(sec('.rela.orc_unwind_ip').index, d);
      };
      const symtabWith = (f: (v: DataView) => void) => (ed: ElfEditor): void => {
        const d = new Uint8Array(src.symbols!.section.data);
        f(new DataView(d.buffer));
        ed.setSectionData(src.symbols!.section.index, d);
      };
      const firstSym = new DataView(sec('.rela.orc_unwind_ip').data.buffer, sec('.rela.orc_unwind_ip').data.byteOffset).getUint32(12, true);
      const framed = src.symbols!.byNameIndex('framed');
      const cases: [string, (ed: ElfEditor) => void, RegExp | null][] = [
        ['as written', () => {}, null],
        ['relocations for 10 entries only', (ed) => ed.setSectionData(sec('.rela.orc_unwind_ip').index, new Uint8Array(sec('.rela.orc_unwind_ip').data.subarray(0, 240))), /gelf_getrela: invalid section index/],
        ['empty relocation section', (ed) => ed.setSectionData(sec('.rela.orc_unwind_ip').index, new Uint8Array(0)), /gelf_getrela/],
        ['.orc_unwind size not a multiple of 6', (ed) => ed.setSectionData(sec('.orc_unwind').index, new Uint8Array(sec('.orc_unwind').size + 1)), /bad .orc_unwind section size/],
        ['empty .orc_unwind', (ed) => ed.setSectionData(sec('.orc_unwind').index, new Uint8Array(0)), null],
        ['empty .orc_unwind_ip', (ed) => ed.setSectionData(sec('.orc_unwind_ip').index, new Uint8Array(0)), null],
        ['no .symtab', rename('.symtab'), null],
        ['no .strtab', rename('.strtab'), null],
        ['no .orc_unwind', rename('.orc_unwind'), null],
        ['no relocations: addresses (negative slots wrap)', (ed) => {
          rename('.rela.orc_unwind_ip')(ed);
          const d = new Uint8Array(sec('.orc_unwind_ip').size);
          const v = new DataView(d.buffer);
          for (let i = 0; i * 4 < d.length; i++) v.setInt32(i * 4, i % 3 === 0 ? -8 * i - 4 : 0x1000 * i, true);
          ed.setSectionData(sec('.orc_unwind_ip').index, d);
        }, null],
        ['function symbols, negative and huge addends', relaWith((v) => {
          v.setUint32(12, framed, true); v.setBigInt64(16, -4n, true);
          v.setUint32(24 + 12, src.symbols!.byNameIndex('big_frame'), true); v.setBigInt64(24 + 16, -0x123456789n, true);
          v.setBigInt64(48 + 16, 0x7fffffffffffffffn, true);
        }), null],
        ['symbol index out of range', relaWith((v) => v.setUint32(3 * 24 + 12, 99999, true)), /gelf_getsym: invalid section index/],
        ['section symbol of a reserved section index', symtabWith((v) => v.setUint16(firstSym * 24 + 6, 0xfff1, true)), /elf_getscn: invalid section index/],
        ['section symbol of section 0', symtabWith((v) => v.setUint16(firstSym * 24 + 6, 0, true)), null],
        ['symbol name out of range', (ed) => {
          relaWith((v) => v.setUint32(2 * 24 + 12, framed, true))(ed);
          symtabWith((v) => v.setUint32(framed * 24, 0x100000, true))(ed);
        }, /elf_strptr: offset out of range/],
        ['two .orc_unwind sections: the last one counts', (ed) => {
          ed.addSection({ name: '.orc_unwind', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(sec('.orc_unwind').data.subarray(0, 18)), addralign: 1, entsize: 6 });
        }, null],
      ];
      for (const [what, mutate, err] of cases) {
        const ed = new ElfEditor(ElfFile.fromBytes(new Uint8Array(goodBytes), 'good.o'));
        mutate(ed);
        const path = join(dir, `${name}-${what.replace(/[^a-z0-9]+/gi, '-')}.o`);
        ed.write(path);
        const theirs = objtoolDumpSync(version, path);
        const ours = dumpOrcFile(path, layout.orc);
        assert.deepEqual(ours, theirs, what);
        if (err) {
          assert.match(ours.stderr, err, what);
          assert.equal(ours.status, 255, what);
          assert.ok(ours.stderr.startsWith(`${path}: warning: objtool: `), what);
        } else {
          assert.equal(ours.status, 0, what);
        }
      }
    });
  }
});
