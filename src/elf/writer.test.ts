// SPDX-License-Identifier: GPL-2.0-only
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from './reader.js';
import { ElfEditor } from './writer.js';
import { appendsOnly, fileIdentity, writeInPlace } from './atomic-write.js';
import { startGlobalRefs } from './global-refs.js';
import {
  R_X86_64_NONE, R_X86_64_PC32, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS, SHT_RELA, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_NOTYPE, STT_SECTION,
} from './constants.js';
import { assembleText, compileFixture, makeTempDir, removeDir, runTool, srcPath } from '../testing/toolchain.js';
import { assertMatchesReadelf, oracleRelocs } from './readelf-oracle.js';
import { firstElfDiff } from '../testing/elf-compare.js';

/** binutils must take the file without a word on stderr. */
function assertToolsAccept(path: string, dir: string, withObjdump = true): void {
  const re = runTool('readelf', ['-a', '-W', path]);
  assert.equal(re.stderr, '', 'readelf -a stderr');
  assert.equal(re.status, 0);
  // objdump is quadratic in the section count: skipped for the 0xff00+ section file.
  if (withObjdump) {
    const od = runTool('objdump', ['-dr', path]);
    assert.equal(od.stderr, '', 'objdump -dr stderr');
    assert.equal(od.status, 0);
  }
  const ld = runTool('ld', ['-r', '-o', join(dir, 'relinked.o'), path]);
  assert.equal(ld.stderr, '', 'ld -r stderr');
  assert.equal(ld.status, 0);
}

/** Relocations as (section, offset, type, symbol name, addend), robust to symbol renumbering. */
function namedRelocs(path: string): string[] {
  const elf = ElfFile.open(path);
  return oracleRelocs(path).map((r) => `${r.section} ${r.offset} ${r.type} ${elf.symbols!.displayName(r.sym)} ${r.addend}`);
}

/**
 * A local symbol added in `section` (globals move, and the relocations naming them change); the
 * object `o` so edited and written by the editor the plain way is left in `whole`, for reference.
 */
function localAdded(o: string, section: string, whole: string): (ed: ElfEditor) => void {
  const add = (ed: ElfEditor): void => {
    ed.addSymbol({ name: 'added_local', type: STT_NOTYPE, bind: STB_LOCAL, shndx: ed.elf.sectionByName(section)!.index, value: 1, size: 0 });
  };
  writeFileSync(whole, readFileSync(o));
  const ref = new ElfEditor(ElfFile.open(whole));
  add(ref);
  ref.write();
  return add;
}

describe('ELF editor', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  test('round trip: re-encoding everything read gives the same bytes', () => {
    const objs = [
      compileFixture(srcPath('elf', 'fixtures', 'sample.c'), dir, ['-ffunction-sections', '-fdata-sections']),
      compileFixture(srcPath('elf', 'fixtures', 'sample.c'), dir, ['-g']),
      compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir),
    ];
    for (const o of objs) {
      const before = readFileSync(o);
      const ed = new ElfEditor(ElfFile.open(o));
      ed.reencodeAll();
      assert.ok(Buffer.from(ed.serialize()).equals(before), `${o} re-encoded`);
      assert.ok(Buffer.from(new ElfEditor(ElfFile.open(o)).serialize()).equals(before), `${o} unchanged`);
    }
  });

  test('added sections, symbols and relocations: readelf, objdump, ld -r and a final link accept them', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'sample.c'), dir, ['-ffunction-sections']);
    const stubs = compileFixture(srcPath('elf', 'fixtures', 'stubs.c'), dir);
    const relocsBefore = namedRelocs(o);
    const elf = ElfFile.open(o);
    const ed = new ElfEditor(elf);
    const runOp = elf.sectionByName('.text.run_op')!;
    // A new text section: it has no section symbol yet, so one is made among the locals.
    const extra = ed.addSection({ name: '.text.extra', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array([0x90, 0xc3]), addralign: 16, entsize: 0 });
    const extraSym = ed.sectionSymbol(extra);
    const runSym = ed.sectionSymbol(runOp.index);
    const fn = ed.addSymbol({ name: 'extra_fn', value: 0, size: 2, type: STT_FUNC, bind: STB_GLOBAL, shndx: extra });
    ed.addSymbol({ name: '.Llocal_mark', value: 1, size: 0, type: STT_NOTYPE, bind: STB_LOCAL, shndx: extra });
    // An .orc_unwind_ip-like table: PC32 against section symbols, addend = offset.
    const table = ed.addSection({ name: '.orc_test_ip', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(12), addralign: 4, entsize: 4 });
    ed.addRelaSection(table, [
      { offset: 0, type: R_X86_64_PC32, sym: runSym, addend: 4 },
      { offset: 4, type: R_X86_64_PC32, sym: extraSym, addend: 1 },
      { offset: 8, type: R_X86_64_PC32, sym: fn, addend: 0 },
    ]);
    // NOP out the first call in run_op and drop its relocation, as --mnop would.
    const rel = elf.relocationsFor(runOp)!;
    const call = rel.inRange(0, runOp.size).find((i) => rel.type(i) === 4)!;
    ed.patchBytes(runOp.index, rel.offset(call) - 1, new Uint8Array([0x0f, 0x1f, 0x44, 0x00, 0x00]));
    ed.setRelocType(elf.relocSectionFor(runOp)!.index, call, R_X86_64_NONE);
    const inputBefore = Buffer.from(elf.bytes);
    const out = join(dir, 'edited.o');
    ed.write(out);
    // Editing never touches the parsed input's bytes.
    assert.ok(Buffer.from(elf.bytes).equals(inputBefore), 'input bytes unchanged');

    assertToolsAccept(out, dir);
    assertMatchesReadelf(out);
    const after = ElfFile.open(out);
    const syms = after.symbols!;
    // Locals still precede globals and sh_info says where the globals start.
    for (let i = 1; i < syms.count; i++) assert.equal(syms.bind(i) === STB_LOCAL, i < syms.firstGlobal, `symbol ${i} ${syms.name(i)}`);
    const extraIdx = syms.sectionSymbol(after.sectionByName('.text.extra')!.index);
    assert.equal(syms.type(extraIdx), STT_SECTION);
    // Every original relocation still names the same symbol; the retyped one is NONE.
    const expected = relocsBefore.map((l, k) => (k === relocsBefore.findIndex((x) => x.startsWith(`.rela.text.run_op ${rel.offset(call)} 4`)) ? l.replace(/ 4 ext_log/, ' 0 ext_log') : l));
    const afterRelocs = namedRelocs(out);
    assert.deepEqual(afterRelocs.slice(0, expected.length), expected);
    assert.deepEqual(afterRelocs.slice(expected.length), [
      `.rela.orc_test_ip 0 2 .text.run_op 4`, `.rela.orc_test_ip 4 2 .text.extra 1`, `.rela.orc_test_ip 8 2 extra_fn 0`,
    ]);
    const dis = runTool('objdump', ['-d', '--section=.text.run_op', out]).stdout;
    assert.match(dis, /nopl\s+0x0\(%rax,%rax,1\)/);
    // And the edited object links into an executable.
    const exe = join(dir, 'a.out');
    const link = runTool('ld', ['-e', 'run_op', '-o', exe, out, stubs]);
    assert.equal(link.stderr, '');
    assert.equal(link.status, 0);
  });

  test('extended numbering survives an edit', () => {
    const n = 65290;
    let asm = '';
    for (let i = 0; i < n; i++) asm += `.section .text.f${i},"ax",@progbits\nf${i}: ret\n`;
    const src = join(dir, 'many.S');
    writeFileSync(src, asm);
    const o = compileFixture(src, dir);
    const ed = new ElfEditor(ElfFile.open(o));
    const last = ed.addSection({ name: '.text.new', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array([0xc3]), addralign: 1, entsize: 0 });
    assert.ok(last > 0xff00);
    const t = ed.addSection({ name: '.ip', type: SHT_PROGBITS, flags: SHF_ALLOC, data: new Uint8Array(4), addralign: 4, entsize: 4 });
    ed.addRelaSection(t, [{ offset: 0, type: R_X86_64_PC32, sym: ed.sectionSymbol(last), addend: 0 }]);
    const out = join(dir, 'many-edited.o');
    ed.write(out);
    assertToolsAccept(out, dir, false);
    const after = ElfFile.open(out);
    const syms = after.symbols!;
    const s = syms.sectionSymbol(after.sectionByName('.text.new')!.index);
    assert.equal(syms.rawShndx[s], 0xffff);
    assert.equal(oracleRelocs(out).at(-1)!.sym, s);
  });

  test('writes are atomic: mode kept, and a failed write leaves the input as it was', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    chmodSync(o, 0o640);
    const before = readFileSync(o);
    const ed = new ElfEditor(ElfFile.open(o));
    ed.addSection({ name: '.note.test', type: SHT_PROGBITS, flags: 0, data: new Uint8Array([1, 2, 3]), addralign: 1, entsize: 0 });
    assert.throws(() => ed.write(join(dir, 'no', 'such', 'dir', 'out.o')));
    assert.ok(readFileSync(o).equals(before));
    ed.write();
    assert.equal(statSync(o).mode & 0o777, 0o640);
    assert.ok(ElfFile.open(o).sectionByName('.note.test'));
  });

  test('sections added to the input are appended in place, header last; a failed append is undone', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    const before = readFileSync(o);
    const ino = statSync(o).ino;
    const ed = new ElfEditor(ElfFile.open(o));
    ed.addSection({ name: '.note.test', type: SHT_PROGBITS, flags: 0, data: new Uint8Array([1, 2, 3]), addralign: 1, entsize: 0 });
    const chunks = ed.toChunks();
    assert.ok(appendsOnly(chunks, before.length), 'adding a section should only append');
    const want = ed.serialize();
    ed.write();
    assert.equal(statSync(o).ino, ino, 'written in place');
    assert.ok(readFileSync(o).equals(want));
    assert.ok(readFileSync(o).subarray(64, before.length).equals(before.subarray(64)), 'old bytes untouched');

    // A write that fails part-way (here: past the largest file ext4 allows, EFBIG) leaves the old file.
    writeFileSync(o, before);
    const id = fileIdentity(statSync(o));
    assert.throws(() => writeInPlace(o, [{ position: before.length, bytes: new Uint8Array(100) }, { position: 2 ** 50, bytes: new Uint8Array(1) }], id));
    assert.ok(readFileSync(o).equals(before));
    // And a file changed since it was read is not written at all.
    assert.throws(() => writeInPlace(o, [{ position: before.length, bytes: new Uint8Array(1) }], { ...id, mtimeNs: id.mtimeNs + 1n }), /changed since orctool read it/);
    assert.ok(readFileSync(o).equals(before));
  });

  test('changes over the input\'s bytes go through a copy, never in place', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    const ino = statSync(o).ino;
    const elf = ElfFile.open(o);
    const ed = new ElfEditor(elf);
    ed.patchBytes(elf.sectionByName('.text')!.index, 0, new Uint8Array([0x90]));
    assert.ok(!appendsOnly(ed.toChunks(), statSync(o).size));
    const want = ed.serialize();
    ed.write();
    assert.notEqual(statSync(o).ino, ino, 'renamed over');
    assert.ok(readFileSync(o).equals(want));
  });

  test('a big input (relocateFrom) gets its changed sections after its end: appended in place, the same ELF content as over a copy', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    const before = readFileSync(o);
    const edit = (ed: ElfEditor): void => {
      const elf = ed.elf;
      const text = elf.sectionByName('.text')!.index;
      ed.patchBytes(text, 0, new Uint8Array([0x90]));
      // (a local symbol added: globals move, and the relocations naming them are rewritten)
      ed.addSymbol({ name: 'added_local', type: STT_NOTYPE, bind: STB_LOCAL, shndx: text, value: 1, size: 0 });
    };
    const copied = join(dir, 'copied.o');
    writeFileSync(copied, before);
    const viaCopy = new ElfEditor(ElfFile.open(copied));
    edit(viaCopy);
    viaCopy.write();
    const ino = statSync(o).ino;
    const ed = new ElfEditor(ElfFile.open(o));
    ed.relocateFrom = 0;
    edit(ed);
    assert.ok(appendsOnly(ed.toChunks(), before.length), 'every change after the old end');
    ed.write();
    assert.equal(statSync(o).ino, ino, 'written in place');
    assert.ok(readFileSync(o).subarray(64, before.length).equals(before.subarray(64)), 'old bytes untouched');
    assert.equal(firstElfDiff(o, copied), undefined);
    assert.deepEqual(namedRelocs(o), namedRelocs(copied));
    assertToolsAccept(o, dir);
  });

  test('big relocation sections whose symbols move are patched where they are, or remapped a piece at a time when too many change (streamFrom): the same ELF content', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    const before = readFileSync(o);
    const whole = join(dir, 'whole.o');
    const moveGlobals = localAdded(o, '.text', whole);
    // Over a copy, appended in place, to another file, and in memory; patched or streamed.
    const ways = [['over a copy', Infinity, o], ['appended', 0, o], ['to another file', Infinity, join(dir, 'other.o')]] as const;
    for (const [how0, relocateFrom, out] of ways) for (const patch of [true, false]) {
      const how = `${how0}, ${patch ? 'patched' : 'streamed'}`;
      writeFileSync(o, before);
      const ed = new ElfEditor(ElfFile.open(o));
      ed.relocateFrom = relocateFrom;
      ed.streamFrom = 0;
      if (!patch) ed.patchUpTo = 0;
      moveGlobals(ed);
      const chunks = ed.toChunks();
      if (patch) {
        // (the symbol field of an entry inside a relocation section, where it was)
        const rels = ed.elf.sections.filter((s) => s.type === SHT_RELA);
        assert.ok(chunks.some((c) => c.position > 64 && rels.some((s) => c.position >= s.offset + 12 && c.position + c.bytes.length <= s.offset + s.size)), `${how}: a patch`);
        assert.ok(!chunks.some((c) => c.streamed), `${how}: nothing streamed`);
      } else assert.ok(chunks.some((c) => c.streamed), `${how}: a relocation section streamed`);
      const ino = statSync(o).ino;
      const mem = join(dir, 'mem.o');
      writeFileSync(mem, ed.serialize());
      ed.write(out);
      if (relocateFrom === 0) assert.equal(statSync(o).ino, ino, `${how}: written in place`);
      assert.equal(firstElfDiff(out, whole), undefined, how);
      assert.equal(firstElfDiff(mem, whole), undefined, `${how}, in memory`);
      assert.deepEqual(namedRelocs(out), namedRelocs(whole), how);
    }
    // An object read from memory: written whole, then the pieces over it.
    const ed = new ElfEditor(ElfFile.fromBytes(before, o));
    ed.streamFrom = 0;
    moveGlobals(ed);
    const out = join(dir, 'from-memory.o');
    ed.write(out);
    assert.equal(firstElfDiff(out, whole), undefined, 'from memory');
  });

  test('entries naming globals found beforehand on another thread (global-refs.ts): only the symbol fields that change are written', () => {
    // A data section of 4,000 relocations, three of them to the first global (which an added
    // local moves) and the rest to locals.
    const lines = ['\t.data', 'l0:', '\t.globl g0', 'g0:', '\t.globl g1', 'g1:'];
    for (let k = 0; k < 4000; k++) lines.push(`\t.quad ${k % 1000 === 7 && k < 3000 ? 'g0' : 'l0'} + ${k}`);
    const o = assembleText(lines.join('\n') + '\n', dir, 'many-relocs');
    const whole = join(dir, 'many-whole.o');
    const addLocal = localAdded(o, '.data', whole);
    const ed = new ElfEditor(ElfFile.open(o));
    const scan = startGlobalRefs(ed.elf, 0);
    assert.ok(scan, 'a scan started');
    const refs = scan.wait();
    const rela = ed.elf.sectionByName('.rela.data')!;
    assert.equal(refs?.get(rela.index)?.entries.length, 3, 'three entries name a global');
    ed.globalRefs = () => refs;
    addLocal(ed);
    const fields = ed.toChunks().filter((c) => c.position >= rela.offset && c.position < rela.offset + rela.size);
    assert.equal(fields.length, 3, 'three patches');
    assert.ok(fields.every((c) => c.bytes.length === 4 && (c.position - rela.offset - 12) % 24 === 0), 'each a symbol field');
    ed.write();
    assert.equal(firstElfDiff(o, whole), undefined);
    assert.deepEqual(namedRelocs(o), namedRelocs(whole));
  });
});
