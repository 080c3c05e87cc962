// SPDX-License-Identifier: GPL-2.0-only
// Triage of the fuzzers' findings (scripts/fuzz.sh TARGET --triage):
//   node --enable-source-maps dist/fuzz/replay.js TARGET FILE...
// runs each input through the target in a process of its own (plain Node, no instrumentation),
// with a time limit, and prints what happened: ok, a hang, or the exception with its first frame
// in orctool's sources; then the findings grouped by that signature (one group per distinct bug,
// as far as a message and a frame tell).
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../testing/toolchain.js';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './seeds.js';

/** Seconds an input may run before it counts as a hang (the fuzzers' --timeout is 10 s). */
const LIMIT_S = Number(process.env["ORCTOOL_FUZZ_REPLAY_LIMIT"] ?? 30);

export interface Outcome {
  kind: 'ok' | 'hang' | 'exception' | 'died';
  /** `Name: message` of the exception. */
  error?: string;
  /** The first stack frame in orctool's code (not the harness), as file:line. */
  frame?: string;
  /** Further frames, for the report. */
  stack?: string[];
}

/** The frames of a stack in orctool's own code (src/ through source maps, else dist/), the harness left out. */
export function orctoolFrames(stack: string): string[] {
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /\(?(file:\/\/)?(\/[^()\s]*\/(?:src|dist)\/[^()\s]+:\d+):\d+\)?$/.exec(line.trim());
    if (!m || /\/(src|dist)\/fuzz\//.test(m[2]!)) continue;
    const fn = /^at (\S+) \(/.exec(line.trim())?.[1];
    out.push(`${m[2]!.replace(/^.*?\/((?:src|dist)\/)/, '$1')}${fn ? ` (${fn})` : ''}`);
  }
  return out;
}

/** One input, in this process: the target's fuzz() on its bytes. */
async function runOne(target: string, file: string): Promise<Outcome> {
  const mod = (await import(`./${target}.js`)) as { fuzz: (data: Buffer) => void };
  try {
    mod.fuzz(readFileSync(file));
    return { kind: 'ok' };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const frames = orctoolFrames(err.stack ?? '');
    return { kind: 'exception', error: `${err.name}: ${err.message}`, frame: frames[0], stack: frames.slice(0, 8) };
  }
}

/** One input in a child process, with the time limit. */
export function replay(target: string, file: string): Outcome {
  const self = fileURLToPath(import.meta.url);
  // (the child's scratch directory is made here: a child killed for a hang cannot remove its own)
  const scratch = makeTempDir('orctool-replay-');
  let r: SpawnSyncReturns<string>;
  try {
    r = spawnSync(process.execPath, ['--enable-source-maps', '--max-old-space-size=2048', self, '--one', target, file], {
      encoding: 'utf8', timeout: LIMIT_S * 1000, maxBuffer: 1 << 26, env: { ...process.env, ORCTOOL_FUZZ_SCRATCH: scratch },
    });
  } finally {
    removeDir(scratch);
  }
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (line) return JSON.parse(line) as Outcome;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    const stack = hangProfile(target, file);
    return { kind: 'hang', error: `no answer in ${LIMIT_S} s`, frame: stack[0], stack };
  }
  const why = /heap out of memory|Invalid string length|Maximum call stack/.exec(r.stderr)?.[0];
  return { kind: 'died', error: `exit ${r.status ?? r.signal}${why ? `: ${why}` : ''}` };
}

/**
 * Where a hang spends its time: the input run again under V8's sampling profiler (--prof) for
 * PROFILE_S seconds, and the heaviest bottom-up chain of its profile, mapped to src/ by the
 * source maps (a busy thread cannot be asked for its stack).
 */
const PROFILE_S = 8;

function hangProfile(target: string, file: string): string[] {
  const dir = makeTempDir('orctool-hang-');
  try {
    const log = join(dir, 'v8.log');
    spawnSync(process.execPath, ['--prof', `--logfile=${log}`, '--no-logfile-per-isolate', fileURLToPath(import.meta.url), '--one', target, file], {
      timeout: PROFILE_S * 1000, stdio: 'ignore', env: { ...process.env, ORCTOOL_FUZZ_SCRATCH: join(dir, 'scratch') },
    });
    const text = spawnSync(process.execPath, ['--prof-process', log], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout ?? '';
    const bottomUp = text.slice(text.indexOf('[Bottom up (heavy) profile]'));
    const out: string[] = [];
    for (const l of bottomUp.split('\n')) {
      const m = /JS: [*~^]?(\S*) (file:\/\/\S+\/dist\/\S+\.js):(\d+):(\d+)/.exec(l);
      if (!m) {
        if (out.length && l.trim() === '') break;
        continue;
      }
      const at = `${toSource(m[2]!, Number(m[3]), Number(m[4]))}${m[1] ? ` (${m[1]})` : ''}`;
      if (!/\/fuzz\//.test(at) && !out.includes(at)) out.push(at);
      if (out.length >= 8) break;
    }
    return out;
  } finally {
    removeDir(dir);
  }
}

/** dist/x.js:line:col as src/x.ts:line through the file's source map (dist/x.js:line without one). */
function toSource(url: string, line: number, col: number): string {
  const path = fileURLToPath(url);
  const rel = path.replace(/^.*?\/dist\//, 'dist/');
  try {
    const map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as SourceMapPayload);
    const e = map.findEntry(line - 1, col - 1) as { originalSource?: string; originalLine?: number };
    if (e.originalSource && e.originalLine !== undefined) return `${e.originalSource.replace(/^.*?\/?src\//, 'src/').replace(/^(\.\.\/)+/, 'src/')}:${e.originalLine + 1}`;
  } catch {
    // (no source map)
  }
  return `${rel}:${line}`;
}

/** What groups findings: the error with its numbers blanked, and the frame. */
export function signature(o: Outcome): string {
  return `${o.kind} ${(o.error ?? '').replace(/0x[0-9a-f]+|\d+/gi, 'N')} @ ${o.frame ?? '?'}`;
}

async function main(args: string[]): Promise<number> {
  if (args[0] === '--one') {
    process.stdout.write(JSON.stringify(await runOne(args[1]!, args[2]!)) + '\n');
    return 0;
  }
  const [target, ...files] = args;
  if (!target || !(TARGETS as readonly string[]).includes(target) || files.length === 0) {
    console.error(`usage: node --enable-source-maps dist/fuzz/replay.js TARGET FILE... (TARGET: ${TARGETS.join(', ')})`);
    return 2;
  }
  const groups = new Map<string, { outcome: Outcome; files: string[] }>();
  for (const f of files) {
    const o = replay(target, f);
    console.log(`${basename(f)}: ${o.kind}${o.error ? ` ${o.error}` : ''}${o.frame ? ` at ${o.frame}` : ''}`);
    const g = groups.get(signature(o)) ?? { outcome: o, files: [] };
    g.files.push(f);
    groups.set(signature(o), g);
  }
  console.log(`\n${target}: ${files.length} inputs, ${groups.size} distinct outcomes`);
  for (const { outcome: o, files: fs } of groups.values()) {
    console.log(`- ${o.kind}${o.error ? `: ${o.error}` : ''} (${fs.length} inputs, e.g. ${basename(fs[0]!)})`);
    for (const s of o.stack ?? []) console.log(`    at ${s}`);
  }
  return [...groups.values()].some((g) => g.outcome.kind !== 'ok') ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
