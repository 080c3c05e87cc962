// SPDX-License-Identifier: GPL-2.0-only
// readKernelMetadata(): lazy parts, load() in objtool's order, the whole on one fixture.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../elf/reader.js';
import { STB_GLOBAL } from '../elf/constants.js';
import { assembleText, compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { layoutByName } from './versions.js';
import { KernelMetadataError, readKernelMetadata } from './index.js';

const L61 = layoutByName('6.1')!;
const L612 = layoutByName('6.12')!;

describe('readKernelMetadata', () => {
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => removeDir(dir));

  it('reads nothing until asked, and an empty object cheaply', () => {
    const elf = ElfFile.open(assembleText('.text\nret\n', dir, 'empty'));
    const md = readKernelMetadata(elf, L612).load();
    assert.deepEqual([md.specialAlts, md.altSites, md.paraSites, md.unwindHints, md.ignoreAlts], [[], [], [], [], []]);
    assert.deepEqual(md.annotations.warnings, []);
    assert.equal(md.noreturnByName('panic', STB_GLOBAL), 'noreturn');
  });

  it('splits the special entries by kind and keeps sites', () => {
    const elf = ElfFile.open(compileFixture(srcPath('kernel', 'fixtures', 'alt14.S'), dir));
    const md = readKernelMetadata(elf, L612, { uaccess: true });
    assert.equal(md.alternatives.length, 13);
    assert.equal(md.jumpLabels.length, 0);
    assert.equal(md.exTable.length, 0);
    assert.equal(md.altSites.length, 9);
    assert.ok(md.alternatives.every((a) => md.altSites[a.site]!.entries.includes(a.index)));
    assert.equal(md.alternatives[8]!.skipOrig, true);
  });

  it('a broken part fails only when read; load() stops where objtool stops', () => {
    const elf = ElfFile.open(assembleText(`
      .text
      .globl g
      g: nop
      x: nop
      .section .altinstructions,"a"
      .long 0; .long 0; .4byte 0x75; .byte 1; .byte 0
      .section .discard.ignore_alts
      .long g
      .section .discard.intra_function_calls
      .long g
      .section .discard.unwind_hints
      .long x - .; .short 0; .byte 5; .byte 2; .byte 0; .balign 4
    `, dir, 'broken'));
    const md = readKernelMetadata(elf, L612);
    assert.equal(md.unwindHints.length, 1);
    // ignore_alts is read before the special sections, intra_function_calls after them.
    assert.throws(() => md.load(), (e: unknown) =>
      e instanceof KernelMetadataError && e.objtoolMessage === 'unexpected relocation symbol type in .rela.discard.ignore_alts');
    assert.throws(() => md.specialAlts, (e: unknown) =>
      e instanceof KernelMetadataError && e.objtoolMessage === ".altinstructions+0x0: can't find orig reloc");
  });

  it('parainstructions with the 6.1 layout', () => {
    const elf = ElfFile.open(compileFixture(srcPath('kernel', 'fixtures', 'para.S'), dir));
    assert.equal(readKernelMetadata(elf, L61).paraSites.length, 2);
    assert.equal(readKernelMetadata(elf, L612).paraSites.length, 0);
  });
});
