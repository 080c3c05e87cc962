// SPDX-License-Identifier: GPL-2.0-only
// Every annotation section in the 6.1 and 6.7+ encodings (fixtures/annotations.S), the target
// rules of each era, STACK_FRAME_NON_STANDARD forms, 6.14's .discard.annotate_insn, and errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { R_X86_64_32, R_X86_64_64, R_X86_64_PC32 } from '../elf/constants.js';
import { assembleText, compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { layoutByName } from './versions.js';
import { ANNOTATION_KINDS, annotationSections, missingInsnMessage, readAnnotations, type AnnotationKind } from './annotations.js';
import { KernelMetadataError } from './common.js';
import { readIgnoreAlts } from './alternatives.js';

const L61 = layoutByName('6.1')!;
const L64 = layoutByName('6.4')!;
const L612 = layoutByName('6.12')!;

const LABEL: Record<AnnotationKind, string> = {
  reachable: 'a_reach', unreachable: 'a_unreach', noendbr: 'a_noendbr', retpoline_safe: 'a_retpoline',
  ignore_alts: 'a_ignore', intra_function_calls: 'a_intra', instr_begin: 'a_begin', instr_end: 'a_end',
  validate_unret: 'a_unret',
};

function expectError(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof KernelMetadataError && e.objtoolMessage === message);
}

describe('annotation sections', () => {
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => removeDir(dir));

  const build = (...defines: string[]): ElfFile =>
    ElfFile.open(compileFixture(srcPath('kernel', 'fixtures', 'annotations.S'), dir, defines.map((d) => `-D${d}`)));

  const value = (elf: ElfFile, name: string): number => elf.symbols!.value[elf.symbols!.byNameIndex(name)]!;

  it('which sections each era reads', () => {
    assert.deepEqual(annotationSections(L61).sort(), [
      '.discard.func_stack_frame_non_standard', '.discard.ignore_alts', '.discard.instr_begin', '.discard.instr_end',
      '.discard.intra_function_calls', '.discard.noendbr', '.discard.reachable', '.discard.retpoline_safe',
      '.discard.unreachable',
    ]);
    assert.ok(annotationSections(L64).includes('.discard.validate_unret'));
    assert.ok(!annotationSections(L612).includes('.discard.unreachable'));
  });

  it('6.1 encoding read with the 6.1 layout', () => {
    const elf = build('ENC_6_1');
    const a = readAnnotations(elf, L61);
    const text = elf.sectionByName('.text')!.index;
    for (const kind of ANNOTATION_KINDS) {
      const want = kind === 'validate_unret' ? [] : [[text, value(elf, LABEL[kind])]];
      assert.deepEqual(a.byKind[kind].map((t) => [t.sec, t.off]), want, kind);
    }
    assert.equal(a.byKind.noendbr[0]!.relocType, R_X86_64_64);
    assert.equal(a.byKind.reachable[0]!.relocType, R_X86_64_PC32);
    assert.equal(a.byKind.intra_function_calls[0]!.relocType, R_X86_64_32);
    assert.deepEqual(readIgnoreAlts(elf, L61).map((t) => t.off), [value(elf, 'a_ignore')]);
    for (const [name, check] of Object.entries(a.encodings)) {
      if (name !== '.discard.func_stack_frame_non_standard') assert.ok(check.matches, name);
    }
  });

  it('6.7+ encoding read with the 6.12 layout', () => {
    const elf = build('ENC_6_12');
    const a = readAnnotations(elf, L612);
    const text = elf.sectionByName('.text')!.index;
    for (const kind of ANNOTATION_KINDS) {
      const want = kind === 'unreachable' ? [] : [[text, value(elf, LABEL[kind])]];
      assert.deepEqual(a.byKind[kind].map((t) => [t.sec, t.off]), want, kind);
    }
    assert.equal(a.byKind.reachable[0]!.relocType, R_X86_64_32);
    assert.equal(a.byKind.validate_unret[0]!.relocType, R_X86_64_PC32);
    assert.ok(Object.entries(a.encodings).every(([n, c]) => c.matches || n === '.discard.func_stack_frame_non_standard'));
    // Read with the wrong era's layout, the encodings tell.
    assert.equal(readAnnotations(elf, L61).encodings['.discard.reachable']!.matches, false);
  });

  it('STACK_FRAME_NON_STANDARD: function symbols, a static function by section offset, others warn', () => {
    const elf = build('ENC_6_12');
    const a = readAnnotations(elf, L612);
    const s = elf.symbols!;
    assert.deepEqual(a.ignoredFuncs.map((f) => s.name(f.sym)), ['ann_fn', 'static_fn', 'ann_fn']);
    assert.deepEqual(a.warnings, ['unexpected relocation symbol type in .rela.discard.func_stack_frame_non_standard: 0']);
    assert.deepEqual(a.encodings['.discard.func_stack_frame_non_standard']!.relocTypes, [R_X86_64_64, R_X86_64_PC32].sort());
  });

  it('6.14 .discard.annotate_insn', () => {
    const elf = build('ENC_6_12', 'ANNOTATE_INSN');
    const a = readAnnotations(elf, L612);
    for (const kind of ANNOTATION_KINDS) {
      if (kind === 'unreachable') continue;
      const gen = a.byKind[kind].filter((t) => t.source === '.discard.annotate_insn');
      assert.deepEqual(gen.map((t) => t.off), [value(elf, LABEL[kind])], kind);
    }
    assert.deepEqual(a.otherAnnotations.map((t) => [t.annotype, t.off, t.reloc]), [[42, value(elf, 'a_ret'), 8]]);
    const noendbr = a.byKind.noendbr.find((t) => t.annotype !== undefined)!;
    assert.equal(missingInsnMessage(elf, noendbr), 'bad .discard.annotate_insn entry: 0 of type 1');
  });

  it("objtool's missing-instruction messages", () => {
    const elf = build('ENC_6_1');
    const a = readAnnotations(elf, L61);
    const msg = (k: AnnotationKind): string => missingInsnMessage(elf, a.byKind[k][0]!);
    assert.equal(msg('reachable'), "can't find reachable insn at .text+0x0");
    assert.equal(msg('unreachable'), `can't find unreachable insn at .text+0x${value(elf, 'a_unreach').toString(16)}`);
    assert.equal(msg('intra_function_calls'), 'bad .discard.intra_function_call entry');
    assert.equal(msg('noendbr'), 'bad .discard.noendbr entry');
    const b = readAnnotations(build('ENC_6_12'), L612);
    assert.equal(missingInsnMessage(elf, b.byKind.validate_unret[0]!), 'bad .discard.instr_end entry');
  });

  it('local labels, foreign symbols and the instr_begin quirk', () => {
    const src = `
      .text
      nop
      .Lr: ud2
      .globl g
      g: nop
      .pushsection .discard.reachable
      .reloc ., R_X86_64_32, .Lr
      .long 0
      .popsection
    `;
    const elf = ElfFile.open(compileFixture(writeSource(dir, 'label.S', src), dir, ['-Wa,-L']));
    // 6.8+: a `.L` label is taken at its own offset.
    assert.deepEqual(readAnnotations(elf, L612).byKind.reachable.map((t) => t.off), [1]);
    // Before, only section symbols: fatal.
    expectError(() => readAnnotations(elf, L64), 'unexpected relocation symbol type in .rela.discard.reachable');
    const foreign = ElfFile.open(assembleText(`
      .text
      .globl g
      g: nop
      .pushsection .discard.retpoline_safe
      .long g
      .popsection
      .pushsection .discard.noendbr
      .long g + 0
      .popsection
    `, dir, 'foreign'));
    expectError(() => readAnnotations(foreign, L612), 'unexpected relocation symbol type in .rela.discard.retpoline_safe');
    // noendbr takes any symbol: offset + addend.
    const nb = readAnnotations(foreign, L612, new Set(['.discard.noendbr']));
    assert.deepEqual(nb.byKind.noendbr.map((t) => t.off), [0]);
    const onlyBegin = ElfFile.open(assembleText(`
      .text
      x: nop
      .pushsection .discard.instr_begin
      .long x - .
      .popsection
    `, dir, 'onlybegin'));
    // read_instr_hints() stops when there is no .rela.discard.instr_end.
    assert.deepEqual(readAnnotations(onlyBegin, L612).byKind.instr_begin, []);
  });
});

function writeSource(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
