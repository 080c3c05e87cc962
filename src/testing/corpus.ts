// SPDX-License-Identifier: GPL-2.0-only
// Test-only: find the corpus of real kernel modules and the oracle (Debian's objtool)
// that scripts/corpus.sh fetches into a cache outside the repo. orctool itself never
// runs objtool; only tests do, to compare its output with ours.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type CorpusName = '6.12-cloud' | '6.12-generic' | '6.1-generic' | '7.3-cloud' | '7.3-generic' | '7.2-cloud';
export type ObjtoolVersion = '6.12' | '6.1' | '7.3';

export interface ObjtoolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The cache root; must match scripts/corpus.sh (ORCTOOL_CORPUS, else ~/.cache/orctool-corpus). */
export function corpusDir(): string {
  const env = process.env['ORCTOOL_CORPUS'];
  return resolve(env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'orctool-corpus'));
}

/** True once the script has finished this corpus (it writes .stamp last). */
export function corpusAvailable(name: CorpusName): boolean {
  const dir = join(corpusDir(), name);
  return existsSync(join(dir, '.stamp')) && existsSync(join(dir, 'list.txt'));
}

/** Absolute paths of every .ko in the corpus, sorted; empty if it is not fetched. */
export function corpusModules(name: CorpusName): string[] {
  if (!corpusAvailable(name)) return [];
  return readFileSync(join(corpusDir(), name, 'list.txt'), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

/** The corpora the whole-corpus scripts run by default (7.2-cloud is fetched only on request). */
export const ALL_CORPORA: readonly CorpusName[] = ['7.3-cloud', '7.3-generic', '6.12-cloud', '6.12-generic', '6.1-generic'];

/**
 * The whole-corpus scripts' loop: each corpus named on the command line (all when none) that is
 * fetched, with its modules (a spread sample of `limit` when given); a missing one is reported.
 * Returns how many were missing.
 */
export async function eachCorpus(
  args: readonly string[], run: (name: CorpusName, modules: string[]) => void | Promise<void>, limit?: number,
): Promise<number> {
  let missing = 0;
  for (const name of (args.length ? args : ALL_CORPORA) as CorpusName[]) {
    if (!corpusAvailable(name)) {
      console.log(`${name}: not fetched (run scripts/corpus.sh ${name})`);
      missing++;
      continue;
    }
    await run(name, limit ? sampleModules(name, limit) : corpusModules(name));
  }
  return missing;
}

/** The oracle binary, or undefined if it is not fetched (tests should then skip). */
export function objtoolPath(version: ObjtoolVersion): string | undefined {
  const dir = join(corpusDir(), `objtool-${version}`);
  const bin = join(dir, 'objtool');
  return existsSync(join(dir, '.stamp')) && existsSync(bin) ? bin : undefined;
}

/**
 * `count` modules spread evenly over the corpus sorted by path (by code unit, like the
 * script's LC_ALL=C sort), so every machine with the same list tests the same ones and
 * the sample crosses all subsystems rather than clustering in arch/ or drivers/a*.
 */
export function sampleModules(name: CorpusName, count: number): string[] {
  const all = corpusModules(name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (count >= all.length) return all;
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(all[Math.floor((i * all.length) / count)]!);
  return out;
}

/** Run the oracle. SRCARCH=x86 is what Debian's multi-arch objtool wrapper wants. */
export function runObjtool(
  version: ObjtoolVersion,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): ObjtoolResult {
  const bin = objtoolPath(version);
  if (bin === undefined) throw new Error(`objtool ${version} not fetched: run scripts/corpus.sh`);
  const r = spawnSync(bin, [...args], {
    cwd: opts.cwd,
    env: { ...process.env, SRCARCH: 'x86' },
    encoding: 'utf8',
    maxBuffer: 1 << 30, // --dump=orc of a big module runs to megabytes
    timeout: opts.timeoutMs,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
