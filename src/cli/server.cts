// SPDX-License-Identifier: GPL-2.0-only
// The resident orctool: kbuild starts objtool once per object (every module with IBT, every
// translation unit without), and starting Node costs more than checking a small object. The
// first call of bin/orctool starts this server; calls hand their command line to it through a
// few lines of bash (bin/orctool; those that come while it starts wait for it, up to a second)
// and print what it answers. The server only accepts and dispatches: its runners, one child
// process per core (make -j runs objtool's calls side by side, and so must orctool's), each
// load the same bundle an in-process run loads (dist/orctool.cjs) and run one request at a
// time, in the client's working directory and with the client's values of the variables
// orctool reads (SERVED_ENV). A runner that dies takes its request's answer with it (that
// client runs in-process) and is replaced.
//
// Reach: it listens on 127.0.0.1 only and answers only requests that carry the secret of its
// port file, RUNTIME_DIR/server-<build id>, which only the owner can read (0600, in a 0700
// directory the owner owns; bin/orctool checks ownership before reading it). A server of
// another build is never asked: the build id is part of the file name. It exits after
// IDLE_MS without a request (ORCTOOL_SERVER_IDLE, seconds) and removes its files.
//
// Protocol (NUL-terminated fields from the client): "orctool-2", secret, cwd, the number of
// variables, NAME=value each, the number of arguments, each argument. The answer, once the run
// is over, is what the run wrote, stretch by stretch ("1"/"2" for stdout/stderr and a length on
// a line, then that many bytes; see encodeOutput()), then "X" + the exit status on a line. A
// client that sees no "X" runs in-process instead.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { V8_FLAGS, loadBundle } from './launch.cjs';

/** The variables orctool reads (objtool's and kbuild's); bin/orctool sends these and no others. */
export const SERVED_ENV = ['OBJTOOL_ARGS', 'OBJTOOL_VERBOSE', 'srctree', 'VERSION', 'PATCHLEVEL', 'SUBLEVEL', 'ORCTOOL_DEBUG'];

export const PROTOCOL = 'orctool-2';
export const BUILD_ID_FILE = join(__dirname, '..', 'orctool.buildid');

/** Where the port files live: the per-user runtime directory, else /tmp, as bin/orctool computes it. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_RUNTIME_DIR'] || env['TMPDIR'] || '/tmp';
  return join(base, `orctool-${process.getuid!()}`);
}

/** The directory, made 0700 if missing; refused unless it is ours, a real directory, and 0700. */
function ownDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o777) !== 0o700) {
    throw new Error(`${dir} is not a 0700 directory of this user`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parsed request, or undefined while incomplete. */
function parseRequest(buf: Buffer): { fields: string[]; complete: boolean } {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    const nul = buf.indexOf(0, at);
    if (nul < 0) break;
    fields.push(buf.subarray(at, nul).toString('latin1'));
    at = nul + 1;
  }
  if (fields.length < 4) return { fields, complete: false };
  const nEnv = Number(fields[3]);
  if (!Number.isInteger(nEnv) || nEnv < 0) return { fields, complete: true };
  if (fields.length < 5 + nEnv) return { fields, complete: false };
  const nArgs = Number(fields[4 + nEnv]);
  if (!Number.isInteger(nArgs) || nArgs < 0) return { fields, complete: true };
  return { fields, complete: fields.length >= 5 + nEnv + nArgs };
}

/**
 * The answer for what a run wrote: each stretch of one stream as a header line, "1" (stdout) or
 * "2" (stderr) and its length in bytes, then the bytes. The client reads a stretch with one
 * `read -N`: bash reads a line from a socket a byte at a time, which for kvm.ko's 238 warnings
 * took 30 ms of a 100 ms call. (NUL bytes are left out: a bash variable cannot hold one, and
 * no message has one.)
 */
export function encodeOutput(chunks: readonly [1 | 2, Buffer][], status: number): Buffer {
  const out: Buffer[] = [];
  const flush = (s: 1 | 2, parts: Buffer[]): void => {
    let b = Buffer.concat(parts);
    if (b.includes(0)) b = Buffer.from(b.filter((c) => c !== 0));
    if (b.length) out.push(Buffer.from(`${s}${b.length}\n`), b);
  };
  let stream: 1 | 2 | undefined;
  let parts: Buffer[] = [];
  for (const [s, b] of chunks) {
    if (s !== stream && stream) {
      flush(stream, parts);
      parts = [];
    }
    stream = s;
    parts.push(b);
  }
  if (stream) flush(stream, parts);
  out.push(Buffer.from(`X${status}\n`));
  return Buffer.concat(out);
}

/** A request as a runner gets it: the fields after the secret. */
interface Job {
  id: number;
  cwd: string;
  envs: string[];
  argv: string[];
}

/**
 * A runner's life: load the bundle, then run each job it is sent, alone in its process (a run
 * owns the process' working directory, environment and stdio), and send back the answer.
 */
function runner(): void {
  const bundle = loadBundle();
  const home = process.cwd();
  let queue: Promise<void> = Promise.resolve();
  const runJob = async (job: Job): Promise<void> => {
    const chunks: [1 | 2, Buffer][] = [];
    const saved = new Map(SERVED_ENV.map((k) => [k, process.env[k]]));
    const out = process.stdout.write;
    const err = process.stderr.write;
    let status: number | undefined;
    try {
      for (const k of SERVED_ENV) delete process.env[k];
      for (const kv of job.envs) {
        const eq = kv.indexOf('=');
        const k = kv.slice(0, eq);
        if (eq > 0 && SERVED_ENV.includes(k)) process.env[k] = kv.slice(eq + 1);
      }
      process.chdir(job.cwd);
      const capture = (s: 1 | 2) => ((chunk: string | Uint8Array, enc?: BufferEncoding | (() => void)) => {
        chunks.push([s, typeof chunk === 'string' ? Buffer.from(chunk, typeof enc === 'string' ? enc : 'utf8') : Buffer.from(chunk)]);
        return true;
      }) as typeof process.stdout.write;
      process.stdout.write = capture(1);
      process.stderr.write = capture(2);
      status = await bundle.main(job.argv);
    } catch {
      // (main() reports its own errors; this is the runner failing: no answer, the client runs in-process)
      status = undefined;
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      try {
        process.chdir(home);
      } catch {
        // (the directory went away: later runs chdir to theirs first anyway)
      }
    }
    process.send!({ id: job.id, answer: status === undefined ? null : encodeOutput(chunks, status) });
  };
  process.on('message', (job: Job) => {
    queue = queue.then(() => runJob(job));
  });
  // (the server gone, nobody is left to answer)
  process.on('disconnect', () => process.exit(0));
}

/** How long a job waits for the first runner before a cold later one may take it (see dispatch()). */
const SPILL_MS = 30;
/**
 * Runs after which a runner is warm (V8 has compiled what a check runs most). Until then a
 * runner with nothing to do checks, without writing (--dry-run), copies of the build's recent
 * small calls: a later runner gets warm before it takes calls, and the first one warms on the
 * first calls for the bigger ones after them (kvm.ko after a dozen modules: ~25% less time).
 */
const WARM_JOBS = 40;
/** Only inputs this small are checked again to warm a runner (not vmlinux.o, not big modules). */
const WARM_MAX_BYTES = 1 << 20;
/** How many recent calls warming draws on. */
const WARM_RECENT = 8;

/**
 * ORCTOOL_SERVER_TRACE=file (in the environment of the call that starts the server): a line for
 * each connection, request, answer and runner's run (which runner, waited and ran in ms), with
 * the time in ms since the epoch, to see where a served call's time goes.
 */
const TRACE = process.env['ORCTOOL_SERVER_TRACE'];
function trace(line: string): void {
  if (!TRACE) return;
  try {
    writeFileSync(TRACE, `${(performance.timeOrigin + performance.now()).toFixed(1)} ${line}\n`, { flag: 'a' });
  } catch {
    // (a trace that cannot be written is no reason to stop serving)
  }
}

/** A runner's job under way: its answer's taker, and for the trace its input, when it was asked for and when sent. */
interface Busy {
  id: number;
  done: (answer: Buffer | undefined) => void;
  what: string;
  queued: number;
  sent: number;
}

/** Runner processes, each given one job at a time; jobs wait for the first free one. */
class RunnerPool {
  private readonly runners: { child: ChildProcess; answered?: boolean; runs: number; busy?: Busy }[] = [];
  private readonly waiting: { fields: string[]; done: (answer: Buffer | undefined) => void; since: number }[] = [];
  private nextId = 1;

  /** `warmDir`: where copies of calls' inputs to warm runners with are kept (this user's). */
  constructor(size: number, private readonly warmDir?: string) {
    for (let k = 0; k < size; k++) this.spawn();
  }

  private spawn(): void {
    const child = fork(__filename, ['--runner'], {
      serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [...process.execArgv, ...V8_FLAGS],
    });
    const r: (typeof this.runners)[number] = { child, runs: 0 };
    this.runners.push(r);
    child.on('message', (m: { id: number; answer: Uint8Array | null }) => {
      const b = r.busy;
      if (!b || b.id !== m.id) return;
      r.busy = undefined;
      trace(`${this.runners.indexOf(r)} ${b.what} waited ${(b.sent - b.queued).toFixed(1)} ran ${(performance.now() - b.sent).toFixed(1)} runs ${r.runs}`);
      r.answered = true;
      r.runs++;
      this.deaths = 0;
      b.done(m.answer ? Buffer.from(m.answer) : undefined);
      this.dispatch();
    });
    child.on('exit', () => {
      const i = this.runners.indexOf(r);
      if (i >= 0) this.runners.splice(i, 1);
      r.busy?.done(undefined);
      r.busy = undefined;
      // (a runner that cannot even start, say the bundle is gone, is not started again and again)
      if (!r.answered && ++this.deaths >= 3) this.stopped = true;
      if (!this.stopped) this.spawn();
      else if (this.runners.length === 0) for (const w of this.waiting.splice(0)) w.done(undefined);
      this.dispatch();
    });
  }

  private stopped = false;
  /** Runners that died without answering anything, one after another. */
  private deaths = 0;

  /** The answer, or undefined when there is none to be had (the client runs in-process). */
  run(fields: string[]): Promise<Buffer | undefined> {
    if (this.stopped && this.runners.length === 0) return Promise.resolve(undefined);
    return new Promise((done) => {
      this.waiting.push({ fields, done, since: performance.now() });
      this.dispatch();
    });
  }

  /**
   * The waiting jobs to free runners, the first runner first. A runner's first calls are slow
   * (V8 has not compiled its code yet) and the first runner gets the most calls, so a later one
   * takes a job only once it is warm (see warm()) or the job has waited SPILL_MS: a kernel
   * build's many small calls (a translation unit takes a few milliseconds) do not go to a cold
   * runner, its big ones (vmlinux.o, large modules) spread over the cores.
   */
  private dispatch(): void {
    const now = performance.now();
    this.runners.forEach((r, k) => {
      if (r.busy || !r.child.connected) return;
      const w = this.waiting[0];
      if (!w || (k > 0 && r.runs < WARM_JOBS && now - w.since < SPILL_MS)) return;
      this.waiting.shift();
      const nEnv = Number(w.fields[3]);
      const job: Job = { id: this.nextId++, cwd: w.fields[2]!, envs: w.fields.slice(4, 4 + nEnv), argv: w.fields.slice(5 + nEnv) };
      r.busy = { id: job.id, done: w.done, what: job.argv[job.argv.length - 1]!, queued: w.since, sent: now };
      r.child.send(job);
      this.remember(job);
    });
    this.warm();
    // (a job left waiting is looked at again when it may spill)
    if (this.waiting.length && !this.spill) {
      this.spill = setTimeout(() => {
        this.spill = undefined;
        this.dispatch();
      }, Math.max(1, SPILL_MS - (now - this.waiting[0]!.since)));
    }
  }

  private spill: NodeJS.Timeout | undefined;

  /** Recent small calls, to warm runners with (see WARM_JOBS): each on a copy of its input as it came. */
  private readonly recent: Job[] = [];
  private warmed = 0;
  private copies = 0;

  private remember(job: Job): void {
    if (!this.warmDir || this.runners.every((r) => r.runs >= WARM_JOBS) || !job.argv[0]?.startsWith('-')) return;
    const files = job.argv.filter((a) => !a.startsWith('-'));
    if (files.length !== 1) return;
    try {
      const from = resolve(job.cwd, files[0]!);
      if (statSync(from).size > WARM_MAX_BYTES) return;
      // (the call rewrites its input: a copy of it still has everything to check)
      const to = join(this.warmDir, `warm-${process.pid}-${this.copies++ % WARM_RECENT}.o`);
      // (renamed into place: a warming run may still be reading the copy this one replaces)
      copyFileSync(from, `${to}.tmp`);
      renameSync(`${to}.tmp`, to);
      this.recent.push({ ...job, argv: job.argv.map((a) => (a === files[0] ? to : a)) });
      if (this.recent.length > WARM_RECENT) this.recent.shift();
    } catch {
      // (no copy, no warming on it)
    }
  }

  /** Idle runners that are not warm yet check, without writing, copies of recent calls. */
  private warm(): void {
    if (this.waiting.length || !this.recent.length) return;
    for (const r of this.runners) {
      if (r.busy || !r.child.connected || r.runs >= WARM_JOBS) continue;
      const job = this.recent[this.warmed++ % this.recent.length]!;
      const copy: Job = { ...job, id: this.nextId++, argv: ['--dry-run', ...job.argv] };
      r.busy = { id: copy.id, done: () => {}, what: `warm ${job.argv[job.argv.length - 1]!}`, queued: performance.now(), sent: performance.now() };
      r.child.send(copy);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.spill) clearTimeout(this.spill);
    for (const r of this.runners) r.child.kill();
    if (this.warmDir) for (let k = 0; k < WARM_RECENT; k++) rmSync(join(this.warmDir, `warm-${process.pid}-${k}.o`), { force: true });
  }
}

/** The warm-up copies (RunnerPool.remember()) of servers that are gone without removing them (killed). */
function removeStaleWarmCopies(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const m = /^warm-(\d+)-\d+\.o(\.tmp)?$/.exec(name);
      if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // (left for the next server)
  }
}

function serve(): void {
  const buildId = readFileSync(BUILD_ID_FILE, 'utf8').trim();
  const dir = runtimeDir();
  ownDir(dir);
  const portFile = join(dir, `server-${buildId}`);
  const pidFile = `${portFile}.pid`;
  // One server per build and user: the pid file is taken exclusively; a dead owner's is taken over.
  for (let tries = 0; ; tries++) {
    try {
      const fd = openSync(pidFile, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 2) return;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (alive(pid)) return;
      rmSync(pidFile, { force: true });
    }
  }
  removeStaleWarmCopies(dir);
  const secret = randomBytes(24).toString('hex');
  // The runners, started now so that the first requests find them loaded.
  const pool = new RunnerPool(availableParallelism(), dir);
  const idleMs = Math.max(1, Number(process.env['ORCTOOL_SERVER_IDLE'] || 120)) * 1000;
  let idle: NodeJS.Timeout | undefined;
  const cleanup = (): void => {
    try {
      if (readFileSync(portFile, 'utf8').includes(secret)) rmSync(portFile, { force: true });
    } catch {
      // (gone already)
    }
    rmSync(pidFile, { force: true });
  };
  const server = createServer({ allowHalfOpen: true });
  const stop = (): void => {
    cleanup();
    server.close();
    pool.stop();
    process.exit(0);
  };
  let active = 0;
  const armIdle = (): void => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(stop, idleMs);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.on('connection', (sock) => {
    if (active === 0) armIdle();
    trace('connection');
    let buf = Buffer.alloc(0);
    let taken = false;
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      if (taken) return;
      buf = Buffer.concat([buf, d]);
      if (buf.length > 1 << 20) return void sock.destroy();
      const { fields, complete } = parseRequest(buf);
      if (fields.length >= 2) {
        const a = Buffer.from(fields[1]!);
        const b = Buffer.from(secret);
        if (fields[0] !== PROTOCOL || a.length !== b.length || !timingSafeEqual(a, b)) return void sock.destroy();
      }
      if (!complete) return;
      taken = true;
      trace('request');
      // (no idle stop while a run is going on: a runner may take long over vmlinux.o)
      if (idle) clearTimeout(idle);
      active++;
      pool.run(fields).then((answer) => {
        trace('answer');
        if (answer) sock.end(answer);
        else sock.destroy();
      }).finally(() => {
        if (--active === 0) armIdle();
      });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    if (!addr || typeof addr === 'string') return stop();
    const tmp = `${portFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${addr.port} ${secret}\n`, { mode: 0o600 });
    renameSync(tmp, portFile);
    armIdle();
  });
}

if (require.main === module) {
  try {
    if (process.argv[2] === '--runner') runner();
    else serve();
  } catch {
    process.exit(1);
  }
}
