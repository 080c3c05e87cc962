// SPDX-License-Identifier: GPL-2.0-only
// A kernel build's objtool steps, replayed as kbuild made them (issue 15, target 2): every
// call of scripts/build-kernel.sh's log, in the log's order, one process per call with the
// build's own command line, two at a time (make -j2), on copies of the objects objtool was
// handed (the build keeps them). Each tool's total wall time from the first start to the last
// exit, the two alternately over several rounds (medians: one replay varies by 20% here); then
// the outputs, messages and exit statuses of the two compared call by call.
// orctool runs as a build would run it: bin/orctool, its resident server started by the first
// call (no server of this build is left running beforehand), or with ORCTOOL_SERVER=0.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { firstElfDiff } from '../testing/elf-compare.js';
import { median } from './compare.js';
import { repoRoot } from '../testing/toolchain.js';

export interface Call {
  flags: string[];
  /** The object's path in the build tree (the last argument). */
  file: string;
  /** The kept input. */
  input: string;
}

/** The calls of a build variant's log whose input the build kept, in order (a repeated file: its last command). */
export function buildCalls(variantDir: string): Call[] {
  const log = join(variantDir, 'objtool-commands.log');
  if (!existsSync(log)) return [];
  const byFile = new Map<string, string[]>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const w = line.split(' ').filter(Boolean);
    if (w[0] !== 'objtool' || w.length < 3) continue;
    const file = w.at(-1)!;
    byFile.delete(file);
    byFile.set(file, w.slice(1, -1));
  }
  const obj = join(variantDir, 'objects');
  const calls: Call[] = [];
  for (const [file, flags] of byFile) {
    const input = [join(obj, 'vmlinux', file), join(obj, 'modules', file), join(obj, 'tu', 'files', file)].find(existsSync);
    if (input) calls.push({ flags, file, input });
  }
  return calls;
}

interface Outcome {
  status: number;
  stderr: string;
}

/** Run every call with `jobs` at a time in `cwd`; the wall time and each call's outcome. */
async function runAll(cmd: string, calls: Call[], cwd: string, env: NodeJS.ProcessEnv, jobs: number): Promise<{ secs: number; outcomes: Outcome[] }> {
  const outcomes: Outcome[] = new Array(calls.length);
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < calls.length) {
      const k = next++;
      const c = calls[k]!;
      outcomes[k] = await new Promise<Outcome>((resolve) => {
        const p = spawn(cmd, [...c.flags, c.file], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
        p.on('close', (status) => resolve({ status: status ?? -1, stderr }));
      });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return { secs: (performance.now() - t0) / 1000, outcomes };
}

/** Stop the resident servers of this user in `runtime` (so that the replay starts one itself). */
function stopServers(runtime: string): void {
  if (!existsSync(runtime)) return;
  for (const f of readdirSync(runtime)) {
    if (!f.endsWith('.pid')) continue;
    try {
      process.kill(Number(readFileSync(join(runtime, f), 'utf8')), 'SIGTERM');
    } catch {
      // (gone)
    }
  }
}

export interface ReplayResult {
  calls: number;
  /** Rounds run (objtool and orctool served alternately each round; in-process in the first only). */
  rounds: number;
  /** Median over the rounds. */
  objtoolSecs: number;
  /** By orctool mode: median total seconds, and calls whose result differs from objtool's (in any round). */
  orctool: Record<string, { secs: number; differ: string[] }>;
}

export async function replay(variantDir: string, release: string, modes: ('served' | 'in-process')[], jobs = 2, log: (s: string) => void = () => {},
  rounds = 1): Promise<ReplayResult | undefined> {
  const calls = buildCalls(variantDir);
  const objtool = join(variantDir, 'build', 'tools', 'objtool', 'objtool');
  if (!calls.length || !existsSync(objtool)) return undefined;
  const [version, patchlevel] = release.split('.');
  const scratch = join(tmpdir(), `orctool-replay-${process.pid}`);
  // The build's own variables (srctree, VERSION, PATCHLEVEL), as kbuild exports them to objtool.
  const env = { ...process.env, srctree: join(dirname(variantDir), 'src', `linux-source-${release}`), VERSION: version!, PATCHLEVEL: patchlevel! };
  const copies = (tool: string): string => {
    const dir = join(scratch, tool);
    rmSync(dir, { recursive: true, force: true });
    for (const c of calls) {
      mkdirSync(dirname(join(dir, c.file)), { recursive: true });
      copyFileSync(c.input, join(dir, c.file));
    }
    return dir;
  };
  const theirSecs: number[] = [];
  const ours = new Map<string, { secs: number[]; differ: Set<string> }>();
  try {
    for (let round = 0; round < rounds; round++) {
      const theirsDir = copies('objtool');
      log(`replay: ${calls.length} calls, round ${round + 1}/${rounds}, objtool ...`);
      const theirs = await runAll(objtool, calls, theirsDir, env, jobs);
      theirSecs.push(theirs.secs);
      log(`replay: objtool ${theirs.secs.toFixed(2)} s`);
      const runtime = join(process.env['XDG_RUNTIME_DIR'] || process.env['TMPDIR'] || '/tmp', `orctool-${process.getuid!()}`);
      // (in-process, ten times objtool's time, is shown for scale: once is enough)
      for (const mode of round === 0 ? modes : modes.filter((m) => m === 'served')) {
        const oursDir = copies(`orctool-${mode}`);
        if (mode === 'served') stopServers(runtime);
        const run = await runAll(join(repoRoot, 'bin', 'orctool'), calls, oursDir, { ...env, ORCTOOL_SERVER: mode === 'served' ? '1' : '0' }, jobs);
        let o = ours.get(mode);
        if (!o) ours.set(mode, (o = { secs: [], differ: new Set() }));
        o.secs.push(run.secs);
        log(`replay: orctool (${mode}) ${run.secs.toFixed(2)} s`);
        calls.forEach((c, k) => {
          const a = run.outcomes[k]!;
          const b = theirs.outcomes[k]!;
          const norm = (s: string) => s.split('\n').filter((l) => /(warning|error): objtool/.test(l)).sort().join('\n');
          const elf = firstElfDiff(join(oursDir, c.file), join(theirsDir, c.file));
          if (a.status !== b.status || norm(a.stderr) !== norm(b.stderr) || elf) o!.differ.add(`${c.file}: ${a.status !== b.status ? `status ${a.status} vs ${b.status}` : elf ?? 'messages'}`);
        });
      }
    }
    const orctool: ReplayResult['orctool'] = {};
    for (const [mode, o] of ours) orctool[mode] = { secs: median(o.secs), differ: [...o.differ] };
    return { calls: calls.length, rounds, objtoolSecs: median(theirSecs), orctool };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
