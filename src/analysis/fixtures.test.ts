// SPDX-License-Identifier: GPL-2.0-only
// Assembled fixtures, each given to orctool and to Debian's objtool (6.12 with the 6.12 layouts,
// 6.1 with the 6.1 ones: -DK61 selects the 12-byte .altinstructions entries, the old hint
// numbering and the PC-relative annotations, see fixtures/fixture.h), with the same flags: the
// same warnings and the same `--dump=orc` output. orctool is told the kernel version
// (--kernel=), since most fixtures carry no version marker.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCheckCommand } from '../cli/check-command.js';
import { ElfFile } from '../elf/reader.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { type ObjtoolVersion, objtoolPath, runObjtool } from '../testing/corpus.js';

type Expect = RegExp[] | Partial<Record<ObjtoolVersion, RegExp[]>>;

export interface Fixture {
  source: string;
  /** Test name suffix, when one source runs with several flag sets. */
  label?: string;
  /** objtool actions and options; `--orc` when not given. */
  flags?: string[];
  /** Extra compiler flags (C fixtures). */
  cflags?: string[];
  /** Versions to run; both when not given (an instruction or feature missing in one). */
  only?: ObjtoolVersion[];
  /**
   * Messages (after the location) that must be among the warnings, so the case is known to be
   * exercised; none means the fixture must validate cleanly. Per version where they differ.
   */
  expect?: Expect;
  /** Also compare the executable sections' bytes after the run (objtool rewrites code). */
  compareText?: boolean;
}

export const FIXTURES: Fixture[] = [
  { source: 'seed.S' },
  { source: 'conflict.S', expect: [/stack layout conflict in alternatives/] },
  { source: 'jump-to-end.S' },
  {
    source: 'alt2-same.S',
    expect: { '6.12': [/alt2_first\+0x0: stack layout conflict/, /alt2_second\+0x0: stack layout conflict/], '6.1': [/alt2_second\+0x1: stack layout conflict/] },
  },
  { source: 'alt2-nested.S', expect: [/stack layout conflict in alternatives/] },
  { source: 'alt-overlap.S', expect: { '6.12': [/weirdly overlapping alternative! 6 != 7/] } },
  { source: 'alt-empty.S', expect: [/empty alternative entry/] },
  { source: 'alt-reloc.S', label: 'call', cflags: ['-DRELOC_OK'] },
  { source: 'alt-reloc.S', label: 'mov', cflags: ['-DRELOC_MOV'], expect: { '6.1': [/\.altinstr_replacement\+0x2: unsupported relocation in alternatives section/] } },
  { source: 'alt-reloc.S', label: 'indirect call', cflags: ['-DRELOC_IND'], expect: { '6.1': [/\.altinstr_replacement\+0x0: unsupported relocation in alternatives section/] } },
  { source: 'jump-label.S' },
  { source: 'jump-label.S', label: 'hack', flags: ['--orc', '--hacks=jump_label'], compareText: true },
  { source: 'jump-label-bad.S', expect: [/unsupported instruction at jump label/] },
  { source: 'ex-table.S' },
  { source: 'switch.c', cflags: ['-fcf-protection=none'] },
  { source: 'switch.c', label: 'retpoline', cflags: ['-fcf-protection=none', '-mindirect-branch=thunk-extern', '-mindirect-branch-register', '-fjump-tables'] },
  { source: 'switch.c', label: 'notrack', cflags: ['-fcf-protection=branch'], expect: [/notrack prefix found at \.text:0x/] },
  { source: 'symbols-bad.S', label: 'notype inside insn', cflags: ['-DMID_NOTYPE'], expect: { '6.12': [/mid_label\(\): can't find starting instruction/] } },
  {
    source: 'symbols-bad.S', label: 'function at end', cflags: ['-DFUNC_AT_END'],
    expect: { '6.12': [/at_end\(\): STT_FUNC at end of section/], '6.1': [/at_end\(\): can't find starting instruction/] },
  },
  { source: 'c-jump-table.c', cflags: ['-fcf-protection=none'] },
  { source: 'jump-table-dangling.S', expect: { '6.1': [/jt_dangling\+0x17: unreachable instruction/] } },
  { source: 'holes.S', expect: [/\.text\+0x1: unreachable instruction/] },
  { source: 'holes.S', label: 'link', flags: ['--orc', '--link'] },
  { source: 'hints.S' },
  { source: 'hints-bad.S', label: 'bad reg', cflags: ['-DBAD_REG'], expect: [/unsupported unwind_hint sp base reg 1/] },
  {
    source: 'hints-bad.S', label: 'undefined sp', cflags: ['-DUNDEF_SP'],
    expect: { '6.12': [/unknown CFA base reg -1/, /no corresponding CFI save for CFI restore/], '6.1': [/no corresponding CFI save for CFI restore/] },
  },
  // 6.1 puts an unknown hint type's low bits in the ORC entry; orctool's ORC writer refuses it.
  // 6.12 refuses the unknown type; 6.1 writes its low two bits into the entry.
  { source: 'hints-bad.S', label: 'bad type', cflags: ['-DBAD_TYPE'], expect: { '6.12': [/unknown unwind hint type 9/], '6.1': [/no corresponding CFI save for CFI restore/] } },
  { source: 'save-restore.S', expect: [/restore_midblock\+0x7: objtool isn't smart enough/] },
  { source: 'frames.S' },
  { source: 'frames.S', label: 'stackval', flags: ['--orc', '--stackval'] },
  {
    source: 'stack-errors.S',
    expect: [/stack state mismatch: cfa1=4\+8 cfa2=4\+16/, /return with modified stack frame/, /sibling call from callable instruction with modified stack frame/,
      /falls_a\(\) falls through to next function falls_b\(\)/, /undefined stack state/, /unsupported stack pointer realignment/, /unsupported stack register modification/],
  },
  {
    source: 'stack-errors.S', label: 'stackval', flags: ['--orc', '--stackval'],
    expect: {
      '6.12': [/no_frame_call\+0x0: call without frame pointer save\/setup/, /BP used as a scratch register/, /alt_then_call\+0x3: call without/],
      '6.1': [/no_frame_call\+0x0: call without frame pointer save\/setup/, /BP used as a scratch register/, /\.altinstr_replacement\+0x40: call without/],
    },
  },
  { source: 'end-of-section.S', expect: [/\.altinstr_replacement: unexpected end of section/] },
  { source: 'stack-errors.S', label: 'backtrace', flags: ['--orc', '--backtrace'], expect: [/<=== \(sym\)/] },
  { source: 'unreachable.S', expect: { '6.12': [/after_ret\+0x3: unreachable instruction/, /die_loop\(\) is missing a __noreturn annotation/], '6.1': [/after_ret\+0x3: unreachable instruction/] } },
  { source: 'unreachable.S', label: 'no-unreachable', flags: ['--orc', '--no-unreachable'] },
  { source: 'annotations.S' },
  { source: 'annotations-bad.S', label: 'retpoline_safe', cflags: ['-DRETPOLINE_SAFE'], expect: [/retpoline_safe hint not an indirect jump\/call\/ret\/nop/] },
  { source: 'annotations-bad.S', label: 'intra_function_call', cflags: ['-DIFC'], expect: [/intra_function_call not a direct call/] },
  { source: 'annotations-bad.S', label: 'reachable symbol', cflags: ['-DREACH_SYM'], expect: [/unexpected relocation symbol type in \.rela\.discard\.reachable/] },
  { source: 'uaccess.S' },
  {
    source: 'uaccess.S', label: 'uaccess', flags: ['--orc', '--uaccess'],
    expect: [/call to ext_fn\(\) with UACCESS enabled/, /return with UACCESS enabled/, /redundant UACCESS disable/, /recursive UACCESS enable/, /UACCESS-safe disables UACCESS/],
  },
  { source: 'df.S', expect: [/call to ext_fn\(\) with DF set/, /return with DF set/, /recursive STD/, /redundant CLD/] },
  { source: 'notype-sibling.S', expect: { '6.1': [/target_fn\+0x0: stack state mismatch/] } },
  { source: 'jump-past-end.S', expect: [/can't find jump dest instruction at \.text\+0x5/] },
  { source: 'jump-past-end.S', label: 'no-unreachable', flags: ['--orc', '--no-unreachable'], expect: { '6.1': [/can't find jump dest instruction/] } },
  { source: 'musical-chairs.S', expect: { '6.1': [/chairs\+0xe: undefined stack state/] } },
  {
    source: 'noinstr.S', flags: ['--orc', '--link', '--noinstr'],
    expect: {
      '6.12': [/ni_bad_call\+0x0: call to ext_fn\(\) leaves \.noinstr\.text section/, /objtool: pv_ops\[2\]: instrumented$/, /objtool: pv_ops\[3\]: instr_init$/,
        /ni_pv_dirty\+0x0: call to \{dynamic\}\(\) leaves/, /ni_ret_instr\+0x1: return with instrumentation enabled/, /ni_kcov\+0x0: call to __sanitizer_cov_trace_pc/,
        /entry_bad\+0x0: call to ext_fn/, /idle_bad\+0x0: call to ext_fn/],
      '6.1': [/ni_static_call\+0x0: call to __SCT__foo\(\) leaves/, /entry_bad\+0x0: call to ext_fn/, /ni_pv_dirty\+0x0: call to pv_ops\[1\]\(\) leaves/],
    },
  },
  { source: 'noinstr.S', label: 'noinstr only', flags: ['--noinstr', '--link'], expect: [/ni_bad_call\+0x0: call to ext_fn\(\) leaves/, /entry_bad\+0x0: call to ext_fn/] },
  { source: 'noinstr.S', label: 'hack', flags: ['--orc', '--link', '--noinstr', '--hacks=noinstr'], compareText: true, expect: [/ni_bad_call\+0x0: call to ext_fn/] },
  { source: 'noinstr.S', label: 'no link', flags: ['--orc', '--noinstr'], expect: [/--noinstr requires --link/] },
  { source: 'prefix-fallthrough.S', expect: { '6.1': [/__pfx_pfx_target\(\) falls through to next function pfx_target\(\)/] } },
];

const VARIANTS: { name: string; cflags: string[]; objtool: ObjtoolVersion }[] = [
  { name: '6.12 layouts', cflags: [], objtool: '6.12' },
  { name: '6.1 layouts', cflags: ['-DK61', '-DALT12'], objtool: '6.1' },
];

const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

/** objtool's lines (warnings, backtraces, errors) with the file name replaced. */
function objtoolLines(text: string, path: string): string[] {
  return text.split('\n').filter((l) => l.includes('objtool:')).map((l) => l.split(path).join('FILE'));
}

function expected(e: Expect | undefined, v: ObjtoolVersion): RegExp[] {
  if (e === undefined) return [];
  return Array.isArray(e) ? e : (e[v] ?? []);
}

function textBytes(path: string): string {
  const elf = ElfFile.open(path);
  return elf.sections.filter((s) => s.isExec).map((s) => `${s.name}:${Buffer.from(s.data).toString('hex')}`).join('\n');
}

describe('fixtures: orctool and objtool agree', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  for (const v of VARIANTS) {
    const skip = !objtoolPath(v.objtool) && !required ? `objtool ${v.objtool} not fetched (scripts/corpus.sh)` : false;
    for (const fx of FIXTURES) {
      if (fx.only && !fx.only.includes(v.objtool)) continue;
      const flags = fx.flags ?? ['--orc'];
      const name = `${fx.source}${fx.label ? ` (${fx.label})` : ''}, ${flags.join(' ')}, ${v.name}`;
      test(name, { skip }, () => {
        const id = `${fx.source}-${fx.label ?? ''}-${v.objtool}`.replace(/[^\w.-]/g, '_');
        const obj = compileFixture(srcPath('analysis', 'fixtures', fx.source), dir, [...v.cflags, ...(fx.cflags ?? [])]);
        const ours = join(dir, `ours-${id}.o`);
        const theirs = join(dir, `theirs-${id}.o`);
        copyFileSync(obj, ours);
        copyFileSync(obj, theirs);
        let err = '';
        runCheckCommand([...flags, `--kernel=${v.objtool}`, ours], { stdout: () => {}, stderr: (s) => (err += s) });
        const ref = runObjtool(v.objtool, [...flags, theirs]);
        const w1 = objtoolLines(err, ours);
        assert.deepEqual(w1, objtoolLines(ref.stderr, theirs));
        const exp = expected(fx.expect, v.objtool);
        for (const re of exp) assert.ok(w1.some((l) => re.test(l)), `expected ${re} in\n${w1.join('\n')}`);
        if (exp.length === 0) assert.deepEqual(w1, []);
        assert.equal(runObjtool(v.objtool, ['--dump=orc', ours]).stdout, runObjtool(v.objtool, ['--dump=orc', theirs]).stdout);
        if (fx.compareText) assert.equal(textBytes(ours), textBytes(theirs));
      });
    }
  }
});
