// SPDX-License-Identifier: GPL-2.0-only
// `npm run bench [-- --only=vmlinux,vmlinux-debug,batch,batch-jobs2,small,kvm,small-served,mid-served,replay,replay-noibt,verify,growth,elf,decode] [--rounds=N]`:
// figures, never pass/fail. orctool against Debian's objtool on each input (compare.ts), then
// a markdown table; the ELF-reading and decoding micro-benchmarks run only when named.
// Needs scripts/corpus.sh (modules, objtool) and, for vmlinux, npm run kbuild.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { type CorpusName, corpusAvailable, corpusModules, sampleModules } from '../testing/corpus.js';
import { benchDecode } from './decode.bench.js';
import { type BenchCase, type CaseResult, markdownTable, runCase } from './compare.js';
import { buildCalls, replay } from './replay.js';
import { measureGrowth, writeGrowth } from './growth.js';
import { type VerifyCost, verifyCost, verifyCostTable } from './verify-cost.js';

const TOOL_CASES = ['vmlinux', 'vmlinux-debug', 'batch', 'batch-jobs2', 'small', 'kvm', 'small-served', 'mid-served'];
/** A build's objtool calls replayed (replay.ts): the 7.3 IBT build, and the 7.3 build without IBT. */
const REPLAYS: Record<string, string> = { replay: '7.3', 'replay-noibt': '7.3-noibt' };
const MICRO = ['elf', 'decode'];
/** Cost against input size (growth.ts): writes bench-out/growth.md and growth.svg. */
const GROWTH = 'growth';
/** verify of vmlinux.o against generating its ORC (verify-cost.ts). */
const VERIFY = 'verify';
const MODULE_FLAGS = ['--orc', '--link', '--module'];

function kbuildRootDir(): string {
  return process.env['ORCTOOL_KBUILD'] || join(homedir(), '.cache', 'orctool-kbuild');
}

function kbuildObject(variant: string): string | undefined {
  const root = kbuildRootDir();
  const p = join(root, variant, 'objects', 'vmlinux', 'vmlinux.o');
  return existsSync(p) ? p : undefined;
}

/** The comparisons, in the order they run; those whose input is missing are left out, said why. */
function toolCases(only: Set<string>, roundsOverride: number | undefined): BenchCase[] {
  const cases: BenchCase[] = [];
  const add = (c: BenchCase): void => {
    if (only.has(c.name)) cases.push({ ...c, rounds: roundsOverride ?? c.rounds });
  };
  const missing = (name: string, why: string): void => {
    if (only.has(name)) console.log(`${name}: ${why}, skipped`);
  };
  const cloud = corpusAvailable('6.12-cloud');
  if (cloud) {
    const kvm = corpusModules('6.12-cloud').find((m) => m.endsWith('/kvm.ko'));
    const small = sampleModules('6.12-cloud', 50).reduce((a, b) => (statSync(a).size <= statSync(b).size ? a : b));
    add({ name: 'small', label: `small module (${small.replace(/^.*\//, '')})`, files: [small], flags: MODULE_FLAGS, rounds: 7, strip: true, version: '6.12' });
    if (kvm) add({ name: 'kvm', label: 'kvm.ko', files: [kvm], flags: MODULE_FLAGS, rounds: 5, strip: true, version: '6.12' });
    else missing('kvm', 'no kvm.ko in the 6.12-cloud corpus');
    add({ name: 'small-served', label: `small module (${small.replace(/^.*\//, '')}), orctool served`, files: [small], flags: MODULE_FLAGS, rounds: 7, strip: true, version: '6.12', orctoolMode: 'served' });
    const batch = sampleModules('6.12-cloud', 200);
    add({ name: 'batch', label: '200 modules (6.12-cloud; objtool once per file)', files: batch, flags: MODULE_FLAGS, rounds: 3, strip: true, version: '6.12' });
    // The same batch on two threads (the main one and a worker), to show what a worker brings
    // on this machine (the default leaves one core to V8's threads: none on 2 cores).
    add({ name: 'batch-jobs2', label: '200 modules, orctool --jobs=2', files: batch, flags: MODULE_FLAGS, orctoolFlags: ['--jobs=2'], rounds: 3, strip: true, version: '6.12' });
  } else {
    for (const n of ['small', 'kvm', 'batch', 'batch-jobs2', 'small-served']) missing(n, 'the 6.12-cloud corpus is not fetched (scripts/corpus.sh)');
  }
  // Mid-size modules, one call each, as a build makes them (issue 15, target 3).
  if (corpusAvailable('6.12-generic')) {
    const all = corpusModules('6.12-generic');
    // The server as a build's module calls leave it: warmed by a dozen other modules first.
    const warmup = sampleModules('6.12-generic', 12);
    for (const m of ['/kvm.ko', '/btrfs.ko', '/amdgpu.ko']) {
      const f = all.find((x) => x.endsWith(m));
      if (f) add({ name: 'mid-served', label: `${m.slice(1)}, orctool served`, files: [f], flags: MODULE_FLAGS, rounds: 3, strip: true, version: '6.12', orctoolMode: 'served', warmup });
    }
  } else missing('mid-served', 'the 6.12-generic corpus is not fetched (scripts/corpus.sh)');
  // The kbuild cache keeps vmlinux.o as objtool was handed it (no ORC yet, nothing to strip) and
  // the build's objtool command lines: vmlinux.o is run with its own (issue 15, target 1).
  for (const version of ['6.12', '7.3'] as const) {
    const call = buildCalls(join(kbuildRootDir(), version)).find((c) => c.file === 'vmlinux.o');
    if (call) add({ name: 'vmlinux', label: `vmlinux.o (${version}, the build's arguments)`, files: [call.input], flags: call.flags, rounds: 3, strip: false, version });
    else missing('vmlinux', `no ${version} vmlinux.o with its objtool log (npm run kbuild)`);
  }
  // With DWARF (scripts/build-kernel.sh --debug-info): the build's own arguments where its log
  // has them.
  const debugCall = buildCalls(join(kbuildRootDir(), '6.12-debug')).find((c) => c.file === 'vmlinux.o');
  const debug = debugCall?.input ?? kbuildObject('6.12-debug');
  if (debug) add({ name: 'vmlinux-debug', label: `vmlinux.o with DWARF (6.12${debugCall ? ", the build's arguments" : ''})`, files: [debug], flags: debugCall?.flags ?? ['--orc', '--link'], rounds: 1, strip: false, version: '6.12' });
  else missing('vmlinux-debug', 'no 6.12-debug vmlinux.o (scripts/build-kernel.sh --debug-info)');
  return cases;
}

async function micro(only: Set<string>): Promise<void> {
  const available = (['6.12-cloud', '6.12-generic', '6.1-generic'] as CorpusName[]).filter(corpusAvailable);
  if (available.length === 0) {
    console.log('micro-benchmarks: no corpus fetched (scripts/corpus.sh)');
    return;
  }
  const first = available[0]!;
  if (only.has('elf')) {
    // The largest module, then a whole corpus, read with symbols and every relocation table.
    const all = available.flatMap(corpusModules);
    const largest = all.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
    const readAll = (p: string): void => {
      const elf = ElfFile.fromBytes(readFileSync(p), p);
      void elf.symbols;
      for (const s of elf.sections) if (s.type === 4 || s.type === 9) elf.relocTable(s);
    };
    let t0 = performance.now();
    readAll(largest);
    console.log(`ELF read, largest module (${(statSync(largest).size / 2 ** 20).toFixed(1)} MiB, ${largest.replace(/^.*\/kernel\//, '')}): ${(performance.now() - t0).toFixed(0)} ms`);
    t0 = performance.now();
    for (const m of corpusModules(first)) readAll(m);
    console.log(`ELF read, whole ${first} corpus (${corpusModules(first).length} modules): ${((performance.now() - t0) / 1000).toFixed(2)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  }
  if (only.has('decode')) console.log(`decode: ${JSON.stringify(await benchDecode(sampleModules(first, 200)))}`);
}

async function main(argv: string[]): Promise<number> {
  let only = new Set(TOOL_CASES);
  let rounds: number | undefined;
  for (const a of argv) {
    if (a.startsWith('--only=')) only = new Set(a.slice('--only='.length).split(',').filter((s) => s !== ''));
    else if (/^--rounds=[1-9]\d*$/.test(a)) rounds = Number(a.slice('--rounds='.length));
    else {
      console.error(`usage: npm run bench -- [--only=${[...TOOL_CASES, ...Object.keys(REPLAYS), VERIFY, GROWTH, ...MICRO].join(',')}] [--rounds=N]`);
      return 2;
    }
  }
  const unknown = [...only].filter((n) => !TOOL_CASES.includes(n) && !MICRO.includes(n) && !(n in REPLAYS) && n !== GROWTH && n !== VERIFY);
  if (unknown.length) {
    console.error(`bench: unknown input ${unknown.join(', ')} (one of ${[...TOOL_CASES, ...MICRO].join(', ')})`);
    return 2;
  }
  await micro(only);
  const results: CaseResult[] = [];
  for (const c of toolCases(only, rounds)) {
    const r = runCase(c, (s) => console.log(s));
    if (!r) continue;
    for (const f of [...r.orctool.failures, ...r.objtool.failures]) console.log(`${c.label}: ${f}`);
    results.push(r);
  }
  if (results.length) console.log(`\n${markdownTable(results)}`);
  const rows: string[] = [];
  for (const [name, variant] of Object.entries(REPLAYS)) {
    if (!only.has(name)) continue;
    const r = await replay(join(kbuildRootDir(), variant), variant.replace(/-.*$/, ''), ['served', 'in-process'], 2, (s) => console.log(s), rounds ?? 3);
    if (!r) {
      console.log(`${name}: no ${variant} build with its objtool log (scripts/build-kernel.sh), skipped`);
      continue;
    }
    for (const [mode, o] of Object.entries(r.orctool)) {
      for (const d of o.differ.slice(0, 5)) console.log(`${name} (${mode}): differs: ${d}`);
      const n = mode === 'served' ? r.rounds : 1;
      rows.push(`| ${variant} build, ${r.calls} objtool calls, 2 at a time (${n} round${n > 1 ? 's' : ''}) | orctool ${mode} | ${o.secs.toFixed(2)} s | ${r.objtoolSecs.toFixed(2)} s | ` +
        `${(o.secs / r.objtoolSecs).toFixed(2)}x | ${r.calls - o.differ.length}/${r.calls} |`);
    }
  }
  if (only.has(VERIFY)) {
    const rows: VerifyCost[] = [];
    for (const version of ['6.12', '7.3'] as const) {
      const call = buildCalls(join(kbuildRootDir(), version)).find((c) => c.file === 'vmlinux.o');
      const r = call && verifyCost(`vmlinux.o (${version})`, call.input, call.flags, version, rounds ?? 3, (s) => console.log(s));
      if (r) rows.push(r);
      else console.log(`verify: no ${version} vmlinux.o with its objtool log, or no objtool ${version}, skipped`);
    }
    if (rows.length) console.log(`\n${verifyCostTable(rows)}`);
  }
  if (only.has(GROWTH)) {
    const extra = [['vmlinux.o (6.12)', kbuildObject('6.12')], ['vmlinux.o with DWARF (6.12)', kbuildObject('6.12-debug')]]
      .filter((e): e is [string, string] => e[1] !== undefined).map(([name, path]) => ({ name, path, flags: ['--orc', '--link'] }));
    const points = corpusAvailable('6.12-cloud') ? measureGrowth('6.12-cloud', 24, extra, (s) => console.log(s)) : [];
    if (points.length) console.log(`\n${writeGrowth(points, join(process.cwd(), 'bench-out'))}(bench-out/growth.md, bench-out/growth.svg)`);
    else console.log('growth: needs the 6.12-cloud corpus and objtool 6.12 (scripts/corpus.sh), skipped');
  }
  if (rows.length) console.log(['', '| replay | orctool | orctool total | objtool total | time ratio | same output, messages, status |', '| --- | --- | ---: | ---: | ---: | ---: |', ...rows].join('\n'));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
