// SPDX-License-Identifier: GPL-2.0-only
// `orctool patch` against the bytes the kernel would produce, read back with objdump -dr.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { detectLayout } from '../kernel/detect.js';
import { applyPatches, parseFeatures } from './apply.js';
import { optimizeNops612 } from './nops.js';
import { compileFixture, makeTempDir, removeDir, runTool, srcPath } from '../testing/toolchain.js';

/** objdump -dr of one function, one instruction (or relocation) per line, addresses stripped. */
function disasm(path: string, func: string): string[] {
  const r = runTool('objdump', ['-dr', '--no-show-raw-insn', `--disassemble=${func}`, path]);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').map((l) => l.replace(/^\s*[0-9a-f]+:\s*/, '').replace(/\s+/g, ' ').trim()).filter((l) => l && !l.startsWith('Disassembly') && !l.includes('file format') && !/^[0-9a-f]+ <.*>:$/.test(l))
    // Relocations of replaced bytes are retyped to R_X86_64_NONE: not part of the code.
    .filter((l) => !l.includes('R_X86_64_NONE'));
}

function patched(obj: string, features: string, out: string): string[] {
  const elf = ElfFile.open(obj);
  const layout = detectLayout(elf).layout;
  applyPatches(elf, layout, parseFeatures(features, layout)).editor.write(out);
  assert.equal(runTool('readelf', ['-a', '-W', out]).stderr, '');
  return disasm(out, 'sites');
}

describe('orctool patch', () => {
  let dir = '';
  let obj14 = '';
  let obj12 = '';
  before(() => {
    dir = makeTempDir();
    obj14 = compileFixture(srcPath('patch', 'fixtures', 'patch.S'), dir);
    obj12 = join(dir, 'patch12.o');
    runTool('gcc', ['-c', '-DALT12', '-o', obj12, srcPath('patch', 'fixtures', 'patch.S')]);
  });
  after(() => removeDir(dir));

  test('no features: originals kept, ALWAYS still applies (direct call)', () => {
    const d = patched(obj14, '', join(dir, 'none.o'));
    assert.match(d[0]!, /^call /);
    assert.match(d[1]!, /R_X86_64_PLT32 old_copy-0x4/);
    // NOT XENPV with XENPV absent: the jmp is replaced by a 2-byte NOP.
    assert.equal(d[2], 'xchg %ax,%ax');
    // DIRECT_CALL: call *pv_ops+8(%rip) became a direct call to native_save_fl.
    assert.ok(d.some((l) => /R_X86_64_PLT32 native_save_fl-0x4/.test(l)), d.join('\n'));
  });

  test('a relative call in the replacement is re-targeted; ALTERNATIVE_2: the last match wins', () => {
    const d = patched(obj14, 'ERMS,FSRM,XENPV', join(dir, 'both.o'));
    assert.match(d[1]!, /R_X86_64_PLT32 new_copy-0x4/);
    // XENPV present: the NOT entry keeps the jmp.
    assert.match(d[2]!, /^jmp /);
    const relocs = d.filter((l) => l.includes('R_X86_64_PLT32'));
    assert.ok(relocs.some((l) => /fast_copy-0x4/.test(l)), relocs.join('\n'));
    const only = patched(obj14, 'ERMS', join(dir, 'erms.o')).filter((l) => l.includes('R_X86_64_PLT32'));
    assert.equal(only.filter((l) => /new_copy-0x4/.test(l)).length, 2);
  });

  test('6.1 layout: paravirt site becomes a direct call plus NOPs', () => {
    const d = patched(obj12, '', join(dir, 'pv.o'));
    const i = d.findIndex((l) => /R_X86_64_PLT32 native_save_fl-0x4/.test(l));
    assert.ok(i > 0, d.join('\n'));
    assert.match(d[i - 1]!, /^call /);
    assert.equal(d[i + 1], 'nop');
  });
});

describe('optimize_nops() per version', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  test('7.x insn_is_nop() also takes mov %reg,%reg, lea 0(%reg),%reg and jmp +0, but not PAUSE or xchg %r8,%rax', () => {
    // mov %rax,%rax; nop; nop
    const a612 = Uint8Array.from([0x48, 0x89, 0xc0, 0x90, 0x90]);
    const a73 = a612.slice();
    optimizeNops612(a612, 11, '6.12');
    optimizeNops612(a73, 11, '7.3');
    assert.equal(hex(a612), '4889c06690');
    assert.equal(hex(a73), '0f1f440000');
    // lea 0(%rbx),%rbx (disp8 0); jmp +0; nop
    const b = Uint8Array.from([0x48, 0x8d, 0x5b, 0x00, 0xeb, 0x00, 0x90]);
    optimizeNops612(b, 11, '7.3');
    assert.equal(hex(b), '0f1f8000000000');
    // pause; nop and xchg %r8,%rax; nop stay
    for (const bytes of [[0xf3, 0x90, 0x90, 0x90], [0x49, 0x90, 0x90, 0x90]]) {
      const c = Uint8Array.from(bytes);
      optimizeNops612(c, 11, '7.3');
      assert.equal(hex(c.subarray(0, 2)), hex(Uint8Array.from(bytes.slice(0, 2))));
    }
  });

  test('7.x: a jmp whose displacement a relocation fills is no jmp +0', () => {
    const a = Uint8Array.from([0xe9, 0, 0, 0, 0, 0x90, 0x90]);
    optimizeNops612(a, 11, '7.3', (off) => off >= 1 && off < 5);
    assert.equal(hex(a.subarray(0, 5)), 'e900000000');
    const b = Uint8Array.from([0xe9, 0, 0, 0, 0, 0x90, 0x90]);
    optimizeNops612(b, 11, '7.3');
    assert.equal(hex(b), '0f1f8000000000');
  });
});
