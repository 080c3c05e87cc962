// SPDX-License-Identifier: GPL-2.0-only
// `npm run bench`: figures, never pass/fail. Each input is run by orctool and by Debian's
// objtool alternately (same flags, fresh copies), several rounds; medians of wall time and peak
// RSS (GNU time's %M, or /proc for ourselves) and their ratios. Needs scripts/corpus.sh.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ElfFile } from '../elf/reader.js';
import { repoRoot } from '../testing/toolchain.js';
import { type CorpusName, corpusAvailable, corpusModules, objtoolPath, sampleModules } from '../testing/corpus.js';
import { benchDecode } from './decode.bench.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Run a command, returning wall seconds and peak RSS in MiB (from /usr/bin/time when present). */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { secs: number; rssMiB: number } {
  const haveTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
  const t0 = performance.now();
  const r = haveTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', env })
    : spawnSync(cmd, args, { encoding: 'utf8', env });
  const secs = (performance.now() - t0) / 1000;
  const kb = haveTime ? Number(r.stderr.trim().split('\n').at(-1)) : NaN;
  return { secs, rssMiB: kb / 1024 };
}

function stripOrc(src: string, dst: string): void {
  spawnSync('objcopy', ['--remove-section=.orc_unwind', '--remove-section=.orc_unwind_ip', '--remove-section=.rela.orc_unwind_ip', src, dst]);
}

function compareTools(label: string, modules: string[], flags: string[], version: '6.12' | '6.1', rounds = 3): void {
  const objtool = objtoolPath(version);
  if (!objtool) return;
  const dir = mkdtempSync(join(tmpdir(), 'orctool-bench-'));
  const ours: number[] = [];
  const theirs: number[] = [];
  const oursRss: number[] = [];
  const theirsRss: number[] = [];
  try {
    const inputs = modules.map((m, i) => {
      const p = join(dir, `in${i}.ko`);
      stripOrc(m, p);
      return p;
    });
    for (let r = 0; r < rounds; r++) {
      const a = inputs.map((p, i) => { const q = join(dir, `a${i}.ko`); copyFileSync(p, q); return q; });
      const b = inputs.map((p, i) => { const q = join(dir, `b${i}.ko`); copyFileSync(p, q); return q; });
      const t1 = timed(join(repoRoot, 'bin', 'orctool'), [...flags, ...a]);
      let secs = 0;
      let rss = 0;
      for (const q of b) {
        const t = timed(objtool, [...flags, q], { ...process.env, SRCARCH: 'x86' });
        secs += t.secs;
        rss = Math.max(rss, t.rssMiB);
      }
      ours.push(t1.secs);
      oursRss.push(t1.rssMiB);
      theirs.push(secs);
      theirsRss.push(rss);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const o = median(ours);
  const t = median(theirs);
  console.log(`${label.padEnd(44)} orctool ${o.toFixed(2)} s ${median(oursRss).toFixed(0)} MiB | objtool ${t.toFixed(2)} s ${median(theirsRss).toFixed(0)} MiB | time ratio ${(o / t).toFixed(2)}x`);
}

async function main(): Promise<void> {
  const corpora: CorpusName[] = ['6.12-cloud', '6.12-generic', '6.1-generic'];
  const available = corpora.filter(corpusAvailable);
  if (available.length === 0) {
    console.log('no corpus fetched: run scripts/corpus.sh');
    return;
  }
  // ELF layer: the largest module, then a whole corpus, read with symbols and every relocation table.
  const all = available.flatMap(corpusModules);
  const largest = all.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  const readAll = (p: string): void => {
    const elf = ElfFile.fromBytes(readFileSync(p), p);
    elf.symbols;
    for (const s of elf.sections) if (s.type === 4 || s.type === 9) elf.relocTable(s);
  };
  let t0 = performance.now();
  readAll(largest);
  console.log(`ELF read, largest module (${(statSync(largest).size / 2 ** 20).toFixed(1)} MiB, ${largest.replace(/^.*\/kernel\//, '')}): ${(performance.now() - t0).toFixed(0)} ms`);
  const first = available[0]!;
  t0 = performance.now();
  for (const m of corpusModules(first)) readAll(m);
  console.log(`ELF read, whole ${first} corpus (${corpusModules(first).length} modules): ${((performance.now() - t0) / 1000).toFixed(2)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

  const d = await benchDecode(sampleModules(first, 200));
  console.log(`decode: ${JSON.stringify(d)}`);

  // orctool vs objtool, same inputs and flags.
  if (corpusAvailable('6.12-cloud')) {
    const kvm = corpusModules('6.12-cloud').find((m) => m.endsWith('/kvm.ko'));
    if (kvm) compareTools('kvm.ko (6.12, --orc --link --module)', [kvm], ['--orc', '--link', '--module'], '6.12');
    compareTools('batch of 200 modules (6.12, --orc --link --module)', sampleModules('6.12-cloud', 200), ['--orc', '--link', '--module'], '6.12', 1);
    const small = sampleModules('6.12-cloud', 50).reduce((a, b) => (statSync(a).size <= statSync(b).size ? a : b));
    compareTools(`smallest of a sample (${small.replace(/^.*\//, '')})`, [small], ['--orc', '--link', '--module'], '6.12', 5);
  }
}

await main();
