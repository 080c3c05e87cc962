// SPDX-License-Identifier: GPL-2.0-only
// Malformed objects: each must give one typed error line naming file, part and offset, exit
// status 1, no stack trace, and leave the file as it was.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from './reader.js';
import { ElfFormatError } from '../errors.js';
import { SHDR_SIZE, SYM_SIZE } from './constants.js';
import { compileFixture, makeTempDir, removeDir, repoRoot, runTool, srcPath } from '../testing/toolchain.js';

type Mutation = (b: Buffer, elf: ElfFile) => Buffer;

function shdrAt(elf: ElfFile, name: string): number {
  return elf.header.shoff + elf.sectionByName(name)!.index * SHDR_SIZE;
}

const cases: [string, RegExp, Mutation][] = [
  ['truncated file', /ELF header at offset 0x1e: file truncated/, (b) => b.subarray(0, 30)],
  ['empty file', /ELF header at offset 0x0: file too short/, () => Buffer.alloc(0)],
  ['bad magic', /ELF header at offset 0x0: bad ELF magic/, (b) => { b[1] = 0x46; return b; }],
  ['32-bit class', /ELF header at offset 0x4: unsupported ELF class 1/, (b) => { b[4] = 1; return b; }],
  ['big-endian', /ELF header at offset 0x5: unsupported data encoding 2/, (b) => { b[5] = 2; return b; }],
  ['wrong machine', /ELF header at offset 0x12: unsupported machine 3/, (b) => { b.writeUInt16LE(3, 18); return b; }],
  ['section table past EOF', /ELF header at offset 0x28: section header table .* past the end of the file/, (b) => { b.writeBigUInt64LE(BigInt(b.length - 100), 40); return b; }],
  ['section data past EOF', /\.text at offset 0x[0-9a-f]+: data .* runs past the end of the file/, (b, e) => { b.writeBigUInt64LE(BigInt(b.length), shdrAt(e, '.text') + 24); b.writeBigUInt64LE(16n, shdrAt(e, '.text') + 32); return b; }],
  ['section name index out of range', /section \d+ at offset 0x[0-9a-f]+: name index 99999 out of range/, (b, e) => { b.writeUInt32LE(99999, shdrAt(e, '.data')); return b; }],
  ['symbol name index out of range', /\.symtab at offset 0x[0-9a-f]+: symbol 1: name index 77777 out of range of \.strtab/, (b, e) => { b.writeUInt32LE(77777, e.sectionByName('.symtab')!.offset + SYM_SIZE); return b; }],
  ['symbol section index out of range', /\.symtab at offset 0x[0-9a-f]+: symbol \d+: section index 4660 out of range/, (b, e) => {
    const syms = e.symbols!;
    const i = syms.byNameIndex('main_fn');
    b.writeUInt16LE(0x1234, syms.section.offset + i * SYM_SIZE + 6);
    return b;
  }],
  ['relocation symbol index out of range', /\.rela\.text at offset 0x[0-9a-f]+: relocation 0 refers to symbol 5000, but the symbol table has \d+ symbols/, (b, e) => {
    b.writeUInt32LE(5000, e.sectionByName('.rela.text')!.offset + 12);
    return b;
  }],
  ['entry size does not divide', /\.symtab at offset 0x[0-9a-f]+: size 0x[0-9a-f]+ is not a multiple of the entry size 24/, (b, e) => {
    const at = shdrAt(e, '.symtab') + 32;
    b.writeBigUInt64LE(b.readBigUInt64LE(at) - 5n, at);
    return b;
  }],
  ['relocation entry size does not divide', /\.rela\.text at offset 0x[0-9a-f]+: size 0x[0-9a-f]+ is not a multiple of the entry size 24/, (b, e) => {
    const at = shdrAt(e, '.rela.text') + 32;
    b.writeBigUInt64LE(b.readBigUInt64LE(at) - 1n, at);
    return b;
  }],
];

describe('bad input', () => {
  let dir = '';
  let good = Buffer.alloc(0);
  let goodElf: ElfFile;
  before(() => {
    dir = makeTempDir();
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    good = readFileSync(o);
    goodElf = ElfFile.fromBytes(good, o);
  });
  after(() => removeDir(dir));

  for (const [name, pattern, mutate] of cases) {
    test(name, () => {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.o`);
      const bytes = mutate(Buffer.from(good), goodElf);
      writeFileSync(path, bytes);
      const r = runTool(join(repoRoot, 'bin', 'orctool'), ['elf', path]);
      assert.equal(r.status, 1, 'exit status');
      assert.equal(r.stdout, '', 'nothing printed on stdout');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.ok(lines[0]!.startsWith(`orctool: error: ${path}: `), lines[0]);
      assert.match(lines[0]!, pattern);
      assert.ok(readFileSync(path).equals(bytes), 'file untouched');
      // The library raises the typed error with its parts.
      assert.throws(() => {
        const elf = ElfFile.open(path);
        for (const s of elf.sections) if (s.type === 4) elf.relocTable(s);
      }, (e: unknown) => e instanceof ElfFormatError && e.file === path && e.where !== '');
    });
  }
});

// Sections are read from the file when first used, and the output is a copy of the file with
// the changes over it: a file changed meanwhile must give an error, never a mix of versions.
describe('input changed while orctool works on it', () => {
  let dir = '';
  let obj = '';
  before(() => {
    dir = makeTempDir();
    obj = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
  });
  after(() => removeDir(dir));

  const changeFile = (path: string): Buffer => {
    const b = readFileSync(path);
    const changed = Buffer.concat([b, Buffer.alloc(8)]);
    writeFileSync(path, changed);
    return changed;
  };

  test('reading a range not read yet', async () => {
    const { FileImage } = await import('./file-image.js');
    const path = join(dir, 'read.bin');
    writeFileSync(path, Buffer.alloc(1 << 20, 0xaa));
    const image = FileImage.open(path);
    assert.equal(image.range(0, 4)[0], 0xaa);
    changeFile(path);
    assert.throws(() => image.range(1 << 19, 4), (e: unknown) => e instanceof ElfFormatError && /changed while orctool was reading it/.test(e.message));
  });

  test('writing an edited copy', async () => {
    const { ElfEditor } = await import('./writer.js');
    const path = join(dir, 'write.o');
    writeFileSync(path, readFileSync(obj));
    const elf = ElfFile.open(path);
    const text = elf.sectionByName('.text')!;
    const editor = new ElfEditor(elf);
    editor.patchBytes(text.index, 0, new Uint8Array([0x90]));
    const now = changeFile(path);
    assert.throws(() => editor.write(), /changed since orctool read it; not written/);
    assert.ok(readFileSync(path).equals(now), 'file left as it was');
  });
});
