// SPDX-License-Identifier: GPL-2.0-only
// Writing ORC sections: binutils accept them, Debian's objtool (6.12 and 6.1) reads them back as
// we do, and the sections, symbols and relocations are those objtool --orc itself writes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { CFI_CFA, CFI_UNDEFINED, UnwindType } from '../analysis/cfi.js';
import { SHF_EXECINSTR, SHT_REL, SHT_RELA, STT_FUNC, STT_SECTION } from '../elf/constants.js';
import { ElfFile } from '../elf/reader.js';
import { ElfEditor } from '../elf/writer.js';
import { type KernelLayout, layoutByName } from '../kernel/versions.js';
import { objtoolPath, type ObjtoolVersion } from '../testing/corpus.js';
import { compileFixture, makeTempDir, removeDir, runTool, srcPath } from '../testing/toolchain.js';
import { objtoolDumpSync } from '../corpus/orc-dump.js';
import type { CfiState } from '../analysis/cfi.js';
import { dumpOrc, dumpOrcFile } from './dump.js';
import { encodeOrcEntry, ORC_ENTRY_SIZE, type OrcEntry, unpackOrcEntry } from './entry.js';
import { orcEntryFromCfi } from './from-cfi.js';
import { generateOrc, OrcBuilder, type OrcPoint, type OrcTable } from './generate.js';
import { makeCfi } from './fixture-cfi.js';
import { type DumpedEntry, parseOrcDump } from './parse-dump.js';
import { ORC_EXISTS_WARNING, writeOrcSections } from './write.js';

const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';
const skipOracle = (v: ObjtoolVersion): string | false =>
  objtoolPath(v) === undefined && !required ? `objtool ${v} not fetched (scripts/corpus.sh)` : false;

const SP = 4, BP = 5, R10 = 10;
const CFI_SP_INDIRECT = -3;

/** Hand-made states for the bytes of one function: prologue, frame, body, epilogue. */
function functionPoints(value: number, size: number, layout: KernelLayout): Map<number, CfiState | null> {
  const v3 = layout.orc.mapping === 'v3';
  const m = new Map<number, CfiState | null>();
  m.set(value, makeCfi(SP, 8));
  m.set(value + 1, makeCfi(SP, 16, { bpBase: CFI_CFA, bpOffset: -16 }));
  m.set(value + 2, null);
  m.set(value + 3, makeCfi(BP, 16, { bpBase: CFI_CFA, bpOffset: -16 }));
  if (size > 12) {
    m.set(value + 6, makeCfi(SP, 160, { bpBase: BP, bpOffset: 0, type: UnwindType.REGS, signal: true }));
    m.set(value + 7, makeCfi(CFI_SP_INDIRECT, 8, { type: UnwindType.REGS_PARTIAL }));
    m.set(value + 8, makeCfi(R10, 0, { signal: true }));
    m.set(value + 9, makeCfi(-4 /* BP_INDIRECT */, -8, { bpBase: CFI_CFA, bpOffset: -24 }));
  }
  m.set(value + size - 2, makeCfi(SP, 8));
  m.set(value + size - 1, v3 ? makeCfi(CFI_UNDEFINED, 0, { type: UnwindType.END_OF_STACK }) : makeCfi(CFI_UNDEFINED, 0, { end: true }));
  return m;
}

/** A table for every function of every text section of the object, from hand-made states. */
function handMadeTable(elf: ElfFile, layout: KernelLayout): { table: OrcTable; expected: [string, number, OrcEntry][] } {
  const syms = elf.symbols!;
  const sections = elf.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0);
  const input = sections.map((s) => {
    const pts = new Map<number, CfiState | null>();
    for (const i of syms.inSection(s.index)) {
      if (syms.type(i) !== STT_FUNC) continue;
      for (const [o, c] of functionPoints(syms.value[i]!, syms.size[i]!, layout)) pts.set(o, c);
    }
    const points: OrcPoint[] = [...pts].sort((a, b) => a[0] - b[0]).map(([offset, cfi]) => ({ offset, cfi }));
    return { index: s.index, size: s.size, points };
  });
  // The expected entries, computed the slow way (as the layout holds them).
  const asStored = (e: OrcEntry): OrcEntry => unpackOrcEntry(encodeOrcEntry(e, layout.orc), 0, layout.orc);
  const expected: [string, number, OrcEntry][] = [];
  for (const s of input) {
    let prev = JSON.stringify(orcEntryFromCfi(null, layout.orc.mapping));
    const before = expected.length;
    for (const p of s.points) {
      const e = asStored(orcEntryFromCfi(p.cfi, layout.orc.mapping));
      const j = JSON.stringify(e);
      if (j === prev) continue;
      prev = j;
      expected.push([elf.sections[s.index]!.name, p.offset, e]);
    }
    if (expected.length > before) expected.push([elf.sections[s.index]!.name, s.size, orcEntryFromCfi(null, layout.orc.mapping)]);
  }
  return { table: generateOrc(layout.orc, input), expected };
}

/** A table rebuilt from a dump of a single object (each section's lines are contiguous). */
function tableFromDump(elf: ElfFile, dumped: DumpedEntry[], layout: KernelLayout): OrcTable {
  const b = new OrcBuilder(layout.orc);
  let cur: { index: number; size: number } | undefined;
  for (const d of dumped) {
    const s = elf.sectionByName(d.name!)!;
    if (cur && cur.index !== s.index) b.endSection(cur.index, cur.size);
    cur = s;
    if (Number(d.value) < s.size) b.addEntry(s.index, Number(d.value), d.entry);
  }
  if (cur) b.endSection(cur.index, cur.size);
  return b.finish();
}

function writeTable(src: string, out: string, table: OrcTable): void {
  const ed = new ElfEditor(ElfFile.open(src));
  const r = writeOrcSections(ed, table);
  assert.equal(r.status, 'written');
  ed.write(out);
}

function assertBinutilsAccept(path: string, dir: string): string {
  const re = runTool('readelf', ['-a', '-W', path]);
  assert.equal(re.stderr, '', 'readelf -a stderr');
  assert.equal(re.status, 0);
  const od = runTool('objdump', ['-dr', path]);
  assert.equal(od.stderr, '', 'objdump -dr stderr');
  assert.equal(od.status, 0);
  const relinked = join(dir, `relinked-${path.replace(/^.*\//, '')}`);
  const ld = runTool('ld', ['-r', '-o', relinked, path]);
  assert.equal(ld.stderr, '', 'ld -r stderr');
  assert.equal(ld.status, 0);
  return relinked;
}

/** Everything about an object except where things sit in the file. */
function structure(path: string): unknown {
  const elf = ElfFile.open(path);
  const syms = elf.symbols!;
  return {
    sections: elf.sections.map((s) => [s.name, s.type, s.flags, s.size, s.addralign, s.entsize, s.link, s.info]),
    symbols: Array.from({ length: syms.count }, (_, i) => [syms.name(i), syms.value[i], syms.size[i], syms.info[i], syms.other[i], syms.shndx[i]]),
    relocs: elf.sections.filter((s) => s.type === SHT_RELA || s.type === SHT_REL).map((s) => {
      const t = elf.relocTable(s);
      return [s.name, Array.from({ length: t.count }, (_, i) => [t.offset(i), t.type(i), t.sym(i), t.addend(i)])];
    }),
    orc: Buffer.from(elf.sectionByName('.orc_unwind')?.data ?? []).toString('hex'),
    orcIp: Buffer.from(elf.sectionByName('.orc_unwind_ip')?.data ?? []).toString('hex'),
  };
}

const ERAS: [KernelLayout, ObjtoolVersion][] = [[layoutByName('6.12')!, '6.12'], [layoutByName('6.1')!, '6.1']];

describe('ORC section writer', () => {
  let dir = '';
  let obj = '';
  before(() => {
    dir = makeTempDir('orctool-orc-write-');
    obj = compileFixture(srcPath('orc', 'fixtures', 'frames.c'), dir, ['-ffunction-sections', '-fno-asynchronous-unwind-tables']);
  });
  after(() => removeDir(dir));

  for (const [layout, version] of ERAS) {
    test(`${layout.name}: hand-made CFI states, written, read back by objtool ${version} as by us; binutils accept the file`, { skip: skipOracle(version) }, () => {
      const elf = ElfFile.open(obj);
      const { table, expected } = handMadeTable(elf, layout);
      assert.ok(table.count > 40);
      const out = join(dir, `hand-${layout.name}.o`);
      writeTable(obj, out, table);
      const ours = dumpOrcFile(out, layout.orc);
      assert.equal(ours.status, 0);
      assert.equal(ours.stderr, '');
      // What we wrote is what we meant.
      const back = parseOrcDump(ours.stdout, layout.orc).map((d): [string, number, OrcEntry] => [d.name!, Number(d.value), d.entry]);
      assert.deepEqual(back, expected);
      assert.deepEqual(objtoolDumpSync(version, out), ours);

      const relinked = assertBinutilsAccept(out, dir);
      assert.deepEqual(objtoolDumpSync(version, relinked), dumpOrcFile(relinked, layout.orc));

      // A final link applies the relocations: the linked form of the dump (addresses).
      const exe = join(dir, `hand-${layout.name}.exe`);
      const ld = runTool('ld', ['-e', 'entry', '-o', exe, out]);
      assert.equal(ld.status, 0, ld.stderr);
      const linked = dumpOrcFile(exe, layout.orc);
      assert.match(linked.stdout, /^[0-9a-f]+:/);
      assert.deepEqual(objtoolDumpSync(version, exe), linked);
    });

    test(`${layout.name}: the same sections, symbols and relocations as objtool ${version} --orc writes`, { skip: skipOracle(version) }, () => {
      const theirs = join(dir, `objtool-${version}.o`);
      copyFileSync(obj, theirs);
      const r = runTool(objtoolPath(version)!, ['--orc', theirs], { env: { ...process.env, SRCARCH: 'x86' } });
      assert.equal(r.status, 0, r.stderr);
      const dumped = parseOrcDump(objtoolDumpSync(version, theirs).stdout, layout.orc);
      assert.ok(dumped.length > 20);
      const elf = ElfFile.open(obj);
      // The fixture has text sections without a section symbol: both tools must add them alike.
      const secSyms = new Set(Array.from({ length: elf.symbols!.count }, (_, i) => i).filter((i) => elf.symbols!.type(i) === STT_SECTION).map((i) => elf.symbols!.shndx[i]));
      assert.ok(!secSyms.has(elf.sectionByName('.text.framed')!.index));
      const ours = join(dir, `orctool-${version}.o`);
      writeTable(obj, ours, tableFromDump(elf, dumped, layout));
      assert.deepEqual(structure(ours), structure(theirs));
    });
  }

  test('6.3: written entries read back in the 6.3 format', () => {
    const layout = layoutByName('6.3')!;
    const elf = ElfFile.open(obj);
    const { table, expected } = handMadeTable(elf, layout);
    const out = join(dir, 'hand-6.3.o');
    writeTable(obj, out, table);
    const ours = dumpOrcFile(out, layout.orc);
    const back = parseOrcDump(ours.stdout, layout.orc).map((d): [string, number, OrcEntry] => [d.name!, Number(d.value), d.entry]);
    assert.deepEqual(back, expected);
    assert.match(ours.stdout, /^\.text\.mix\+0: sp:sp\+8 bp:\(und\) type:call signal:0 end:0\n/);
    assert.match(ours.stdout, / sp:sp\+160 bp:bp\+0 type:regs signal:1 end:0\n/);
    assert.match(ours.stdout, / sp:r10\+0 bp:\(und\) type:call signal:1 end:0\n/);
    assert.match(ours.stdout, / sp:\(und\) bp:\(und\) type:call signal:0 end:1\n/);
  });

  test('a file with .orc_unwind is refused with objtool\'s warning; an empty table writes nothing', { skip: skipOracle('6.12') }, () => {
    const layout = layoutByName('6.12')!;
    const out = join(dir, 'twice.o');
    const { table } = handMadeTable(ElfFile.open(obj), layout);
    writeTable(obj, out, table);
    const ed = new ElfEditor(ElfFile.open(out));
    assert.deepEqual(writeOrcSections(ed, table), { status: 'exists', warning: ORC_EXISTS_WARNING });
    assert.deepEqual(writeOrcSections(ed, new OrcBuilder(layout.orc).finish()), { status: 'empty' });
    assert.equal(ed.changed, false);
    // objtool's words for the same situation, and its exit status 0.
    const r = runTool(objtoolPath('6.12')!, ['--orc', out], { env: { ...process.env, SRCARCH: 'x86' } });
    assert.equal(r.status, 0);
    assert.equal(r.stderr, `${out}: warning: objtool: ${ORC_EXISTS_WARNING}\n`);
    // Our own additions count too.
    const ed2 = new ElfEditor(ElfFile.open(obj));
    assert.equal(writeOrcSections(ed2, table).status, 'written');
    assert.equal(writeOrcSections(ed2, table).status, 'exists');
  });

  test('entries must point into executable sections; section symbols are reused', () => {
    const elf = ElfFile.open(obj);
    const data = elf.sectionByName('.bss')!;
    const b = new OrcBuilder(layoutByName('6.12')!.orc);
    b.add(data.index, 0, makeCfi(SP, 8));
    b.endSection(data.index, data.size);
    assert.throws(() => writeOrcSections(new ElfEditor(elf), b.finish()), /not executable/);

    const mix = elf.sectionByName('.text.mix')!;
    const b2 = new OrcBuilder(layoutByName('6.12')!.orc);
    b2.add(mix.index, 0, makeCfi(SP, 8));
    b2.endSection(mix.index, mix.size);
    const ed = new ElfEditor(elf);
    writeOrcSections(ed, b2.finish());
    const out = ElfFile.fromBytes(ed.serialize(), 'mem.o');
    assert.equal(out.symbols!.count, elf.symbols!.count);
    const d = dumpOrc(out, layoutByName('6.12')!.orc);
    assert.equal(d.stdout, '.text.mix+0:type:call sp:sp+8 bp:(und) signal:0\n.text.mix+14:type:(und) sp:(und) bp:(und) signal:0\n');
    const t = unpackOrcEntry(out.sectionByName('.orc_unwind')!.data, ORC_ENTRY_SIZE, layoutByName('6.12')!.orc);
    assert.equal(t.type, 0);
  });
});
