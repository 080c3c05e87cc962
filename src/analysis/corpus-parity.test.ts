// SPDX-License-Identifier: GPL-2.0-only
// orctool against Debian's objtool on a deterministic sample of the module corpora, same input
// and flags: the same warnings and the same ORC (as `objtool --dump=orc` prints it). The whole
// corpora: `npm run corpus:parity`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_FLAGS, parityForModule } from '../corpus/parity.js';
import { type CorpusName, corpusAvailable, objtoolPath, sampleModules } from '../testing/corpus.js';

const SAMPLE: [CorpusName, number][] = [['6.12-cloud', 100], ['6.12-generic', 120], ['6.1-generic', 120]];
const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

describe('parity with objtool on the module corpora', () => {
  for (const [name, count] of SAMPLE) {
    const have = corpusAvailable(name) && objtoolPath(CORPUS_FLAGS[name].objtool) !== undefined;
    const skip = !have && !required ? `corpus ${name} or its objtool not fetched (scripts/corpus.sh)` : false;
    test(`${name}: ${count} modules, ${CORPUS_FLAGS[name].flags.join(' ')}: same warnings, same ORC`, { skip }, () => {
      const results = sampleModules(name, count).map((m) => parityForModule(m, name));
      assert.equal(results.length, count);
      const differ = results.filter((r) => !r.warningsEqual || !r.orcEqual).map((r) => `${r.module}: ${r.detail}`);
      assert.deepEqual(differ, []);
    });
  }
});
