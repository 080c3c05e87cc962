// SPDX-License-Identifier: GPL-2.0-only
// The mutation sweep over many cases (src/testing/sweep.ts):
//   npm run sweep [-- [--cases N] [--seed S] [--per-corpus N]]
// Inputs: modules of each corpus fetched (shipped, and with their ORC stripped) and the analysis
// fixtures (hints, annotations, alternatives), assembled here.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CorpusName, corpusAvailable, sampleModules } from '../testing/corpus.js';
import { compileFixture, makeTempDir, removeDir, repoRoot, srcPath } from '../testing/toolchain.js';
import { sweep, type SweepInput } from '../testing/sweep.js';

const CORPORA: CorpusName[] = ['7.3-cloud', '6.12-cloud', '6.1-generic'];

/** The sweep's objects: `perCorpus` small modules of each corpus there is, and every analysis fixture. */
export function sweepInputs(dir: string, perCorpus: number): SweepInput[] {
  const out: SweepInput[] = [];
  for (const c of CORPORA) {
    if (!corpusAvailable(c)) continue;
    for (const m of sampleModules(c, perCorpus * 5).filter((_, i) => i % 5 === 0)) {
      const stripped = join(dir, 'stripped.ko');
      spawnSync('objcopy', ['--remove-section=.orc_unwind', '--remove-section=.orc_unwind_ip', '--remove-section=.rela.orc_unwind_ip', m, stripped]);
      out.push({ name: `${c}:${m.replace(/^.*\//, '')}`, shipped: readFileSync(m), stripped: readFileSync(stripped) });
    }
  }
  const fixtures = srcPath('analysis', 'fixtures');
  for (const f of readdirSync(fixtures).filter((n) => /\.S$/.test(n) && !/-bad\.S$/.test(n))) {
    let o: string;
    try {
      o = compileFixture(join(fixtures, f), dir);
    } catch {
      continue;
    }
    const stripped = readFileSync(o);
    try {
      execFileSync(join(repoRoot, 'bin', 'orctool'), ['--orc', o], { stdio: 'ignore', env: { ...process.env, ORCTOOL_SERVER: '0' } });
    } catch {
      // (a fixture made to warn: its ORC may still be written)
    }
    out.push({ name: f, shipped: readFileSync(o), stripped });
  }
  return out;
}

async function main(args: string[]): Promise<number> {
  let cases = 100_000;
  let seed = 1;
  let perCorpus = 10;
  for (let k = 0; k < args.length; k++) {
    if (args[k] === '--cases') cases = Number(args[++k]);
    else if (args[k] === '--seed') seed = Number(args[++k]);
    else if (args[k] === '--per-corpus') perCorpus = Number(args[++k]);
    else throw new Error(`unknown argument ${args[k]}`);
  }
  const dir = makeTempDir('orctool-sweep-');
  try {
    const inputs = sweepInputs(dir, perCorpus);
    const t0 = performance.now();
    const r = await sweep(inputs, cases, seed, join(dir, 'case'), (n) => {
      if (process.stderr.isTTY && n % 100 === 0) process.stderr.write(`\r${n}/${cases}`);
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(`sweep: ${r.ok}/${r.cases} cases handled cleanly over ${inputs.length} objects, seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    for (const [k, v] of Object.entries(r.byKind)) console.log(`  ${k.padEnd(26)} ${v.cases} cases, ${v.refused} refused`);
    console.log(`  slowest case: ${r.slowest.ms.toFixed(0)} ms (${r.slowest.what})`);
    for (const f of r.failures.slice(0, 50)) console.log(`  FAILED ${f}`);
    return r.failures.length ? 1 : 0;
  } finally {
    removeDir(dir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
