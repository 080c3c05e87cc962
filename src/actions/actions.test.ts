// SPDX-License-Identifier: GPL-2.0-only
// The actions that rewrite symbols or add tables without a kernel build at hand: kCFI preambles
// (6.12's .cfi_sites, 7.3's grown __cfi_ symbols and --fineibt) and 7.3's .klp.symid, each checked
// for its own bytes and, when the oracles are fetched, for the same ELF content as objtool's.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ElfFile } from '../elf/reader.js';
import { runCheckCommand } from '../cli/check-command.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { type ObjtoolVersion, objtoolPath, runObjtool } from '../testing/corpus.js';
import { firstElfDiff } from '../testing/elf-compare.js';

function orctool(args: string[]): { code: number; stderr: string } {
  let stderr = '';
  const code = runCheckCommand(args, { stdout: () => {}, stderr: (s) => (stderr += s) });
  return { code, stderr };
}

/** orctool and (when fetched) objtool on copies of `obj`; returns orctool's output path. */
function both(dir: string, obj: string, version: ObjtoolVersion, flags: string[], name = 'x.o'): string {
  mkdirSync(join(dir, 'o'), { recursive: true });
  mkdirSync(join(dir, 't'), { recursive: true });
  const ours = join(dir, 'o', name);
  const theirs = join(dir, 't', name);
  copyFileSync(obj, ours);
  copyFileSync(obj, theirs);
  const o = orctool([`--kernel=${version}`, ...flags, ours]);
  if (objtoolPath(version)) {
    const t = runObjtool(version, [...flags, theirs]);
    assert.equal(o.stderr.split(ours).join('X'), t.stderr.split(theirs).join('X'), `${version} ${flags.join(' ')}: messages`);
    assert.equal(o.code, t.status);
    assert.equal(firstElfDiff(ours, theirs), undefined, `${version} ${flags.join(' ')}: ELF content`);
  }
  return ours;
}

describe('kCFI and klp actions', () => {
  let dir = '';
  let cfi = '';
  before(() => {
    dir = makeTempDir();
    cfi = compileFixture(srcPath('actions', 'fixtures', 'cfi.S'), dir);
  });
  after(() => removeDir(dir));

  test('6.12 --cfi: .cfi_sites lists the __cfi_ preambles', () => {
    const out = ElfFile.open(both(join(dir, 'a'), cfi, '6.12', ['--orc', '--cfi']));
    const rel = out.relocationsFor(out.sectionByName('.cfi_sites')!)!;
    assert.equal(rel.count, 2);
    assert.deepEqual([rel.addend(0), rel.addend(1)], [0, 23]);
  });

  test('7.3 --cfi grows each __cfi_ symbol over the padding instead of making __pfx_ symbols; --fineibt adds .cfi_sites', () => {
    const out = ElfFile.open(both(join(dir, 'b'), cfi, '7.3', ['--orc', '--prefix=11', '--cfi', '--fineibt']));
    const syms = out.symbols!;
    const sizes: Record<string, number> = {};
    for (let i = 1; i < syms.count; i++) sizes[syms.name(i)] = syms.size[i]!;
    assert.equal(sizes['__cfi_foo'], 16);
    assert.equal(sizes['__cfi_bar'], 16);
    assert.ok(!Object.keys(sizes).some((n) => n.startsWith('__pfx_')));
    assert.ok(out.sectionByName('.cfi_sites'));
    assert.match(orctool(['--kernel=7.3', '--orc', '--cfi', join(dir, 'b', 'o', 'x.o')]).stderr, /^error: objtool: --cfi requires --prefix/);
  });

  test('7.3 --klp-symids: local functions and objects with a twin, in vmlinux.o only', () => {
    const d1 = compileFixture(srcPath('actions', 'fixtures', 'dup1.c'), dir, ['-fno-inline']);
    const d2 = compileFixture(srcPath('actions', 'fixtures', 'dup2.c'), dir, ['-fno-inline']);
    const linked = join(dir, 'linked.o');
    execFileSync('ld', ['-r', d1, d2, '-o', linked]);
    const out = ElfFile.open(both(join(dir, 'c'), linked, '7.3', ['--orc', '--link', '--klp-symids'], 'vmlinux.o'));
    const sec = out.sectionByName('.klp.symid')!;
    assert.equal(sec.entsize, 16);
    const rel = out.relocationsFor(sec)!;
    const names = Array.from({ length: rel.count }, (_, i) => out.symbols!.name(rel.sym(i)));
    assert.deepEqual(names.sort(), ['dup', 'dup', 'obj1', 'obj1']);
    const other = ElfFile.open(both(join(dir, 'd'), linked, '7.3', ['--orc', '--link', '--klp-symids'], 'other.o'));
    assert.equal(other.sectionByName('.klp.symid'), undefined);
  });
});
