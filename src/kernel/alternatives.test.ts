// SPDX-License-Identifier: GPL-2.0-only
// The special sections on hand-written fixtures: both .altinstructions layouts, ALTERNATIVE_2
// sites, 6.11+ nested entries, NOT and DIRECT_CALL flags, the SMAP/POPCNT special cases, jump
// labels with every key-addend bit, the exception table, .parainstructions, and objtool's errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../elf/reader.js';
import { assembleText, compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { layoutByName, type KernelLayout } from './versions.js';
import { altSites, readParainstructions, specialGetAlts, type SpecialAlt } from './alternatives.js';
import { KernelMetadataError } from './common.js';

const L61 = layoutByName('6.1')!;
const L63 = layoutByName('6.3')!;
const L612 = layoutByName('6.12')!;

function fixture(dir: string, name: string, flags: string[] = []): ElfFile {
  return ElfFile.open(compileFixture(srcPath('kernel', 'fixtures', name), dir, flags));
}

function sym(elf: ElfFile, name: string): number {
  const i = elf.symbols!.byNameIndex(name);
  assert.ok(i >= 0, `symbol ${name}`);
  return elf.symbols!.value[i]!;
}

function secIndex(elf: ElfFile, name: string): number {
  const s = elf.sectionByName(name);
  assert.ok(s, `section ${name}`);
  return s.index;
}

/** The fields a test cares about, in one comparable line. */
function brief(a: SpecialAlt): string {
  const f = [
    `orig=${a.origOff}/${a.origLen}`, `new=${a.newSec ? a.newOff : '-'}/${a.newLen}`, `cpuid=0x${a.cpuid.toString(16)}`,
  ];
  if (a.not) f.push('not');
  if (a.directCall) f.push('direct');
  if (a.skipOrig) f.push('skipOrig');
  if (a.skipAlt) f.push('skipAlt');
  return f.join(' ');
}

function expectError(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KernelMetadataError, String(e));
    assert.equal(e.objtoolMessage, message);
    return true;
  });
}

describe('.altinstructions, 6.1 layout (12-byte entries)', () => {
  let dir: string;
  let elf: ElfFile;
  before(() => {
    dir = makeTempDir();
    elf = fixture(dir, 'alt12.S');
  });
  after(() => removeDir(dir));

  it('reads every entry with objtool 6.1 rules', () => {
    const alts = specialGetAlts(elf, L61);
    const text = secIndex(elf, '.text');
    const repl = secIndex(elf, '.altinstr_replacement');
    assert.equal(alts.length, 8);
    for (const a of alts) {
      assert.equal(a.kind, 'alternative');
      assert.equal(a.group, true);
      assert.equal(a.origSec, text);
      if (a.newLen) assert.equal(a.newSec, repl);
    }
    const s = (n: string): number => sym(elf, n);
    const r = (n: string): number => sym(elf, n);
    assert.deepEqual(alts.map(brief), [
      `orig=${s('s1')}/5 new=${r('r1')}/5 cpuid=0x75`,
      `orig=${s('s2')}/5 new=${r('r2a')}/2 cpuid=0x110`,
      `orig=${s('s2')}/5 new=${r('r2b')}/5 cpuid=0x110 not`,
      // X86_FEATURE_SMAP without --uaccess: the STAC replacement is ignored.
      `orig=${s('s3')}/3 new=${r('r3')}/3 cpuid=0x134 skipAlt`,
      `orig=${s('s4')}/5 new=${r('r4')}/5 cpuid=0x97 skipOrig`,
      // new_len 0: the replacement relocation is not read.
      `orig=${s('s5')}/2 new=-/0 cpuid=0x75`,
      // 6.1 passes the whole u16 (0x8134) to arch_handle_alternative(): no SMAP special case.
      `orig=${s('s6')}/3 new=${r('r6')}/3 cpuid=0x134 not`,
      // No nested-alternative fixup before 6.11: the later, shorter entry keeps its length.
      `orig=${s('s2')}/3 new=${r('r2a')}/2 cpuid=0x75`,
    ]);
    assert.deepEqual(alts.map((a) => a.feature), [0x75, 0x110, 0x8110, 0x134, 0x97, 0x75, 0x8134, 0x75]);
    assert.deepEqual(alts.map((a) => a.offset), [0, 12, 24, 36, 48, 60, 72, 84]);
    assert.ok(alts.every((a) => !a.directCall));
  });

  it('SMAP with --uaccess forces the replacement', () => {
    const smap = specialGetAlts(elf, L61, { uaccess: true })[3]!;
    assert.equal(smap.skipOrig, true);
    assert.equal(smap.skipAlt, false);
  });

  it('groups entries by site', () => {
    const alts = specialGetAlts(elf, L61);
    const sites = altSites(alts);
    assert.equal(sites.length, 6);
    const s2 = sites[alts[1]!.site]!;
    assert.deepEqual(s2.entries, [1, 2, 7]);
    assert.equal(s2.consecutive, false);
    assert.equal(s2.lengthsDiffer, true);
    assert.equal(s2.origLen, 5);
    const s1 = sites[alts[0]!.site]!;
    assert.deepEqual([s1.entries, s1.consecutive, s1.lengthsDiffer], [[0], true, false]);
  });

  it('the 14-byte layout refuses it in objtool words', () => {
    expectError(() => specialGetAlts(elf, L612), '.altinstructions size not a multiple of 14');
  });
});

describe('.altinstructions, 6.3+ layout (14-byte entries)', () => {
  let dir: string;
  let elf: ElfFile;
  before(() => {
    dir = makeTempDir();
    elf = fixture(dir, 'alt14.S');
  });
  after(() => removeDir(dir));

  it('reads flags and applies the 6.11+ nested orig_len fixup (6.12 layout)', () => {
    const alts = specialGetAlts(elf, L612);
    assert.equal(alts.length, 13);
    const s = (n: string): number => sym(elf, n);
    assert.deepEqual(alts.map(brief), [
      `orig=${s('s1')}/5 new=${s('r1')}/5 cpuid=0x75`,
      `orig=${s('s2')}/5 new=${s('r2')}/2 cpuid=0x110 not`,
      `orig=${s('s3')}/6 new=${s('r3')}/5 cpuid=0x75 direct`,
      // ALTERNATIVE_2 nested: the inner entry (3 bytes) grows to the outer one's 5.
      `orig=${s('s4')}/5 new=${s('r4a')}/3 cpuid=0x110`,
      `orig=${s('s4')}/5 new=${s('r4b')}/5 cpuid=0x75`,
      // ALTERNATIVE_3 (lengths 2, 6, 4 as stored): all take the longest.
      `orig=${s('s5')}/6 new=${s('r5a')}/2 cpuid=0x110`,
      `orig=${s('s5')}/6 new=${s('r5b')}/6 cpuid=0x75`,
      // ALT_NOT(POPCNT): the low u16 is still 0x97, so skip_orig as for POPCNT.
      `orig=${s('s5')}/6 new=${s('r5c')}/4 cpuid=0x97 not skipOrig`,
      `orig=${s('s6')}/3 new=${s('r6')}/3 cpuid=0x134 skipAlt`,
      `orig=${s('s7')}/5 new=${s('r7')}/5 cpuid=0x97 skipOrig`,
      // 6.12 reads only the low u16 of ft_flags: ALT_NOT(SMAP) gets the SMAP special case too.
      `orig=${s('s8')}/3 new=${s('r8')}/3 cpuid=0x134 not skipAlt`,
      `orig=${s('s9')}/2 new=-/0 cpuid=0x75`,
      // Same address as entry 0 but not next to it: not fixed up.
      `orig=${s('s1')}/3 new=${s('r2')}/2 cpuid=0x110`,
    ]);
    assert.deepEqual(alts.map((a) => a.entryOrigLen), [5, 5, 6, 3, 5, 2, 6, 4, 3, 5, 3, 2, 3]);
    assert.equal(alts[1]!.featureWord, 0x10110);
    assert.equal(alts[2]!.featureWord, 0x20075);
    assert.equal(alts[7]!.feature, 0x97);
    const sites = altSites(alts);
    const s5 = sites[alts[5]!.site]!;
    assert.deepEqual([s5.entries, s5.consecutive, s5.lengthsDiffer, s5.origLen], [[5, 6, 7], true, false, 6]);
    const s1 = sites[alts[0]!.site]!;
    assert.deepEqual([s1.entries, s1.consecutive, s1.lengthsDiffer, s1.origLen], [[0, 12], false, true, 5]);
  });

  it('6.3 layout: same entries, no nested fixup, no DIRECT_CALL flag', () => {
    const alts = specialGetAlts(elf, L63);
    assert.deepEqual(alts.map((a) => a.origLen), [5, 5, 6, 3, 5, 2, 6, 4, 3, 5, 3, 2, 3]);
    assert.equal(alts[2]!.directCall, false);
    assert.equal(alts[1]!.not, true);
    // the cpuid of a 6.3 layout keeps the unknown flag bits out
    assert.equal(alts[2]!.cpuid, 0x75);
  });

  it('the 12-byte layout refuses it', () => {
    expectError(() => specialGetAlts(elf, L61), '.altinstructions size not a multiple of 12');
  });
});

describe('__jump_table and __ex_table', () => {
  let dir: string;
  let elf: ElfFile;
  before(() => {
    dir = makeTempDir();
    elf = fixture(dir, 'jump.S');
  });
  after(() => removeDir(dir));

  for (const layout of [L61, L612] as KernelLayout[]) {
    it(`jump labels and fixups resolve (${layout.name} layout)`, () => {
      const alts = specialGetAlts(elf, layout);
      const text = secIndex(elf, '.text');
      const jl = alts.filter((a) => a.kind === 'jump_label');
      assert.equal(jl.length, 6);
      const t1 = sym(elf, 't1');
      assert.deepEqual(jl.map((a) => [a.origSec, a.origOff, a.newSec, a.newOff]),
        ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'].map((j) => [text, sym(elf, j), text, t1]));
      assert.ok(jl.every((a) => a.jumpOrNop && !a.group));
      assert.deepEqual(jl.map((a) => a.keyAddend), [0, 1, 2, 3, 17, 3]);
      assert.deepEqual(jl.map((a) => a.keyAddendFull), [0, 1, 2, 3, 17, 0x103]);
      assert.deepEqual(jl.map((a) => [a.branch, a.jumpLabelHack]),
        [[false, false], [true, false], [false, true], [true, true], [true, false], [true, true]]);
      const ext = elf.symbols!.byNameIndex('ext_key');
      assert.deepEqual(jl.slice(0, 4).map((a) => a.keySym), [ext, ext, ext, ext]);

      const ex = alts.filter((a) => a.kind === 'ex_table');
      const fixup = secIndex(elf, '.fixup');
      assert.deepEqual(ex.map((a) => [a.origSec, a.origOff, a.newSec, a.newOff, a.exData]), [
        [text, t1, fixup, sym(elf, 'f1'), 0x12345],
        // _ASM_EXTABLE_EX hack: the 0x7ffffff0 bias comes off the fixup offset.
        [text, sym(elf, 't2'), fixup, sym(elf, 'f2'), -3],
      ]);
      assert.ok(ex.every((a) => !a.group && !a.jumpOrNop));
      // objtool order: .altinstructions, __jump_table, __ex_table.
      assert.deepEqual(alts.map((a) => a.kind), [...jl.map(() => 'jump_label'), 'ex_table', 'ex_table']);
    });
  }
});

describe('objtool errors in special sections', () => {
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => removeDir(dir));

  it("can't find orig reloc / new reloc / key reloc", () => {
    const alt = ElfFile.open(assembleText(`
      .text
      x: nop; nop
      .section .altinstructions,"a"
      .long x - .; .long x - .; .4byte 0x75; .byte 1; .byte 1
      .long 0; .long x - .; .4byte 0x75; .byte 1; .byte 1
    `, dir, 'noorig'));
    expectError(() => specialGetAlts(alt, L612), ".altinstructions+0xe: can't find orig reloc");
    const nonew = ElfFile.open(assembleText(`
      .text
      x: nop
      .section .altinstructions,"a"
      .long x - .; .long 0; .4byte 0x75; .byte 1; .byte 1
    `, dir, 'nonew'));
    expectError(() => specialGetAlts(nonew, L612), ".altinstructions+0x4: can't find new reloc");
    const nokey = ElfFile.open(assembleText(`
      .text
      x: nop
      .section __jump_table,"aw"
      .long x - .; .long x - .; .quad key - .
      .long x - .; .long x - .; .quad 0
    `, dir, 'nokey'));
    expectError(() => specialGetAlts(nokey, L612), "__jump_table+0x18: can't find key reloc");
    const ex = ElfFile.open(assembleText(`
      .text
      x: nop
      .section __ex_table,"a"
      .long x - .; .long x - .; .long 0; .long 0
    `, dir, 'exsize'));
    expectError(() => specialGetAlts(ex, L612), '__ex_table size not a multiple of 12');
  });

  it('names the place inside a symbol as offstr() does', () => {
    const elf = ElfFile.open(assembleText(`
      .text
      x: nop
      .section __ex_table,"a"
      .globl table
      .type table, @object
      table:
      .long x - .; .long x - .; .long 0
      .long x - .; .long 0; .long 0
      .size table, . - table
    `, dir, 'exsym'));
    expectError(() => specialGetAlts(elf, L612), "table+0x10: can't find new reloc");
  });

  it('objects without special sections cost nothing', () => {
    const elf = ElfFile.open(assembleText('.text\nret\n', dir, 'plain'));
    assert.deepEqual(specialGetAlts(elf, L612), []);
    assert.deepEqual(readParainstructions(elf, L61), []);
  });
});

describe('.parainstructions', () => {
  let dir: string;
  let elf: ElfFile;
  before(() => {
    dir = makeTempDir();
    elf = fixture(dir, 'para.S');
  });
  after(() => removeDir(dir));

  it('6.1 entries with the clobber mask', () => {
    const text = secIndex(elf, '.text');
    assert.deepEqual(readParainstructions(elf, L61), [
      { instrSec: text, instrOff: sym(elf, 'p1'), type: 1, len: 6, clobbers: 0x1ff, index: 0, offset: 0 },
      { instrSec: text, instrOff: sym(elf, 'p2'), type: 36, len: 6, clobbers: 0x1, index: 1, offset: 16 },
    ]);
  });

  it('6.3 entries have no clobber; 6.12 has no .parainstructions', () => {
    assert.deepEqual(readParainstructions(elf, L63).map((p) => [p.type, p.len, 'clobbers' in p]), [[1, 6, false], [36, 6, false]]);
    assert.deepEqual(readParainstructions(elf, L612), []);
  });
});
