// SPDX-License-Identifier: GPL-2.0-only
// The fuzzers' seed corpus, built at run time (no binary is committed):
//   node dist/fuzz/seeds.js TARGET DIR
// writes into DIR the analysis fixtures (src/analysis/fixtures: 6.12 layouts, and with -DK61 the
// 6.1 ones), assembled or compiled with gcc, each as assembled and with ORC added by orctool
// (`--orc`, in-process), and a few small corpus modules of 6.1, 6.12 and 7.3 (~/.cache/
// orctool-corpus, when fetched) as shipped and with their ORC removed (objcopy). For the `check`
// target each seed gets the first byte that selects the command (src/fuzz/check.ts): several flag
// sets per object, with --kernel=6.1 for the 6.1-layout fixtures.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runCheckCommand } from '../cli/check-command.js';
import { type CorpusName, corpusAvailable, sampleModules } from '../testing/corpus.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';
import { FLAG_SETS, KERNELS } from './check.js';
import { SINK } from './harness.js';

export const TARGETS = ['elf', 'check', 'dump', 'patch', 'verify', 'explain'] as const;
export type Target = (typeof TARGETS)[number];

/** Seeds larger than this are left out (the fuzzers' -max_len). */
export const MAX_SEED = 1 << 20;

const CORPORA: CorpusName[] = ['6.1-generic', '6.12-cloud', '7.3-cloud'];

export interface SeedObject {
  name: string;
  bytes: Buffer;
  /** The layout to force for it (the 6.1-layout fixtures carry no marker). */
  kernel?: string;
}

/** A fixture's object, as assembled and with ORC (named `<name>.orc`); none if it does not build. */
function fixtureObjects(dir: string, source: string, tag: string, cflags: string[], kernel?: string): SeedObject[] {
  const sub = join(dir, tag);
  mkdirSync(sub, { recursive: true });
  let obj: string;
  try {
    obj = compileFixture(source, sub, cflags);
  } catch {
    return [];
  }
  const base = `${tag}-${source.replace(/^.*\//, '')}`;
  const out: SeedObject[] = [{ name: base, bytes: readFileSync(obj), kernel }];
  const withOrc = join(sub, 'orc.o');
  copyFileSync(obj, withOrc);
  try {
    runCheckCommand(['--orc', ...(kernel ? [`--kernel=${kernel}`] : []), withOrc], SINK);
  } catch {
    // (a fixture made to be refused)
  }
  out.push({ name: `${base}.orc`, bytes: readFileSync(withOrc), kernel });
  return out;
}

/** Every seed object: fixtures in both layouts, with and without ORC; `perCorpus` small modules of each corpus, shipped and stripped. */
export function seedObjects(dir: string, perCorpus = 3): SeedObject[] {
  const out: SeedObject[] = [];
  const fixtures = srcPath('analysis', 'fixtures');
  for (const f of readdirSync(fixtures).filter((n) => /\.[Sc]$/.test(n)).sort()) {
    out.push(...fixtureObjects(dir, join(fixtures, f), 'k612', []));
    if (f.endsWith('.S')) out.push(...fixtureObjects(dir, join(fixtures, f), 'k61', ['-DK61', '-DALT12'], '6.1'));
  }
  for (const c of CORPORA) {
    if (!corpusAvailable(c)) {
      console.error(`seeds: corpus ${c} not fetched (scripts/corpus.sh ${c}); left out`);
      continue;
    }
    // The smallest modules of a spread sample: quick to run, and still with real metadata.
    const small = sampleModules(c, 400).map((m) => ({ m, size: statSync(m).size })).filter((x) => x.size >= 4096 && x.size <= 40_000)
      .sort((a, b) => a.size - b.size || (a.m < b.m ? -1 : 1));
    const picked = [0, Math.floor(small.length / 2), small.length - 1].slice(0, perCorpus).map((k) => small[k]).filter((x) => x !== undefined);
    for (const { m } of picked) {
      const name = `${c}-${m.replace(/^.*\//, '')}`;
      out.push({ name, bytes: readFileSync(m) });
      const stripped = join(dir, 'stripped.ko');
      const r = spawnSync('objcopy', ['--remove-section=.orc_unwind', '--remove-section=.orc_unwind_ip', '--remove-section=.rela.orc_unwind_ip', m, stripped]);
      if (r.status === 0) out.push({ name: `${name}.noorc`, bytes: readFileSync(stripped) });
    }
  }
  return out.filter((o) => o.bytes.length <= MAX_SEED);
}

/** The seed files of a target: name -> bytes (the check target's with their command byte). */
export function targetSeeds(target: Target, objects: readonly SeedObject[]): Map<string, Buffer> {
  const seeds = new Map<string, Buffer>();
  const seen = new Set<string>();
  const add = (name: string, bytes: Buffer): void => {
    const h = createHash('sha1').update(bytes).digest('hex');
    if (seen.has(h)) return;
    seen.add(h);
    seeds.set(name, bytes);
  };
  objects.forEach((o, j) => {
    if (target !== 'check') {
      add(o.name, o.bytes);
      return;
    }
    // Two flag sets an object, spread over all of them; the layout its own or the forced one.
    const kernel = Math.max(0, KERNELS.indexOf(o.kernel));
    for (const set of [j % FLAG_SETS.length, (j + 3) % FLAG_SETS.length]) {
      const b = set + FLAG_SETS.length * kernel;
      add(`${o.name}.set${set}`, Buffer.concat([Buffer.of(b), o.bytes]));
    }
  });
  return seeds;
}

function main(args: string[]): number {
  const [target, out] = args;
  if (!target || !out || !(TARGETS as readonly string[]).includes(target)) {
    console.error(`usage: node dist/fuzz/seeds.js TARGET DIR (TARGET: ${TARGETS.join(', ')})`);
    return 2;
  }
  const dir = makeTempDir('orctool-seeds-');
  try {
    const seeds = targetSeeds(target as Target, seedObjects(dir));
    mkdirSync(out, { recursive: true });
    let bytes = 0;
    for (const [name, b] of seeds) {
      writeFileSync(join(out, name), b);
      bytes += b.length;
    }
    console.error(`seeds: ${seeds.size} seeds for ${target} (${(bytes / 1024).toFixed(0)} KiB) in ${out}`);
    return 0;
  } finally {
    removeDir(dir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
