// SPDX-License-Identifier: GPL-2.0-only
// Detection never guesses: the markers that name a kernel, the refusals (a newer release, a
// release between layouts, an unknown .orc_header, contradicting markers) as one line with exit
// 1 and the file untouched, and the 7.3 layout's ORC bytes checked against objtool 7.3.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { detectLayout, UnknownKernelError } from './detect.js';
import { checkFile, parseCommandLine } from '../cli/check-command.js';
import { dumpOrcFile } from '../orc/dump.js';
import { assembleText, makeTempDir, removeDir } from '../testing/toolchain.js';
import { objtoolPath, runObjtool } from '../testing/corpus.js';

const HASH_6_12 = 'fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24';
const HASH_7_3 = '137c36ad7627c4dd55932176bb0ecdbd5041fc82';

/** A function with a frame, plus the markers asked for. */
function source(opts: { vermagic?: string; orcHeader?: string; hints?: number }): string {
  const parts = [
    '.text', '.globl f', '.type f,@function', 'f:', 'push %rbp', 'mov %rsp,%rbp', 'push %rbx', 'pop %rbx', 'pop %rbp', 'ret', '.size f,.-f',
  ];
  if (opts.vermagic) parts.push('.section .modinfo,"a"', `.asciz "vermagic=${opts.vermagic} SMP mod_unload "`);
  if (opts.orcHeader) {
    parts.push('.section .orc_header,"a"', `.byte ${opts.orcHeader.match(/../g)!.map((b) => `0x${b}`).join(',')}`);
  }
  if (opts.hints !== undefined) {
    // A 7.x object: an annotation, and a CALL hint whose sp_reg names SP in the given numbering.
    parts.push('.section .discard.annotate_insn,"M",@progbits,8', '.long f - .', '.long 1');
    parts.push('.section .discard.unwind_hints,"a"', '.long f - .', '.short 8', `.byte ${opts.hints}`, '.byte 2', '.byte 0', '.balign 4');
  }
  return parts.join('\n') + '\n';
}

function check(path: string, args: string[] = ['--orc']): { code: number; stderr: string } {
  let stderr = '';
  const code = checkFile(parseCommandLine([...args, path]), path, { stdout: () => {}, stderr: (s) => (stderr += s) });
  return { code, stderr };
}

describe('kernel detection', () => {
  let dir = '';
  const obj = (name: string, opts: Parameters<typeof source>[0]): string => assembleText(source(opts), dir, name);
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  test('markers name the layout: vermagic, .orc_header, kbuild, 7.x annotations', () => {
    const layout = (p: string, env: NodeJS.ProcessEnv = {}) => detectLayout(ElfFile.open(p), env).layout.name;
    assert.equal(layout(obj('v73', { vermagic: '7.3.4+deb13-amd64', orcHeader: HASH_7_3 })), '7.3');
    assert.equal(layout(obj('v72', { vermagic: '7.2.13+deb14-cloud-amd64' })), '7.3');
    assert.equal(layout(obj('v612', { vermagic: '6.12.118+deb12-amd64', orcHeader: HASH_6_12 })), '6.12');
    assert.equal(layout(obj('h73', { orcHeader: HASH_7_3 })), '7.3');
    assert.equal(layout(obj('ann73', { hints: 3 })), '7.3');
    const plain = obj('plain', {});
    assert.equal(layout(plain), '6.12');
    assert.equal(layout(plain, { srctree: '/src', VERSION: '7', PATCHLEVEL: '3', SUBLEVEL: '4' }), '7.3');
    assert.equal(layout(plain, { srctree: '/src', VERSION: '6', PATCHLEVEL: '1', SUBLEVEL: '0' }), '6.1');
  });

  test('refusals: one line naming what was found and --kernel=, exit 1, the file untouched', () => {
    const cases: [string, Parameters<typeof source>[0], RegExp][] = [
      ['newer', { vermagic: '7.9.0 SMP' }, /vermagic 7\.9\.0 names Linux 7\.9, newer than the newest kernel orctool knows/],
      ['between', { vermagic: '7.0.1-amd64' }, /vermagic 7\.0\.1-amd64 names Linux 7\.0, which orctool has no layout for/],
      ['hash', { orcHeader: '00112233445566778899aabbccddeeff00112233' }, /\.orc_header hash 00112233445566778899aabbccddeeff00112233 names an ORC format orctool does not know/],
      ['contradict', { vermagic: '7.3.4+deb13-amd64', orcHeader: HASH_6_12 }, /\.orc_header hash fe5d32bf\.\.\. .* contradicts vermagic 7\.3\.4/],
      ['old-regs', { hints: 5 }, /6\.14 to 7\.0 names a kernel orctool has no layout for/],
    ];
    for (const [name, opts, re] of cases) {
      const p = obj(name, opts);
      const before = readFileSync(p);
      const r = check(p);
      assert.equal(r.code, 1, name);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line: ${r.stderr}`);
      assert.match(r.stderr, re, name);
      assert.match(r.stderr, /--kernel=/, name);
      assert.ok(readFileSync(p).equals(before), `${name}: file untouched`);
      assert.throws(() => detectLayout(ElfFile.open(p), {}), UnknownKernelError);
    }
    // --kernel= forces a layout over the markers.
    const p = obj('forced', { vermagic: '7.9.0 SMP' });
    assert.equal(check(p, ['--orc', '--kernel=7.3']).code, 0);
  });

  test('7.3: ORC registers in the 7.2 numbering, as objtool 7.3 writes them', (t) => {
    const p = obj('orc73', { vermagic: '7.3.4+deb13-amd64', orcHeader: HASH_7_3 });
    const ours = join(dir, 'ours.o');
    copyFileSync(p, ours);
    assert.equal(check(ours).code, 0);
    const orc = ElfFile.open(ours).sectionByName('.orc_unwind')!;
    // sp:sp+8 bp:(und) type:call: sp_reg 3 (SP), bp_reg 0, type 2.
    assert.deepEqual([...orc.data.subarray(0, 6)], [8, 0, 0, 0, 0x03, 0x02]);
    // bp saved at prevsp-16: bp_reg 8 (PREV_SP).
    assert.ok(dumpOrcFile(ours).stdout.includes('sp:sp+16 bp:prevsp-16'));
    assert.equal(orc.data[6 + 4], 0x83);
    if (!objtoolPath('7.3')) return t.skip('objtool 7.3 not fetched (scripts/corpus.sh objtool-7.3)');
    const theirs = join(dir, 'theirs.o');
    copyFileSync(p, theirs);
    assert.equal(runObjtool('7.3', ['--orc', theirs]).status, 0);
    assert.equal(dumpOrcFile(ours).stdout, runObjtool('7.3', ['--dump=orc', theirs]).stdout);
    assert.ok(readFileSync(theirs).subarray(0).length > 0);
    const a = ElfFile.open(theirs).sectionByName('.orc_unwind')!;
    assert.deepEqual([...orc.data], [...a.data]);
  });
});
