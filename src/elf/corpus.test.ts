// SPDX-License-Identifier: GPL-2.0-only
// The ELF layer on real kernel modules: a deterministic sample of the Debian corpora
// (scripts/corpus.sh fetches them; ORCTOOL_REQUIRE_CORPUS=1 turns a missing corpus into a failure).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { roundTrip } from '../corpus/roundtrip.js';
import { type CorpusName, corpusAvailable, sampleModules } from '../testing/corpus.js';
import { assertMatchesReadelf } from './readelf-oracle.js';

const SAMPLE: [CorpusName, number][] = [['7.3-cloud', 40], ['7.3-generic', 40], ['6.12-cloud', 70], ['6.12-generic', 70], ['6.1-generic', 70]];
const required = process.env.ORCTOOL_REQUIRE_CORPUS === '1';

describe('ELF layer on the module corpora', () => {
  for (const [name, count] of SAMPLE) {
    const skip = !corpusAvailable(name) && !required ? `corpus ${name} not fetched (scripts/corpus.sh)` : false;
    test(`${name}: round trip of ${count} modules is byte-identical`, { skip }, () => {
      const mods = sampleModules(name, count);
      assert.equal(mods.length, count);
      const bad = mods.map(roundTrip).filter((r) => !r.identical);
      assert.deepEqual(bad, []);
    });
    test(`${name}: sections, symbols and relocations match readelf on 8 modules`, { skip }, () => {
      for (const m of sampleModules(name, 8)) assertMatchesReadelf(m);
    });
  }
});
