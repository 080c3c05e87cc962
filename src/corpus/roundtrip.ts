// SPDX-License-Identifier: GPL-2.0-only
// Round trip over the kernel module corpora: read each module, re-encode its symbol table and
// every relocation section from what was parsed, serialize, and compare with the input.
// `npm run corpus:roundtrip [-- CORPUS...]` runs every module; the CI test runs a sample.
import { readFileSync } from 'node:fs';
import { ElfFile } from '../elf/reader.js';
import { ElfEditor } from '../elf/writer.js';
import { eachCorpus } from '../testing/corpus.js';

export interface RoundTripResult {
  path: string;
  identical: boolean;
  error?: string;
}

export function roundTrip(path: string): RoundTripResult {
  try {
    const bytes = readFileSync(path);
    const ed = new ElfEditor(ElfFile.fromBytes(bytes, path));
    ed.reencodeAll();
    return { path, identical: Buffer.from(ed.serialize()).equals(bytes) };
  } catch (e) {
    return { path, identical: false, error: (e as Error).message };
  }
}

async function main(args: string[]): Promise<number> {
  let bad = 0;
  // (awaited before adding: the callback counts into bad meanwhile)
  const missing = await eachCorpus(args, (name, mods) => {
    const t0 = performance.now();
    let ok = 0;
    for (const m of mods) {
      const r = roundTrip(m);
      if (r.identical) ok++;
      else console.log(`  differs: ${m}${r.error ? `: ${r.error}` : ''}`);
    }
    bad += mods.length - ok;
    console.log(`${name}: round trip byte-identical ${ok}/${mods.length} modules (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  });
  bad += missing;
  return bad === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
