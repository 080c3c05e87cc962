// SPDX-License-Identifier: GPL-2.0-only
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from './reader.js';
import { relocTypeName, SHT_GROUP, STT_FUNC } from './constants.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { assertMatchesReadelf } from './readelf-oracle.js';

describe('ELF reader', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  test('C fixture matches readelf: sections, symbols, relocations', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'sample.c'), dir, ['-ffunction-sections', '-fdata-sections']);
    assertMatchesReadelf(o);
    const elf = ElfFile.open(o);
    const syms = elf.symbols!;
    const run = syms.byNameIndex('run_op');
    assert.equal(syms.type(run), STT_FUNC);
    const sec = syms.shndx[run]!;
    assert.equal(elf.section(sec)!.name, '.text.run_op');
    assert.equal(syms.funcContaining(sec, syms.value[run]! + 3), run);
    assert.equal(syms.funcContaining(sec, syms.value[run]! + syms.size[run]!), -1);
    // The call to ext_log is a PLT32 relocation somewhere inside run_op.
    const rel = elf.relocationsFor(elf.section(sec)!)!;
    const calls = rel.inRange(0, elf.section(sec)!.size).filter((i) => relocTypeName(rel.type(i)) === 'R_X86_64_PLT32');
    assert.ok(calls.some((i) => syms.name(rel.sym(i)) === 'ext_log'));
    const first = calls[0]!;
    assert.equal(rel.at(rel.offset(first)), first);
    assert.equal(rel.firstInRange(rel.offset(first) - 1, rel.offset(first) + 4), first);
  });

  test('assembly fixture: COMDAT group, .cold, NOBITS, absolute relocations', () => {
    const o = compileFixture(srcPath('elf', 'fixtures', 'groups.S'), dir);
    assertMatchesReadelf(o);
    const elf = ElfFile.open(o);
    const group = elf.sections.find((s) => s.type === SHT_GROUP)!;
    const { flags, members } = elf.groupMembers(group);
    assert.equal(flags, 1);
    assert.deepEqual(members.map((m) => elf.section(m)!.name), ['.text.inline_fn']);
    assert.equal(elf.symbols!.name(group.info), 'inline_fn');
    assert.equal(elf.sectionByName('.bss')!.data.length, 0);
    const data = elf.relocationsFor(elf.sectionByName('.data')!)!;
    assert.deepEqual([0, 1].map((i) => [relocTypeName(data.type(i)), data.addend(i)]), [['R_X86_64_64', 16], ['R_X86_64_64', -8]]);
  });

  test('extended section numbering: more than 0xff00 sections', () => {
    const n = 65300;
    let asm = '';
    for (let i = 0; i < n; i++) asm += `.section .text.f${i},"ax",@progbits\n.globl f${i}\n.type f${i},@function\nf${i}:\ncall f${(i * 7) % n}\nret\n.size f${i},.-f${i}\n`;
    const src = join(dir, 'many.S');
    writeFileSync(src, asm);
    const o = compileFixture(src, dir);
    const elf = ElfFile.open(o);
    assert.ok(elf.sections.length > 0xff00);
    assert.ok(elf.header.shstrndx > 0xff00);
    const syms = elf.symbols!;
    const last = syms.byNameIndex(`f${n - 1}`);
    assert.equal(syms.rawShndx[last], 0xffff);
    assert.equal(elf.section(syms.shndx[last]!)!.name, `.text.f${n - 1}`);
    const rel = elf.relocationsFor(elf.section(syms.shndx[last]!)!)!;
    assert.equal(syms.name(rel.sym(0)), `f${((n - 1) * 7) % n}`);
    assertMatchesReadelf(o);
  });
});
