// SPDX-License-Identifier: GPL-2.0-only
// orctool against Debian's objtool on one input (a file or a batch of files): both run
// alternately on fresh copies, several rounds; medians of wall time and peak RSS, and whether
// the two wrote the same ELF content (every section's header and bytes; src/testing/elf-compare.ts).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../testing/toolchain.js';
import { type ObjtoolVersion, objtoolPath } from '../testing/corpus.js';
import { firstElfDiff } from '../testing/elf-compare.js';

export interface BenchCase {
  /** Short name for --only=. */
  name: string;
  /** What the table calls it. */
  label: string;
  files: string[];
  flags: string[];
  /** orctool's own options on top of objtool's flags (--jobs=1). */
  orctoolFlags?: string[];
  /**
   * 'served': orctool as a build runs it, through its resident server, warmed first by untimed
   * runs (its RSS is then the client's: the server's own is not in it); default: in-process.
   */
  orctoolMode?: 'served' | 'in-process';
  /**
   * Served: the objects the server checks before this case, as a build's earlier calls (stripped
   * like the case's own); default: three runs of the case's first file.
   */
  warmup?: string[];
  rounds: number;
  /** Remove the ORC the files already have (Debian's modules ship with it). */
  strip: boolean;
  version: ObjtoolVersion;
}

export interface ToolFigures {
  secs: number;
  rssMiB: number;
  /** Runs that exited with a status other than 0 or 1 (1 is objtool's and orctool's warning status). */
  failures: string[];
}

export interface CaseResult {
  bench: BenchCase;
  orctool: ToolFigures;
  objtool: ToolFigures;
  /** 'yes' (every output the same ELF content as objtool's), or 'no (k of n differ; first: ...)'. */
  sameOutput: string;
}

/** Seconds as a person reads them: milliseconds below one second (start-up is measured there). */
function seconds(s: number): string {
  return s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

const haveGnuTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;

interface Timed { secs: number; rssMiB: number; status: number | null; tail: string }

/** One run: wall seconds, peak RSS in MiB (GNU time's %M, written to its own file), exit status. */
export function timed(cmd: string, args: string[], scratch: string, env: NodeJS.ProcessEnv = process.env): Timed {
  const rssFile = join(scratch, 'time.out');
  const argv = haveGnuTime ? ['-f', '%M', '-o', rssFile, cmd, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(haveGnuTime ? '/usr/bin/time' : cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const secs = (performance.now() - t0) / 1000;
  const kb = haveGnuTime ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) : NaN;
  const tail = (r.stderr?.toString('latin1') ?? '').trimEnd().split('\n').at(-1) ?? '';
  return { secs, rssMiB: kb / 1024, status: r.status, tail };
}

function stripOrc(src: string, dst: string): void {
  const r = spawnSync('objcopy', ['--remove-section=.orc_unwind', '--remove-section=.orc_unwind_ip', '--remove-section=.rela.orc_unwind_ip', src, dst]);
  if (r.status !== 0) throw new Error(`objcopy ${src}: ${r.stderr}`);
}

/** Fresh copies of the pristine inputs in `dir`, under their own names (they appear in warnings). */
function freshCopies(pristine: string[], dir: string): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return pristine.map((p, i) => {
    const q = join(dir, `${i}-${basename(p)}`);
    copyFileSync(p, q);
    return q;
  });
}

/** Whether the two tools' outputs are the same ELF content (src/testing/elf-compare.ts), file by file. */
function compareOutputs(ours: string[], theirs: string[]): string {
  const differ: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    const d = firstElfDiff(ours[i]!, theirs[i]!);
    if (d !== undefined) differ.push(`${basename(ours[i]!)}: ${d}`);
  }
  return differ.length === 0 ? 'yes' : `no (${differ.length} of ${ours.length} differ; first: ${differ[0]})`;
}

function failure(t: Timed, what: string): string[] {
  return t.status === 0 || t.status === 1 ? [] : [`${what}: status ${t.status}: ${t.tail}`];
}

/**
 * Run one case: orctool is given every file at once (a batch uses its workers), objtool one
 * file per run, in sequence, as the kernel build runs it; the one who goes first alternates.
 * The outputs of the last round are compared. Files live in a temporary folder removed at the end.
 */
export function runCase(bench: BenchCase, log: (s: string) => void): CaseResult | undefined {
  const objtool = objtoolPath(bench.version);
  if (!objtool) {
    log(`${bench.label}: objtool ${bench.version} not fetched (scripts/corpus.sh), skipped`);
    return undefined;
  }
  const orctool = join(repoRoot, 'bin', 'orctool');
  const objtoolEnv = { ...process.env, SRCARCH: 'x86' };
  const dir = mkdtempSync(join(tmpdir(), 'orctool-bench-'));
  const ours = { secs: [] as number[], rss: [] as number[], failures: [] as string[] };
  const theirs = { secs: [] as number[], rss: [] as number[], failures: [] as string[] };
  let sameOutput = 'not compared';
  try {
    let pristine = bench.files;
    if (bench.strip) {
      mkdirSync(join(dir, 'in'));
      pristine = bench.files.map((f, i) => {
        const q = join(dir, 'in', `${i}-${basename(f)}`);
        stripOrc(f, q);
        return q;
      });
    }
    const served = bench.orctoolMode === 'served';
    const ourEnv = { ...process.env, ORCTOOL_SERVER: served ? '1' : '0' };
    if (served) {
      // The first call starts the server (and is answered by it once it is up, else runs
      // in-process); then answered calls warm it as the objects before this one in a build
      // would (V8 compiles what runs often).
      let warm = pristine.slice(0, 1);
      if (bench.warmup) {
        mkdirSync(join(dir, 'warm-in'));
        warm = bench.warmup.map((f, i) => {
          const q = join(dir, 'warm-in', `${i}-${basename(f)}`);
          if (bench.strip) stripOrc(f, q);
          else copyFileSync(f, q);
          return q;
        });
      }
      const want = bench.warmup ? warm.length : 3;
      let answered = 0;
      for (let k = 0; k < 50 + want && answered < want; k++) {
        const files = freshCopies([warm[answered % warm.length]!], join(dir, 'warmup'));
        const status = timed(orctool, [...bench.flags, ...files], dir, { ...ourEnv, ORCTOOL_SERVER: k ? 'require' : '1' }).status;
        if ((status === 0 || status === 1) && k) answered++;
        else spawnSync('sleep', ['0.2']);
      }
    }
    const runOurs = (): string[] => {
      const files = freshCopies(pristine, join(dir, 'orctool'));
      const t = timed(orctool, [...bench.flags, ...(bench.orctoolFlags ?? []), ...files], dir, ourEnv);
      ours.secs.push(t.secs);
      ours.rss.push(t.rssMiB);
      ours.failures.push(...failure(t, 'orctool'));
      return files;
    };
    const runTheirs = (): string[] => {
      const files = freshCopies(pristine, join(dir, 'objtool'));
      let secs = 0;
      let rss = 0;
      for (const f of files) {
        const t = timed(objtool, [...bench.flags, f], dir, objtoolEnv);
        secs += t.secs;
        rss = Math.max(rss, t.rssMiB);
        theirs.failures.push(...failure(t, `objtool ${basename(f)}`));
      }
      theirs.secs.push(secs);
      theirs.rss.push(rss);
      return files;
    };
    for (let r = 0; r < bench.rounds; r++) {
      const last = r === bench.rounds - 1;
      let a: string[];
      let b: string[];
      if (r % 2 === 0) {
        a = runOurs();
        b = runTheirs();
      } else {
        b = runTheirs();
        a = runOurs();
      }
      log(`${bench.label}: round ${r + 1}/${bench.rounds}: orctool ${seconds(ours.secs.at(-1)!)}, objtool ${seconds(theirs.secs.at(-1)!)}`);
      if (last) sameOutput = compareOutputs(a, b);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    bench,
    orctool: { secs: median(ours.secs), rssMiB: median(ours.rss), failures: ours.failures },
    objtool: { secs: median(theirs.secs), rssMiB: median(theirs.rss), failures: theirs.failures },
    sameOutput,
  };
}

/** The results as a markdown table. */
export function markdownTable(results: CaseResult[]): string {
  const rows = [
    '| input | orctool time | orctool RSS | objtool time | objtool RSS | time ratio | RSS ratio | same ELF content |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const failed = r.orctool.failures.length + r.objtool.failures.length ? ' (runs failed, see above)' : '';
    // (served: the client's RSS; the server's own is not measured per call)
    const client = r.bench.orctoolMode === 'served';
    rows.push(`| ${r.bench.label} (${r.bench.rounds} rounds) | ${seconds(r.orctool.secs)} | ${r.orctool.rssMiB.toFixed(0)} MiB${client ? ' (client)' : ''} | ` +
      `${seconds(r.objtool.secs)} | ${r.objtool.rssMiB.toFixed(0)} MiB | ${(r.orctool.secs / r.objtool.secs).toFixed(2)}x | ` +
      `${client ? 'n/a' : `${(r.orctool.rssMiB / r.objtool.rssMiB).toFixed(2)}x`} | ${r.sameOutput}${failed} |`);
  }
  return rows.join('\n');
}
