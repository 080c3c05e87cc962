// SPDX-License-Identifier: GPL-2.0-only
// A job on a worker thread that the main thread, whose analysis is synchronous, waits for: the
// worker reports through a flag in shared memory, and its result is taken off the port directly
// (receiveMessageOnPort) rather than through the event loop. Whatever fails (no worker to be had,
// a worker that never starts, dies or gives up) comes out as no result: the caller then does the
// work itself, so a job only ever makes a run faster.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Transferable, Worker } from 'node:worker_threads';

// Loaded with the first job, not with this module: node:worker_threads costs ~5 ms of every
// start-up, and small objects never need it.
let threadsModule: typeof import('node:worker_threads') | undefined;
export function threads(): typeof import('node:worker_threads') {
  threadsModule ??= createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  return threadsModule;
}

/** The flag's values (Int32 0 of the job's shared state), set by the worker. */
export const enum JobState {
  PENDING = 0,
  STARTED = 1,
  DONE = 2,
  FAILED = 3,
}

/** What every job's worker gets besides its own data. */
export interface JobChannel {
  port: MessagePort;
  state: SharedArrayBuffer;
}

/** A worker that has not even started by then is given up on. */
const START_TIMEOUT_MS = 2000;
/** Nor is one waited for longer than this: a crashed worker never says so through the flag. */
const TOTAL_TIMEOUT_MS = 120_000;

export class ThreadJob<R> {
  private result: R | undefined;
  private settled = false;

  private constructor(private readonly worker: Worker, private readonly port: MessagePort, private readonly state: Int32Array) {}

  /**
   * Starts worker module `url` (next to the caller's) with `data` and the job's channel as its
   * workerData; throws if there is no such module or no worker thread to be had.
   */
  static start<R>(url: URL, data: object, transfer: Transferable[] = []): ThreadJob<R> {
    if (!existsSync(fileURLToPath(url))) throw new Error(`${url.href} is missing`);
    const { port1, port2 } = new (threads().MessageChannel)();
    const state = new SharedArrayBuffer(4);
    const channel: JobChannel = { port: port2, state };
    const worker = new (threads().Worker)(url, { workerData: { ...data, ...channel }, transferList: [...transfer, port2] });
    // Failures show in the flag (or its silence); the worker must not hold the process open.
    worker.on('error', () => {});
    worker.unref();
    port1.unref();
    return new ThreadJob<R>(worker, port1, new Int32Array(state));
  }

  /** The worker's result, waiting for it; undefined if it failed. */
  wait(): R | undefined {
    if (this.settled) return this.result;
    const t0 = Date.now();
    for (;;) {
      const s = Atomics.load(this.state, 0);
      const waited = Date.now() - t0;
      if (s === JobState.DONE) {
        const m = threads().receiveMessageOnPort(this.port);
        if (m) {
          this.result = m.message as R;
          break;
        }
        // (queued before the flag was set; given a moment to arrive all the same)
        if (waited > 1000) break;
        Atomics.wait(this.state, 0, s, 1);
        continue;
      }
      if (s === JobState.FAILED) break;
      if (waited > TOTAL_TIMEOUT_MS || (s === JobState.PENDING && waited > START_TIMEOUT_MS)) break;
      Atomics.wait(this.state, 0, s, 100);
    }
    this.cancel();
    return this.result;
  }

  /** Stops the worker if it still runs (its result is no longer wanted). */
  cancel(): void {
    if (this.settled) return;
    this.settled = true;
    this.port.close();
    void this.worker.terminate();
  }
}

/**
 * The worker's side: says it started, runs `job`, posts what it returns (moving `transfer`),
 * and says how it went. A job that throws or returns undefined has failed.
 */
export function runJob(channel: JobChannel, job: () => { result: unknown; transfer?: Transferable[] } | undefined): void {
  const state = new Int32Array(channel.state);
  Atomics.store(state, 0, JobState.STARTED);
  Atomics.notify(state, 0);
  let outcome = JobState.FAILED;
  try {
    const r = job();
    if (r) {
      channel.port.postMessage(r.result, r.transfer ?? []);
      outcome = JobState.DONE;
    }
  } catch {
    // The main thread does the work itself.
  }
  // The message is queued before the flag says so: the main thread reads it once woken.
  Atomics.store(state, 0, outcome);
  Atomics.notify(state, 0);
  channel.port.close();
}
