// SPDX-License-Identifier: GPL-2.0-only
// Kernel metadata of real modules: a deterministic sample of the Debian corpora (shipped .ko
// files keep .altinstructions, __jump_table, __ex_table and, in 6.1, .parainstructions, but no
// .discard.* sections). ORCTOOL_REQUIRE_CORPUS=1 turns a missing corpus into a failure.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../elf/reader.js';
import { type CorpusName, corpusAvailable, corpusModules, sampleModules } from '../testing/corpus.js';
import { detectLayout } from './detect.js';
import { readKernelMetadata } from './index.js';

const SAMPLE: [CorpusName, number, string][] = [['7.3-cloud', 40, '7.3'], ['7.3-generic', 40, '7.3'], ['6.12-cloud', 40, '6.12'], ['6.12-generic', 40, '6.12'], ['6.1-generic', 40, '6.1']];
const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';
/** Few modules have an exception table (14 of 4023 in 6.1): kvm.ko has every section, so it joins the sample. */
const ALWAYS = '/arch/x86/kvm/kvm.ko';

/** Entries seen, so the test knows the sample exercised something. */
const seen = { alternatives: 0, jumpLabels: 0, exTable: 0, paraSites: 0 };

/** Everything wrong with one module's metadata, as readable lines (empty when all is well). */
function problems(path: string, wantLayout: string): string[] {
  const out: string[] = [];
  const elf = ElfFile.open(path);
  const { layout } = detectLayout(elf);
  if (layout.name !== wantLayout) out.push(`layout ${layout.name}, expected ${wantLayout}`);
  const md = readKernelMetadata(elf, layout).load();
  seen.alternatives += md.alternatives.length;
  seen.jumpLabels += md.jumpLabels.length;
  seen.exTable += md.exTable.length;
  seen.paraSites += md.paraSites.length;
  const size = (n: string): number => elf.sectionByName(n)?.size ?? 0;
  const counts: [string, number, number][] = [
    ['.altinstructions', md.alternatives.length, size('.altinstructions') / layout.alt.entrySize],
    ['__jump_table', md.jumpLabels.length, size('__jump_table') / 16],
    ['__ex_table', md.exTable.length, size('__ex_table') / 12],
    ['.parainstructions', md.paraSites.length, layout.hasParainstructions ? size('.parainstructions') / 16 : 0],
  ];
  for (const [name, got, want] of counts) if (got !== want) out.push(`${name}: ${got} entries, expected ${want}`);
  const inSection = (sec: number, off: number, len: number): boolean => {
    const s = sec === 0 ? undefined : elf.section(sec);
    return s !== undefined && off >= 0 && off + len <= s.size;
  };
  md.specialAlts.forEach((a, i) => {
    const where = `${a.section}[${a.index}]`;
    if (!inSection(a.origSec, a.origOff, a.group ? a.origLen : 1)) out.push(`${where}: original outside its section`);
    if ((!a.group || a.newLen) && !inSection(a.newSec, a.newOff, a.group ? a.newLen : 1)) out.push(`${where}: replacement outside its section`);
    if (a.kind === 'jump_label' && a.keySym === 0) out.push(`${where}: no key symbol`);
    if (a.group && !md.altSites[a.site]?.entries.includes(i)) out.push(`${where}: not in its site`);
  });
  for (const p of md.paraSites) if (!inSection(p.instrSec, p.instrOff, p.len)) out.push(`.parainstructions[${p.index}]: outside its section`);
  return out.map((l) => `${path}: ${l}`);
}

describe('kernel metadata on the module corpora', () => {
  for (const [name, count, layout] of SAMPLE) {
    const skip = !corpusAvailable(name) && !required ? `corpus ${name} not fetched (scripts/corpus.sh)` : false;
    test(`${name}: ${count} modules and kvm.ko read with the ${layout} layout, every entry resolved`, { skip }, () => {
      const mods = sampleModules(name, count);
      assert.equal(mods.length, count);
      const kvm = corpusModules(name).filter((m) => m.endsWith(ALWAYS));
      assert.equal(kvm.length, 1, `${name} has kvm.ko`);
      if (!mods.includes(kvm[0]!)) mods.push(kvm[0]!);
      const before = { ...seen };
      assert.deepEqual(mods.flatMap((m) => problems(m, layout)), []);
      assert.ok(seen.alternatives > before.alternatives, 'the sample has alternatives');
      assert.ok(seen.jumpLabels > before.jumpLabels, 'the sample has jump labels');
      assert.ok(seen.exTable > before.exTable, 'the sample has exception table entries');
      if (layout === '6.1') assert.ok(seen.paraSites > before.paraSites, 'the sample has .parainstructions');
    });
  }
});
