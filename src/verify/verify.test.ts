// SPDX-License-Identifier: GPL-2.0-only
// `orctool verify`: clean tables pass, and a planted error (one entry's stack offset moved by 8
// inside a function body) is caught in each of 50 real modules (in the tables they shipped
// with), in a replacement that only its own one-site variant runs, in code only a patched jump
// leads to, after unwind hints, and in code only the kernel's trap handlers, static keys or a
// .cold part elsewhere lead to. Linked images: linked.test.ts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ElfFile } from '../elf/reader.js';
import { ElfEditor } from '../elf/writer.js';
import { detectLayout } from '../kernel/detect.js';
import { unpackOrcEntry, ORC_REG_SP } from '../orc/entry.js';
import { readOrcTable } from '../orc/read.js';
import { runCheckCommand } from '../cli/check-command.js';
import { usedEntries, verify } from './verify.js';
import { coverage } from './coverage.js';
import { PLANT_KINDS, plantOne, rng } from './plant.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { type CorpusName, corpusAvailable, corpusModules, objtoolPath, runObjtool } from '../testing/corpus.js';

const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

/** Move one used entry's CFA offset by 8 and write the result to `out`; returns the entry index. */
function plant(path: string, out: string): number | undefined {
  const elf = ElfFile.open(path);
  const layout = detectLayout(elf).layout;
  const r = verify(elf, layout);
  const orc = elf.sectionByName('.orc_unwind')!;
  // An entry the check relied on, inside a body (the CFA already moved past the entry state).
  const used = usedEntries(r).filter((k) => {
    const e = unpackOrcEntry(orc.data, k * 6, layout.orc);
    return e.spReg === ORC_REG_SP && e.spOffset > 8;
  });
  if (used.length === 0) return undefined;
  const k = used[used.length >> 1]!;
  const v = new DataView(orc.data.buffer, orc.data.byteOffset);
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setInt16(0, v.getInt16(k * 6, true) + 8, true);
  const ed = new ElfEditor(elf);
  ed.patchBytes(orc.index, k * 6, bytes);
  ed.write(out);
  return k;
}

describe('orctool verify', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  test("the seed's example: every variant agrees with the table", () => {
    const o = compileFixture(srcPath('analysis', 'fixtures', 'seed.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    const elf = ElfFile.open(o);
    const r = verify(elf, detectLayout(elf).layout);
    assert.equal(r.mismatches.length, 0);
    assert.ok(r.variants >= 3, `${r.variants} variants`);
    assert.ok(r.checked > 0);
  });

  /** Verify `o` with its entry at `section`+`offset` moved by 8: where the mismatches are. */
  function plantedAt(o: string, offset: number, section = '.text'): string[] {
    const elf = ElfFile.open(o);
    assert.equal(verify(elf, detectLayout(elf).layout).mismatches.length, 0);
    const t = readOrcTable(elf)!;
    const k = Array.from(t.offsets).findIndex((off, i) => off === offset && elf.section(t.sections[i]!)!.name === section);
    assert.ok(k >= 0);
    const orc = elf.sectionByName('.orc_unwind')!;
    const bytes = new Uint8Array(2);
    new DataView(bytes.buffer).setInt16(0, new DataView(orc.data.buffer, orc.data.byteOffset).getInt16(k * 6, true) + 8, true);
    const ed = new ElfEditor(elf);
    ed.patchBytes(orc.index, k * 6, bytes);
    const bad = join(dir, 'planted.o');
    ed.write(bad);
    const e = ElfFile.open(bad);
    return verify(e, detectLayout(e).layout).mismatches.map((m) => `${m.location} ${m.variant}`);
  }

  test('a replacement no boot profile has is checked in its own variant', () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'one-site.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    // Only `push %rbx; pop %rbx` stops at one_site+1.
    assert.deepEqual(plantedAt(o, 1), ['one_site+0x1 .altinstructions[0] 528']);
  });

  test("ALTERNATIVE_2 up to 6.2: objtool's table loses the first replacement's layout, and verify says where", () => {
    // 6.1 (12-byte entries): the original keeps the second entry's CFI array.
    const o61 = compileFixture(srcPath('verify', 'fixtures', 'alt2-lost.S'), dir, ['-DALT12']);
    const theirs = join(dir, 'alt2-lost-objtool.o');
    copyFileSync(o61, theirs);
    runCheckCommand(['--orc', o61], { stdout: () => {}, stderr: () => {} });
    const e61 = ElfFile.open(o61);
    assert.equal(detectLayout(e61).layout.name, '6.1');
    const r61 = verify(e61, detectLayout(e61).layout);
    assert.deepEqual(r61.mismatches.map((m) => `${m.location} ${m.variant}`), ['alt2_lost+0x1 .altinstructions[0] 528']);
    // objtool 6.1 writes the same table: the loss is its own, not orctool's.
    if (objtoolPath('6.1')) {
      assert.equal(runObjtool('6.1', ['--orc', theirs]).status, 0);
      const dump = (f: string): string => runObjtool('6.1', ['--dump=orc', f]).stdout;
      assert.equal(dump(o61), dump(theirs));
    }
    // From 6.3 the groups share one array: the table has the replacement's boundary.
    const o = compileFixture(srcPath('verify', 'fixtures', 'alt2-lost.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    const e = ElfFile.open(o);
    assert.deepEqual(verify(e, detectLayout(e).layout).mismatches, []);
  });

  test("a big section's functions without a site are walked on a second thread too, with the report one thread gives", () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'big-text.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    // Wrong CFA offsets planted in entries spread over the section: in functions with a site
    // (walked by the first thread) and without (the second).
    const elf = ElfFile.open(o);
    const t = readOrcTable(elf)!;
    const orc = elf.sectionByName('.orc_unwind')!;
    const ed = new ElfEditor(elf);
    const view = new DataView(orc.data.buffer, orc.data.byteOffset);
    let planted = 0;
    for (let k = 7; k < t.count; k += Math.floor(t.count / 80)) {
      if (view.getInt16(k * 6, true) <= 8) continue;
      const bytes = new Uint8Array(2);
      new DataView(bytes.buffer).setInt16(0, view.getInt16(k * 6, true) + 8, true);
      ed.patchBytes(orc.index, k * 6, bytes);
      planted++;
    }
    const bad = join(dir, 'big-planted.o');
    ed.write(bad);
    const e = ElfFile.open(bad);
    const layout = detectLayout(e).layout;
    // The second thread's functions shared out between the threads (by who gets there first:
    // any split gives the same report), and walked by it alone.
    const c2 = new Map();
    const two = verify(e, layout, { coverage: c2, helper: 'share' });
    const c1 = new Map();
    const one = verify(e, layout, { coverage: c1, helper: 'none' });
    const c3 = new Map();
    const all = verify(e, layout, { coverage: c3, helper: 'all' });
    assert.ok((all.helperFunctions ?? 0) > 10_000, `${all.helperFunctions}`);
    assert.equal(one.helperFunctions, undefined);
    assert.deepEqual(all.mismatches, one.mismatches);
    assert.deepEqual([all.checked, all.unverified, all.reasons], [one.checked, one.unverified, one.reasons]);
    assert.deepEqual(c3, c1);
    assert.ok(planted >= 30 && two.mismatches.length >= planted, `${planted} planted, ${two.mismatches.length} found`);
    assert.ok(two.mismatches.some((m) => m.location.startsWith('s')) && two.mismatches.some((m) => m.location.startsWith('f')));
    assert.deepEqual(two.mismatches, one.mismatches);
    assert.deepEqual([two.checked, two.unverified, two.reasons, two.variants, two.functions], [one.checked, one.unverified, one.reasons, one.variants, one.functions]);
    assert.deepEqual(usedEntries(two), usedEntries(one));
    assert.deepEqual(c2, c1);
  });

  test('--profile: only the original and the boot profiles asked for', () => {
    const o = compileFixture(srcPath('analysis', 'fixtures', 'seed.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    const elf = ElfFile.open(o);
    const layout = detectLayout(elf).layout;
    const r = verify(elf, layout, { profiles: { 'Xen PV': 'XENPV', 'none': '' } });
    assert.equal(r.variants, 3);
    assert.deepEqual(r.mismatches, []);
    assert.throws(() => verify(elf, layout, { profiles: { bad: 'NO_SUCH_FEATURE' } }), /unknown CPU features/);
  });

  test("a patched jump is followed to its new target, not the replaced bytes' relocation", () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'always-jmp.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    // always_jmp+7 (after the push) is reached only through the ALWAYS replacement.
    assert.deepEqual(plantedAt(o, 7), [
      'always_jmp+0x7 .altinstructions[0] 117', 'always_jmp+0x7 profile: bare metal', 'always_jmp+0x7 profile: KVM guest', 'always_jmp+0x7 profile: Xen PV',
    ]);
  });

  test('unwind hints: FUNC, RESTORE and pt_regs frames are taken and checked', () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'hints.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    const elf = ElfFile.open(o);
    const r = verify(elf, detectLayout(elf).layout);
    assert.deepEqual(r.mismatches, []);
    // Every boundary, the two under UNWIND_HINT_IRET_REGS and the code after SYSCALL included.
    assert.equal(r.checked, 15);
    assert.deepEqual(r.reasons, {});
    // The iret frame's entry is checked too (the nop and the add after it share it).
    assert.deepEqual(plantedAt(o, 0x9), ['iret_like+0x4 original', 'iret_like+0x5 original']);
    // After the FUNC hint (rethook_like+3) and after the RESTORE (hypercall_like+7) errors are caught.
    assert.deepEqual(plantedAt(o, 3), ['rethook_like+0x3 original']);
    assert.deepEqual(plantedAt(o, 0x16), ['hypercall_like+0x7 original']);
  });

  test('code reached through a WARN trap, an exception fixup, a jump label or a .cold part elsewhere is checked', () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'traps.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    const elf = ElfFile.open(o);
    const layout = detectLayout(elf).layout;
    const cover = new Map();
    const r = verify(elf, layout, { coverage: cover });
    assert.deepEqual(r.mismatches, []);
    const c = coverage(elf, layout, cover, o);
    assert.equal(c.checked, c.canExecute);
    assert.ok(c.canExecute >= 30, `${c.canExecute}`);
    // warn_like+0xc: after the WARN's ud2 (push %r12 done).
    assert.deepEqual(plantedAt(o, 0xc), ['warn_like+0xc original']);
    // ex_like+0x8, jl_like+0xa: the fixup and the jump label target, one push deeper.
    assert.deepEqual(plantedAt(o, 0x22), ['ex_like+0x8 original', 'ex_like+0xa original']);
    assert.deepEqual(plantedAt(o, 0x32), ['jl_like+0xa original']);
    assert.deepEqual(plantedAt(o, 0x2, '.text.unlikely'), ['cold_like.cold+0x2 original']);
  });

  test('after a WARN the walk goes on by __bug_table alone (shipped modules lose the annotation), never after BUG()', () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'traps.S'), dir);
    runCheckCommand(['--orc', o], { stdout: () => {}, stderr: () => {} });
    const stripped = join(dir, 'no-annotation.o');
    spawnSync('objcopy', ['--remove-section=.discard.reachable', '--remove-section=.rela.discard.reachable', o, stripped]);
    assert.deepEqual(plantedAt(stripped, 0xc), ['warn_like+0xc original']);
    // Without the table either, nothing says the trap returns: the code is not walked.
    const neither = join(dir, 'no-table.o');
    spawnSync('objcopy', ['--remove-section=__bug_table', '--remove-section=.rela__bug_table', stripped, neither]);
    assert.deepEqual(plantedAt(neither, 0xc), []);
  });

  test('errors of every kind, planted in corpus modules, are caught', { skip: !corpusAvailable('7.3-cloud') && !required ? 'corpus not fetched' : false }, () => {
    // (src/verify/plant.ts; npm run verify:plant does the same on the objects of a kernel build)
    const rand = rng(17);
    const missed: string[] = [];
    let planted = 0;
    for (const m of corpusModules('7.3-cloud').filter((x) => statSync(x).size > 30_000 && statSync(x).size < 300_000).filter((_, i) => i % 40 === 0).slice(0, 8)) {
      const clean = ElfFile.open(m);
      const layout = detectLayout(clean).layout;
      const before = new Set(verify(clean, layout).mismatches.map((x) => `${x.location}|${x.variant}`));
      for (const kind of PLANT_KINDS) {
        const out = join(dir, 'planted.ko');
        const p = plantOne(clean, layout, kind, rand, out);
        if (!p) continue;
        planted++;
        const e = ElfFile.open(out);
        if (!verify(e, layout).mismatches.some((x) => !before.has(`${x.location}|${x.variant}`))) missed.push(`${m.replace(/^.*\//, '')}: ${kind} ${p.section}+0x${p.offset.toString(16)} ${p.what}`);
      }
    }
    assert.ok(planted >= 40, `${planted} planted`);
    assert.deepEqual(missed, []);
  });

  for (const corpora of [['6.12-cloud', '6.12-generic', '6.1-generic'], ['7.3-cloud', '7.3-generic']] as CorpusName[][]) {
  const have = corpora.every(corpusAvailable);
  test(`a planted error is caught in 50 modules of ${corpora.join(', ')}`, { skip: !have && !required ? 'corpus not fetched' : false }, () => {
    // Small modules spread over the corpora, deterministically; modules whose functions
    // never move the stack pointer have no body entry to plant in and are passed over.
    const candidates: [string, CorpusName][][] = corpora.map((name) => {
      const mods = corpusModules(name).filter((m) => statSync(m).size < 200_000);
      return Array.from({ length: 40 }, (_, i) => [mods[Math.floor((i * mods.length) / 40) + 1]!, name] as [string, CorpusName]);
    });
    const picks: [string, CorpusName][] = [];
    let caught = 0;
    const missed: string[] = [];
    for (let i = 0; i < 40 && picks.length < 50; i++) {
      for (const list of candidates) {
        if (picks.length >= 50) break;
        const [m, name] = list[i]!;
        // The table the build shipped: one regenerated from the module lacks what only the
        // build's annotations said (REACHABLE after a WARN), and verify rightly says so.
        const f = m;
        const clean = ElfFile.open(f);
        assert.equal(verify(clean, detectLayout(clean).layout).mismatches.length, 0, `${m} clean`);
        const bad = join(dir, 'bad.ko');
        copyFileSync(f, bad);
        const k = plant(f, bad);
        if (k === undefined) continue;
        picks.push([m, name]);
        const e = ElfFile.open(bad);
        if (verify(e, detectLayout(e).layout).mismatches.length > 0) caught++;
        else missed.push(`${m}: entry ${k} not caught`);
      }
    }
    assert.equal(picks.length, 50);
    assert.deepEqual(missed, []);
    assert.equal(caught, 50);
  });
  }
});
