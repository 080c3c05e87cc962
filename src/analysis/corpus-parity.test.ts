// SPDX-License-Identifier: GPL-2.0-only
// orctool against Debian's objtool on a deterministic sample of the module corpora, same input
// and flags: the same warnings and the same ORC (as `objtool --dump=orc` prints it). Each
// corpus runs with its build flags, and a smaller sample with --uaccess and with --stackval
// added. The whole corpora: `npm run corpus:parity [-- --set all]`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_FLAGS, parityForModule, setFlags } from '../corpus/parity.js';
import { type CorpusName, corpusAvailable, objtoolPath, sampleModules } from '../testing/corpus.js';

const SAMPLE: [CorpusName, string, number][] = [
  ['7.3-cloud', 'base', 100], ['7.3-generic', 'base', 120],
  ['6.12-cloud', 'base', 100], ['6.12-generic', 'base', 120], ['6.1-generic', 'base', 120],
  ['7.3-cloud', 'uaccess', 30], ['7.3-generic', 'stackval', 30], ['7.3-cloud', 'werror', 30],
  ['7.3-cloud', 'sites', 40], ['7.3-generic', 'sites', 40], ['6.12-cloud', 'sites', 40], ['6.12-generic', 'sites', 40],
  ['6.1-generic', 'sites', 40],
  ['6.12-cloud', 'uaccess', 30], ['6.12-generic', 'uaccess', 30], ['6.1-generic', 'uaccess', 30],
  ['6.12-cloud', 'stackval', 30], ['6.12-generic', 'stackval', 30], ['6.1-generic', 'stackval', 30],
];
const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

describe('parity with objtool on the module corpora', () => {
  for (const [name, set, count] of SAMPLE) {
    const have = corpusAvailable(name) && objtoolPath(CORPUS_FLAGS[name].objtool) !== undefined;
    const skip = !have && !required ? `corpus ${name} or its objtool not fetched (scripts/corpus.sh)` : false;
    const extra = setFlags(set, name);
    const flags = [...CORPUS_FLAGS[name].flags, ...extra].join(' ');
    test(`${name}: ${count} modules, ${flags}: same warnings and exit status, same ORC, same ELF content`, { skip }, () => {
      const results = sampleModules(name, count).map((m) => parityForModule(m, name, extra));
      assert.equal(results.length, count);
      const differ = results.filter((r) => !r.warningsEqual || !r.orcEqual || !r.elfEqual).map((r) => `${r.module}: ${r.detail}`);
      assert.deepEqual(differ, []);
    });
  }
});
