// SPDX-License-Identifier: GPL-2.0-only
// The decoder on real kernel modules: instruction boundaries identical to objdump's in every
// executable section of a deterministic sample of the Debian corpora (the whole corpora:
// `npm run corpus:boundaries`). scripts/corpus.sh fetches them; ORCTOOL_REQUIRE_CORPUS=1
// turns a missing corpus into a failure.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compareModules } from '../corpus/boundaries.js';
import { type CorpusName, corpusAvailable, sampleModules } from '../testing/corpus.js';
import { feedObjdumpLine, type ObjdumpSink } from './objdump-oracle.js';

const SAMPLE: [CorpusName, number][] = [['7.3-cloud', 25], ['6.12-cloud', 25], ['6.12-generic', 25], ['6.1-generic', 25]];
const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

test("objdump -d -z -w lines: headers, instructions, everything else ignored", () => {
  const seen: string[] = [];
  const sink: ObjdumpSink = {
    section: (name) => seen.push(`S ${name}`),
    insn: (a, n, t) => seen.push(`I ${a} ${n} ${t}`),
  };
  for (const line of [
    '/tmp/x.ko:     file format elf64-x86-64', '', 'Disassembly of section .text.unlikely:', '',
    '0000000000000000 <f>:', '   0:\t48 89 e5             \tmov    %rsp,%rbp',
    ' 1a3f:\t66 66 2e 0f 1f 84 00 00 00 00 00 \tdata16 cs nopw 0x0(%rax,%rax,1)',
    '  2b:\tff                   \t(bad)', '  2c:\t00 00', '\t...',
  ]) feedObjdumpLine(line, sink);
  assert.deepEqual(seen, [
    'S .text.unlikely', 'I 0 3 mov    %rsp,%rbp', 'I 6719 11 data16 cs nopw 0x0(%rax,%rax,1)',
    'I 43 1 (bad)', 'I 44 2 ',
  ]);
});

describe('x86 decoder boundaries on the module corpora', () => {
  for (const [name, count] of SAMPLE) {
    const skip = !corpusAvailable(name) && !required ? `corpus ${name} not fetched (scripts/corpus.sh)` : false;
    test(`${name}: every executable section of ${count} modules matches objdump -d`, { skip }, async () => {
      const mods = sampleModules(name, count);
      assert.equal(mods.length, count);
      const r = await compareModules(mods, 2);
      const bad = r.bad.map((m) => ({
        path: m.path, error: m.error, sections: m.sections.map((s) => `[${s.index}] ${s.name}: ${s.detail}`),
      }));
      assert.deepEqual(bad, []);
      assert.equal(r.identical, r.sections);
      assert.ok(r.sections >= count, `only ${r.sections} sections`);
    });
  }
});
