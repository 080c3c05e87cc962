// SPDX-License-Identifier: GPL-2.0-only
// ORC on real kernel modules (scripts/corpus.sh fetches them; ORCTOOL_REQUIRE_CORPUS=1 turns a
// missing corpus into a failure):
//  - --dump=orc identical to objtool's (6.12 for the 6.12 corpora, 6.1 for 6.1-generic) on a
//    deterministic sample of each corpus (`npm run corpus:dump` runs them all);
//  - the writer end to end: the ORC sections of a module removed with objcopy, put back from the
//    unpacked original entries, and objtool's dump of the result equal to its dump of the original.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { ElfEditor } from '../elf/writer.js';
import { STT_SECTION } from '../elf/constants.js';
import { detectLayout } from '../kernel/detect.js';
import { compareDumpSync, objtoolDumpSync, objtoolFor } from '../corpus/orc-dump.js';
import { type CorpusName, corpusAvailable, objtoolPath, sampleModules } from '../testing/corpus.js';
import { makeTempDir, removeDir, runTool } from '../testing/toolchain.js';
import { dumpOrcFile } from './dump.js';
import { readOrcTable } from './read.js';
import { writeOrcSections } from './write.js';

const SAMPLE: [CorpusName, number][] = [['7.3-cloud', 100], ['7.3-generic', 100], ['6.12-cloud', 150], ['6.12-generic', 150], ['6.1-generic', 150]];
const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

function skipFor(name: CorpusName): string | false {
  if (required) return false;
  if (!corpusAvailable(name)) return `corpus ${name} not fetched (scripts/corpus.sh)`;
  if (objtoolPath(objtoolFor(name)) === undefined) return `objtool ${objtoolFor(name)} not fetched (scripts/corpus.sh)`;
  return false;
}

/** Key each section by name and how many same-named sections come before it. */
function sectionKeys(elf: ElfFile): Map<string, number> {
  const seen = new Map<string, number>();
  const out = new Map<string, number>();
  for (const s of elf.sections) {
    const n = seen.get(s.name) ?? 0;
    seen.set(s.name, n + 1);
    out.set(`${s.name}#${n}`, s.index);
  }
  return out;
}

describe('ORC on the module corpora', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir('orctool-orc-corpus-');
  });
  after(() => removeDir(dir));

  for (const [name, count] of SAMPLE) {
    const skip = skipFor(name);
    test(`${name}: --dump=orc identical to objtool ${objtoolFor(name)} on ${count} modules`, { skip }, () => {
      const mods = sampleModules(name, count);
      assert.equal(mods.length, count);
      const bad = mods.map((m) => compareDumpSync(m, objtoolFor(name))).filter((r) => !r.identical);
      assert.deepEqual(bad, []);
    });

    test(`${name}: ORC sections stripped and rewritten from the original entries dump as the original`, { skip }, () => {
      const version = objtoolFor(name);
      // Three small modules and the one with the most entries among 40.
      const sized = sampleModules(name, 40).map((m): [string, number] => [m, ElfFile.open(m).sectionByName('.orc_unwind')?.size ?? 0]).filter(([, n]) => n > 0);
      const biggest = sized.reduce((a, b) => (b[1] > a[1] ? b : a));
      const mods = [...sized.filter((x) => x !== biggest).slice(0, 3), biggest].map(([m]) => m);
      assert.equal(mods.length, 4);
      for (const m of mods) {
        const orig = ElfFile.open(m);
        const layout = detectLayout(orig).layout;
        const table = readOrcTable(orig)!;
        assert.ok(table.count > 0);
        for (let k = 0; k < table.count; k++) assert.equal(orig.symbols!.type(table.symbols[k]!), STT_SECTION, `${m}: entry ${k} not against a section symbol`);

        const base = m.replace(/^.*\//, '');
        const stripped = join(dir, `stripped-${name}-${base}`);
        const oc = runTool('objcopy', ['--remove-section', '.orc_unwind', '--remove-section', '.orc_unwind_ip', '--remove-section', '.rela.orc_unwind_ip', m, stripped]);
        assert.equal(oc.status, 0, oc.stderr);
        const elf = ElfFile.open(stripped);
        assert.equal(elf.sectionByName('.orc_unwind'), undefined);
        const origKeys = new Map([...sectionKeys(orig)].map(([k, v]) => [v, k]));
        const newKeys = sectionKeys(elf);
        const sections = table.sections.map((s) => newKeys.get(origKeys.get(s)!)!);
        const ed = new ElfEditor(elf);
        assert.equal(writeOrcSections(ed, { ...table, sections }).status, 'written');
        const out = join(dir, `rewritten-${name}-${base}`);
        ed.write(out);

        const theirsOrig = objtoolDumpSync(version, m);
        const theirsOurs = objtoolDumpSync(version, out);
        assert.equal(theirsOurs.status, 0);
        assert.equal(theirsOurs.stderr, '');
        assert.ok(theirsOurs.stdout.length > 0);
        assert.equal(theirsOurs.stdout, theirsOrig.stdout, m);
        assert.deepEqual(dumpOrcFile(out, layout.orc), theirsOurs, m);
        const re = runTool('readelf', ['-S', '-W', out]);
        assert.equal(re.stderr, '', `${m}: readelf -S stderr`);
      }
    });
  }
});
