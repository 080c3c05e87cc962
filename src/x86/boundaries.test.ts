// SPDX-License-Identifier: GPL-2.0-only
// The decoder on whole compiled objects: instruction boundaries against objdump's, and our
// byte-level field layout against iced's, over gcc output built with kernel flags and over
// glibc's libc.a (hand-written SSE/AVX/AVX-512 string functions included).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileFixture, makeTempDir, removeDir, runTool, srcPath } from '../testing/toolchain.js';
import { decodeSection } from './decoder.js';
import { InsnFlag, InsnType, OpDestType, stackOps, type DecodedSection } from './insn.js';
import { LengthDecoder } from './iced.js';
import { InsnLayout, parseLayout } from './layout.js';
import { objdumpSections, type ObjdumpBoundaries } from './objdump-oracle.js';
import { execSections, sectionBytes, symbolsOf } from './binutils-oracle.js';

/** Kernel-like code generation: retpolines, return thunks, IBT, fentry, no red zone. */
const KERNEL_FLAGS = [
  '-O2', '-mindirect-branch=thunk-extern', '-mindirect-branch-register', '-mindirect-branch-cs-prefix',
  '-mfunction-return=thunk-extern', '-fcf-protection=branch', '-pg', '-mfentry', '-mno-red-zone',
  '-mno-sse', '-mno-mmx', '-fno-omit-frame-pointer',
];
const VARIANTS: Record<string, string[]> = {
  kernel: KERNEL_FLAGS,
  O0: ['-O0'],
  Os: ['-Os', '-mno-red-zone'],
  O3avx2: ['-O3', '-mavx2'],
};

/** First mismatch between our boundaries and objdump's, or null. */
function compareWithObjdump(od: ObjdumpBoundaries, section: string, ds: DecodedSection): string | null {
  const n = Math.min(ds.count, od.offsets.length);
  for (let i = 0; i < n; i++) {
    if (ds.offset[i] !== od.offsets[i] || ds.len[i] !== od.lengths[i]) {
      return `${section}+0x${ds.offset[i].toString(16)}: ours len ${ds.len[i]}, objdump ` +
        `+0x${od.offsets[i].toString(16)} len ${od.lengths[i]} "${od.texts[i]}"`;
    }
  }
  if (ds.count !== od.offsets.length) return `${section}: ${ds.count} instructions, objdump ${od.offsets.length}`;
  return null;
}

/** First instruction whose displacement/immediate positions differ from iced's, or null. */
function compareFieldsWithIced(bytes: Uint8Array, section: string): string | null {
  const dec = new LengthDecoder(bytes);
  const l = new InsnLayout();
  try {
    let pos = 0;
    while (pos < bytes.length) {
      const len = dec.next();
      if (len === 0) return `${section}+0x${pos.toString(16)}: iced cannot decode`;
      parseLayout(bytes, pos, len, l);
      const co = dec.lastFieldOffsets();
      if (co.dispPos !== l.dispPos || co.dispSize !== l.dispSize || co.immPos !== l.immPos || co.immSize !== l.immSize) {
        return `${section}+0x${pos.toString(16)} ${dec.lastText()}: iced disp ${co.dispPos}/${co.dispSize} imm ` +
          `${co.immPos}/${co.immSize}, ours disp ${l.dispPos}/${l.dispSize} imm ${l.immPos}/${l.immSize}`;
      }
      pos += len;
    }
    return null;
  } finally {
    dec.free();
  }
}

function checkObject(obj: string, dir: string): number {
  let total = 0;
  const sections = execSections(obj);
  assert.ok(sections.length > 0, `${obj} has executable sections`);
  // One objdump run: its blocks are the executable sections in header order.
  const dumped = objdumpSections(obj);
  assert.deepEqual(dumped.map((d) => d.name), sections);
  for (const [k, sec] of sections.entries()) {
    const bytes = sectionBytes(obj, sec, dir);
    const ds = decodeSection(bytes, sec, { file: obj });
    assert.equal(ds.error, null, ds.error?.message);
    assert.equal(compareWithObjdump(dumped[k]!, sec, ds), null);
    assert.equal(compareFieldsWithIced(bytes, sec), null);
    total += ds.count;
  }
  return total;
}

describe('x86 decoder on compiled objects', () => {
  let dir: string;
  before(() => {
    dir = makeTempDir('orctool-x86-corpus-');
  });
  after(() => removeDir(dir));

  for (const [name, flags] of Object.entries(VARIANTS)) {
    it(`kernelish.c at ${name}: boundaries match objdump, fields match iced`, () => {
      const sub = join(dir, name);
      runTool('mkdir', ['-p', sub]);
      const obj = compileFixture(srcPath('x86', 'fixtures', 'kernelish.c'), sub, flags);
      const n = checkObject(obj, sub);
      assert.ok(n > 2000, `only ${n} instructions`);
    });
  }

  it('kernel flags produce the forms objtool cares about', () => {
    const sub = join(dir, 'kernel-forms');
    runTool('mkdir', ['-p', sub]);
    const obj = compileFixture(srcPath('x86', 'fixtures', 'kernelish.c'), sub, KERNEL_FLAGS);
    const ds = decodeSection(sectionBytes(obj, '.text', sub), '.text');
    const count = (pred: (i: number) => boolean): number => {
      let n = 0;
      for (let i = 0; i < ds.count; i++) if (pred(i)) n++;
      return n;
    };
    const funcs = symbolsOf(obj).filter((s) => s.type === 'FUNC' && s.ndx === '1');
    // -fcf-protection=branch: every function starts with endbr64.
    for (const f of funcs) {
      const i = ds.offset.indexOf(f.value);
      assert.ok(i >= 0 && ds.type[i] === InsnType.ENDBR, `${f.name} starts with endbr64`);
    }
    // Retpolines: indirect calls and jumps become direct ones to the thunks.
    assert.equal(count((i) => ds.type[i] === InsnType.CALL_DYNAMIC || ds.type[i] === InsnType.JUMP_DYNAMIC), 0);
    assert.ok(count((i) => ds.type[i] === InsnType.CALL && (ds.flags[i] & InsnFlag.REL_TARGET) !== 0) > 100);
    // Return thunks: no plain ret, jumps to __x86_return_thunk instead.
    assert.equal(count((i) => ds.type[i] === InsnType.RETURN), 0);
    // Frame pointers: push %rbp; mov %rsp,%rbp.
    const movRspRbp = (i: number): boolean => {
      const ops = stackOps(ds, i);
      return ops.length === 1 && ops[0]!.dest.type === OpDestType.REG && ops[0]!.dest.reg === 5 && ops[0]!.src.reg === 4;
    };
    assert.ok(count(movRspRbp) >= funcs.length / 2);
  });

  it('libc.a, linked into one relocatable: boundaries match objdump, fields match iced', (t) => {
    const r = runTool('gcc', ['-print-file-name=libc.a']);
    const libc = r.stdout.trim();
    if (r.status !== 0 || !existsSync(libc)) {
      t.skip('no libc.a on this machine');
      return;
    }
    const obj = join(dir, 'libc-all.o');
    const ld = runTool('ld', ['-r', '--whole-archive', libc, '-o', obj]);
    assert.ok(existsSync(obj), ld.stderr);
    const n = checkObject(obj, dir);
    assert.ok(n > 100_000, `only ${n} instructions`);
  });
});
