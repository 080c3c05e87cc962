// SPDX-License-Identifier: GPL-2.0-only
// Planted errors in the objects of a kernel build (scripts/build-kernel.sh), not the corpus
// modules verify was tuned on: each object is given its ORC by orctool with the build's own
// objtool command line, then errors of every kind (src/verify/plant.ts) are planted one at a
// time and `verify` must report a mismatch that the clean object does not have.
//   npm run verify:plant [-- [--kernel 6.12|7.3] [--kind modules,vmlinux] [--per-kind N] [--vmlinux-per-kind N] [--seed S]]
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { layoutByName } from '../kernel/versions.js';
import { runCheckCommand } from '../cli/check-command.js';
import { verify } from '../verify/verify.js';
import { PLANT_KINDS, type PlantKind, plantOne, rng } from '../verify/plant.js';
import { kbuildRoot } from './kernel-objects.js';

interface Tally {
  planted: number;
  caught: number;
  misses: string[];
}

async function main(args: string[]): Promise<number> {
  let kernel = '7.3';
  let kinds = ['modules', 'vmlinux'];
  let perKind = 1;
  let vmlinuxPerKind = 2;
  let seed = 1;
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === '--kernel') kernel = args[++k]!;
    else if (a === '--kind') kinds = args[++k]!.split(',');
    else if (a === '--per-kind') perKind = Number(args[++k]);
    else if (a === '--vmlinux-per-kind') vmlinuxPerKind = Number(args[++k]);
    else if (a === '--seed') seed = Number(args[++k]);
    else throw new Error(`unknown argument ${a}`);
  }
  const layout = layoutByName(kernel);
  if (!layout) throw new Error(`--kernel: ${kernel}?`);
  const dir = join(kbuildRoot(), kernel);
  const log = join(dir, 'objtool-commands.log');
  if (!existsSync(log)) {
    console.log(`no build of ${kernel} in ${dir} (scripts/build-kernel.sh --kernel ${kernel})`);
    return 1;
  }
  // Each object's last logged command line.
  const flagsOf = new Map<string, string[]>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const w = line.split(' ').filter(Boolean);
    if (w[0] === 'objtool' && w.length > 2) flagsOf.set(w.at(-1)!, w.slice(1, -1));
  }
  const objects: [string, string][] = [];
  if (kinds.includes('vmlinux')) objects.push(['vmlinux.o', join(dir, 'objects', 'vmlinux', 'vmlinux.o')]);
  if (kinds.includes('modules')) {
    for (const name of readFileSync(join(dir, 'objects', 'modules', 'list.txt'), 'utf8').split('\n').filter(Boolean)) {
      if (flagsOf.get(name)?.includes('--orc')) objects.push([name, join(dir, 'objects', 'modules', name)]);
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'orctool-plant-'));
  const tally = new Map<PlantKind, Tally>(PLANT_KINDS.map((k) => [k, { planted: 0, caught: 0, misses: [] }]));
  const rand = rng(seed);
  let preexisting = 0;
  try {
    for (const [name, path] of objects) {
      const flags = flagsOf.get(name);
      if (!flags) continue;
      const f = join(tmp, 'clean.o');
      copyFileSync(path, f);
      runCheckCommand([...flags, `--kernel=${kernel}`, f], { stdout: () => {}, stderr: () => {} });
      const clean = ElfFile.open(f);
      const before = new Set(verify(clean, layout).mismatches.map((m) => `${m.location}|${m.variant}`));
      preexisting += before.size;
      const n = name === 'vmlinux.o' ? vmlinuxPerKind : perKind;
      for (const kind of PLANT_KINDS) {
        for (let i = 0; i < n; i++) {
          const out = join(tmp, 'planted.o');
          const p = plantOne(clean, layout, kind, rand, out);
          if (!p) continue;
          const t = tally.get(kind)!;
          t.planted++;
          const e = ElfFile.open(out);
          const found = verify(e, layout).mismatches.filter((m) => !before.has(`${m.location}|${m.variant}`));
          if (found.length) t.caught++;
          else t.misses.push(`${name}: ${p.section}+0x${p.offset.toString(16)} ${p.what}`);
        }
      }
      if (process.stderr.isTTY) process.stderr.write(`\r${name}                    `);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  let planted = 0;
  let caught = 0;
  console.log(`Linux ${kernel} build objects (${objects.length}: ${kinds.join(', ')}), seed ${seed}; mismatches in the clean objects (not counted): ${preexisting}`);
  for (const [kind, t] of tally) {
    planted += t.planted;
    caught += t.caught;
    console.log(`  ${kind.padEnd(10)} caught ${t.caught}/${t.planted}`);
    for (const m of t.misses) console.log(`    missed ${m}`);
  }
  console.log(`  all        caught ${caught}/${planted} (${planted ? ((100 * caught) / planted).toFixed(1) : '0'}%)`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
