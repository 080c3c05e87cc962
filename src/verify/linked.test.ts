// SPDX-License-Identifier: GPL-2.0-only
// `orctool verify` on a linked image: fixtures/linked.S is assembled, given its ORC table by
// orctool, and linked with ld (fixtures/linked.lds) into an ET_EXEC at the kernel's address, the
// way vmlinux is. Every field verify reads is then resolved by address. The image must be
// checked boundary for boundary as the object is (but for what only the object's unwind hints
// describe), patched to the same bytes as the object patched and then linked, and a planted
// error must be caught in the image wherever it is caught in the object.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ElfFile } from '../elf/reader.js';
import { sectionSymbols, LinkedImage } from '../elf/linked.js';
import { detectLayout } from '../kernel/detect.js';
import type { KernelLayout } from '../kernel/versions.js';
import { unpackOrcEntry, ORC_REG_SP } from '../orc/entry.js';
import { readOrcTable } from '../orc/read.js';
import { runCheckCommand } from '../cli/check-command.js';
import { applyPatches, parseFeatures, Patcher } from '../patch/apply.js';
import { CHECKED, type CoverageMap, HINT_LOST, OUTSIDE_FUNCTIONS, usedEntries, verify } from './verify.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';

const LDS = srcPath('verify', 'fixtures', 'linked.lds');

function link(obj: string, out: string): string {
  execFileSync('ld', ['-T', LDS, '-o', out, obj], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

/** `func+0xoff` of a code place, by the object's or the image's symbols; undefined outside functions. */
function placeName(elf: ElfFile, sec: number, off: number): string | undefined {
  const syms = sectionSymbols(elf)!;
  const i = syms.funcContaining(sec, off);
  return i < 0 ? undefined : `${syms.name(i)}+0x${(off - syms.value[i]!).toString(16)}`;
}

/** What each boundary in a function came to, by `func+0xoff`. */
function byPlace(elf: ElfFile, cover: CoverageMap): Map<string, string> {
  const out = new Map<string, string>();
  for (const [sec, m] of cover) {
    for (const [off, st] of m) {
      const p = placeName(elf, sec, off);
      if (p) out.set(p, st);
    }
  }
  return out;
}

/** The mismatches of `file` with ORC entry `k`'s CFA offset moved by 8 (the bytes written in a copy). */
function plantedMismatches(file: string, k: number, layout: KernelLayout, out: string): string[] {
  const elf = ElfFile.open(file);
  const orc = elf.sectionByName('.orc_unwind')!;
  const sp = new DataView(orc.data.buffer, orc.data.byteOffset).getInt16(k * 6, true) + 8;
  copyFileSync(file, out);
  const fd = openSync(out, 'r+');
  const b = Buffer.alloc(2);
  b.writeInt16LE(sp);
  writeSync(fd, b, 0, 2, orc.offset + k * 6);
  closeSync(fd);
  return verify(ElfFile.open(out), layout).mismatches.map((m) => `${m.location} ${m.variant}`).sort();
}

describe('orctool verify on a linked image', () => {
  let dir = '';
  let obj = '';
  let image = '';
  let layout: KernelLayout;
  before(() => {
    dir = makeTempDir();
    obj = compileFixture(srcPath('verify', 'fixtures', 'linked.S'), dir);
    runCheckCommand(['--orc', obj], { stdout: () => {}, stderr: () => {} });
    image = link(obj, join(dir, 'linked.elf'));
    layout = detectLayout(ElfFile.open(obj)).layout;
  });

  test("the image's release is read from linux_banner (the object's kernel is found as before)", () => {
    assert.deepEqual(detectLayout(ElfFile.open(image)), { layout, reason: 'linux_banner 6.12.118' });
    assert.equal(detectLayout(ElfFile.open(obj)).reason, 'absolute .discard.reachable relocations');
  });
  after(() => removeDir(dir));

  test('the image is read by address and checked boundary for boundary as the object', () => {
    const o = ElfFile.open(obj);
    const x = ElfFile.open(image);
    assert.equal(LinkedImage.of(o), undefined);
    assert.ok(LinkedImage.of(x));
    const co: CoverageMap = new Map();
    const cx: CoverageMap = new Map();
    const ro = verify(o, layout, { coverage: co });
    const rx = verify(x, layout, { coverage: cx });
    assert.deepEqual(ro.mismatches, []);
    assert.deepEqual(rx.mismatches, []);
    assert.equal(rx.variants, ro.variants);
    assert.ok(ro.variants >= 6, `${ro.variants} variants`);
    // (the object also walks entry_like's section from its hint, as one more "function")
    assert.equal(rx.functions + 1, ro.functions);
    const po = byPlace(o, co);
    const px = byPlace(x, cx);
    const hinted = (p: string) => p.startsWith('arch_rethook_trampoline+');
    for (const [p, st] of po) {
      if (hinted(p)) assert.equal(px.get(p), HINT_LOST, p);
      else assert.equal(px.get(p), st, p);
    }
    assert.deepEqual([...px.keys()].filter((p) => !po.has(p)), []);
    // Each mechanism's code was reached: the replacement's call, the aux snippet's way back, the
    // trap, fixup, jump label and .cold code, the second code section.
    for (const p of ['site_call+0x3', 'always_jmp+0x8', 'pv_call+0x7', 'warn_like+0xc', 'ex_like+0x8', 'jl_like+0xa', 'cold_like.cold+0x2', 'init_like+0x2']) {
      assert.equal(px.get(p), CHECKED, p);
    }
    // Nothing after the call to panic(): its table entry is undefined, a walk there would fail.
    assert.equal(px.get('noret_like+0xd'), undefined);
    // The entry code, walked from its hint in the object, is counted, never walked, in the image.
    assert.equal(rx.reasons[OUTSIDE_FUNCTIONS], 5);
    // All the object checks more: arch_rethook_trampoline's 4 boundaries, and its walk of the
    // section from the hints outside functions, entry_like's 5 and (every hint of the section
    // starting that walk) the trampoline's 3 after its hint once more.
    assert.equal(ro.checked - rx.checked, 12);
  });

  test('patching by address gives the bytes of the object patched and then linked', () => {
    const x = ElfFile.open(image);
    for (const features of ['', 'LA57', 'LA57,XENPV']) {
      const set = parseFeatures(features, layout);
      const patched = join(dir, 'patched.o');
      applyPatches(ElfFile.open(obj), layout, set).editor.write(patched);
      const want = ElfFile.open(link(patched, join(dir, 'patched.elf')));
      const states = new Patcher(x, layout).run(set);
      assert.ok(states.size > 0);
      for (const [sec, st] of states) {
        const name = x.section(sec)!.name;
        assert.deepEqual(Buffer.from(st.bytes).toString('hex'), Buffer.from(want.sectionByName(name)!.data).toString('hex'), `${name} with '${features}'`);
      }
    }
  });

  test('a planted error is caught in the image wherever it is caught in the object', () => {
    const o = ElfFile.open(obj);
    const x = ElfFile.open(image);
    const to = readOrcTable(o)!;
    const tx = readOrcTable(x)!;
    const entryOf = new Map<string, number>();
    for (let k = 0; k < tx.count; k++) {
      const p = placeName(x, tx.sections[k]!, tx.offsets[k]!);
      if (p) entryOf.set(p, k);
    }
    const used = usedEntries(verify(o, layout));
    let compared = 0;
    for (const k of used) {
      const e = unpackOrcEntry(o.sectionByName('.orc_unwind')!.data, k * 6, layout.orc);
      const p = placeName(o, to.sections[k]!, to.offsets[k]!);
      if (e.spReg !== ORC_REG_SP || e.spOffset <= 8 || !p || p.startsWith('arch_rethook_trampoline+')) continue;
      const kx = entryOf.get(p);
      assert.ok(kx !== undefined, p);
      const mo = plantedMismatches(obj, k, layout, join(dir, 'planted.o'));
      const mx = plantedMismatches(image, kx, layout, join(dir, 'planted.elf'));
      assert.ok(mo.length > 0, `${p}: not caught in the object`);
      assert.deepEqual(mx, mo, p);
      compared++;
    }
    assert.ok(compared >= 20, `${compared} entries planted`);
    // One only the image's one-site variant runs (the replacement's call, re-targeted).
    // (the entry covers the call and the boundary after it)
    assert.deepEqual(plantedMismatches(image, entryOf.get('site_call+0x3')!, layout, join(dir, 'planted.elf')), ['site_call+0x3 .altinstructions[0] 528', 'site_call+0x8 .altinstructions[0] 528']);
  });
});
