// SPDX-License-Identifier: GPL-2.0-only
// --dump=orc parity over the kernel module corpora: for every module, orctool's dump (era detected
// from the module) must equal Debian's objtool's (6.12 for the 6.12 corpora, 6.1 for 6.1-generic)
// byte for byte: stdout, stderr and exit status.
// `npm run corpus:dump [-- CORPUS...]` runs every module; src/orc/corpus.test.ts runs a sample.
import { spawn, spawnSync } from 'node:child_process';
import { ElfFile } from '../elf/reader.js';
import { detectLayout } from '../kernel/detect.js';
import { dumpOrc, type OrcDumpResult } from '../orc/dump.js';
import { type CorpusName, type ObjtoolVersion, eachCorpus, objtoolPath } from '../testing/corpus.js';


export function objtoolFor(name: CorpusName): ObjtoolVersion {
  return name.startsWith('6.1-') ? '6.1' : name.startsWith('7.') ? '7.3' : '6.12';
}

export interface DumpComparison {
  path: string;
  identical: boolean;
  /** Where they differ, for the report. */
  detail?: string;
}

function oracleEnv(): NodeJS.ProcessEnv {
  return { ...process.env, SRCARCH: 'x86' };
}

function bin(version: ObjtoolVersion): string {
  const b = objtoolPath(version);
  if (b === undefined) throw new Error(`objtool ${version} not fetched: run scripts/corpus.sh`);
  return b;
}

/** objtool --dump=orc, output decoded one character per byte like ours. */
export function objtoolDumpSync(version: ObjtoolVersion, path: string): OrcDumpResult {
  const r = spawnSync(bin(version), ['--dump=orc', path], { env: oracleEnv(), maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status: r.status ?? -1 };
}

export function objtoolDump(version: ObjtoolVersion, path: string): Promise<OrcDumpResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin(version), ['--dump=orc', path], { env: oracleEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => resolve({
      stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1'), status: code ?? -1,
    }));
  });
}

/** orctool's dump of a module, the era taken from the module itself. */
export function orctoolDump(path: string): OrcDumpResult {
  const elf = ElfFile.open(path);
  return dumpOrc(elf, detectLayout(elf).layout.orc, path);
}

/** Where two dumps differ (first differing line), or undefined when identical. */
export function describeDifference(ours: OrcDumpResult, theirs: OrcDumpResult): string | undefined {
  if (ours.status !== theirs.status) return `exit status ${ours.status}, objtool ${theirs.status}`;
  if (ours.stderr !== theirs.stderr) return `stderr ${JSON.stringify(ours.stderr)}, objtool ${JSON.stringify(theirs.stderr)}`;
  if (ours.stdout === theirs.stdout) return undefined;
  const a = ours.stdout.split('\n');
  const b = theirs.stdout.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: ${JSON.stringify(a[i] ?? '<none>')}, objtool ${JSON.stringify(b[i] ?? '<none>')} (${a.length} vs ${b.length} lines)`;
  }
  return 'stdout differs';
}

function compare(path: string, theirs: OrcDumpResult): DumpComparison {
  let ours: OrcDumpResult;
  try {
    ours = orctoolDump(path);
  } catch (e) {
    return { path, identical: false, detail: `orctool failed: ${(e as Error).message}` };
  }
  const detail = describeDifference(ours, theirs);
  return detail === undefined ? { path, identical: true } : { path, identical: false, detail };
}

export function compareDumpSync(path: string, version: ObjtoolVersion): DumpComparison {
  return compare(path, objtoolDumpSync(version, path));
}

/** Compare every module, `jobs` objtool processes at a time (ours run in between). */
export async function compareDumps(paths: readonly string[], version: ObjtoolVersion, jobs = 2,
  onResult?: (r: DumpComparison) => void): Promise<DumpComparison[]> {
  const results: DumpComparison[] = new Array(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const k = next++;
      const theirs = await objtoolDump(version, paths[k]!);
      results[k] = compare(paths[k]!, theirs);
      onResult?.(results[k]!);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

async function main(args: string[]): Promise<number> {
  let total = 0;
  let same = 0;
  let bad = 0;
  // (awaited before adding: the callback counts into bad meanwhile)
  const missing = await eachCorpus(args, async (name, mods) => {
    const t0 = performance.now();
    const results = await compareDumps(mods, objtoolFor(name), 2, (r) => {
      if (!r.identical) console.log(`  differs: ${r.path}: ${r.detail}`);
    });
    const ok = results.filter((r) => r.identical).length;
    bad += mods.length - ok;
    total += mods.length;
    same += ok;
    console.log(`${name}: --dump=orc identical to objtool ${objtoolFor(name)} for ${ok}/${mods.length} modules (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  });
  bad += missing;
  console.log(`CORPUS: ${same}/${total} modules identical`);
  return bad === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
