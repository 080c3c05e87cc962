// SPDX-License-Identifier: GPL-2.0-only
// verify's second thread: on vmlinux.o the walks of the original code are most of verify's
// work, and the functions without an alternative site (whose walks the variants do not need)
// can be walked anywhere. Once this thread has decoded the big section, a worker
// (walk-worker.ts) is started and handed that decoding in shared memory; it opens the object
// itself, sets up its walks as this thread did, walks those functions while this thread walks
// the rest and the variants, and sends back its part of the report. Anything that fails leaves
// the walks to this thread (verifyWith() walks them itself). The functions are shared out in
// chunks through a shared counter: once this thread is done with the rest, it takes the chunks
// the worker has not reached yet, so that neither waits for the other (a busy core makes the
// worker slow). verify starts it only from 3 cores (HELPER_MIN_CORES): on 2 it gains nothing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ElfFile } from '../elf/reader.js';
import { type KernelLayout, layoutByName } from '../kernel/versions.js';
import { COLUMNS } from '../x86/decoder.js';
import type { DecodedSection } from '../x86/index.js';
import { JobState, threads } from '../threads.js';
import { CHECKED, type Mismatch } from './report.js';
import type { Walk } from './walk.js';

/** The decoding as the worker gets it: every column in shared memory. */
export interface SharedDecoding {
  section: string;
  size: number;
  count: number;
  columns: Record<(typeof COLUMNS)[number] | 'ops', Uint8Array | Uint16Array | Uint32Array | Int32Array>;
}

/** How many of the functions each claim takes (one Atomics.add per chunk). */
export const CHUNK = 64;

/** The first of the next CHUNK functions of the list, claimed (past the end: none left). */
export function claimChunk(state: Int32Array): number {
  return Atomics.add(state, 1, CHUNK);
}

/** Nor is a worker waited for longer than this: a crashed one never says so through the flag. */
const TIMEOUT_MS = 600_000;

export class WalkHelper {
  private settled = false;

  private constructor(readonly sec: number, private readonly worker: Worker, private readonly port: MessagePort, private readonly state: Int32Array) {}

  /**
   * A worker for the functions of section `sec` (the split one), for a relocatable object opened
   * from a file whose layout is one of the known ones; undefined when there is none to be had.
   */
  static start(elf: ElfFile, layout: KernelLayout, sec: number, coverage: boolean): WalkHelper | undefined {
    if (!elf.isRelocatable || !elf.source || layoutByName(layout.name) !== layout) return undefined;
    try {
      const url = new URL('./walk-worker.js', import.meta.url);
      if (!existsSync(fileURLToPath(url))) return undefined;
      const { port1, port2 } = new (threads().MessageChannel)();
      // (Int32 0: the worker's JobState, PENDING while it works; 1: the chunk counter)
      const state = new SharedArrayBuffer(8);
      const worker = new (threads().Worker)(url, {
        workerData: { path: elf.path, source: elf.source, layout: layout.name, sec, coverage, port: port2, state },
        transferList: [port2],
        // (its phases are not this run's)
        env: { ...process.env, ORCTOOL_PHASES: '0' },
      });
      worker.on('error', () => {});
      worker.unref();
      port1.unref();
      return new WalkHelper(sec, worker, port1, new Int32Array(state));
    } catch {
      return undefined;
    }
  }

  /** Hands the worker the section's decoding; false when it is already gone (the walks stay here). */
  hand(ds: DecodedSection): boolean {
    if (this.settled || Atomics.load(this.state, 0) === JobState.FAILED) return false;
    const columns = {} as SharedDecoding['columns'];
    for (const k of [...COLUMNS, 'ops'] as const) {
      const a = ds[k];
      if (a.buffer instanceof SharedArrayBuffer) columns[k] = a;
      else {
        const b = new (a.constructor as Uint8ArrayConstructor)(new SharedArrayBuffer(a.byteLength) as unknown as ArrayBuffer);
        b.set(a as Uint8Array);
        columns[k] = b;
      }
    }
    const d: SharedDecoding = { section: ds.section, size: ds.size, count: ds.count, columns };
    this.port.postMessage(d);
    return true;
  }

  /** Walks (with `walk`) the chunks of `list` neither thread has claimed yet; the indices walked. */
  walkUnclaimed(list: readonly number[], walk: (fi: number) => void): number[] {
    const done: number[] = [];
    for (let k = claimChunk(this.state); k < list.length; k = claimChunk(this.state)) {
      for (let j = k; j < Math.min(k + CHUNK, list.length); j++) {
        walk(list[j]!);
        done.push(j);
      }
    }
    return done;
  }

  /** The worker's part of the report, waiting for it; undefined if it failed. */
  result(): WorkerResult | undefined {
    if (this.settled) return undefined;
    const t0 = Date.now();
    let got: WorkerResult | undefined;
    for (;;) {
      const s = Atomics.load(this.state, 0);
      if (s === JobState.DONE) {
        const m = threads().receiveMessageOnPort(this.port);
        if (m) got = m.message as WorkerResult;
        // (queued before the flag was set; given a moment to arrive all the same)
        if (m || Date.now() - t0 > TIMEOUT_MS) break;
        Atomics.wait(this.state, 0, s, 1);
        continue;
      }
      if (s === JobState.FAILED || Date.now() - t0 > TIMEOUT_MS) break;
      Atomics.wait(this.state, 0, s, 100);
    }
    this.stop();
    return got;
  }

  stop(): void {
    if (this.settled) return;
    this.settled = true;
    this.port.close();
    void this.worker.terminate();
  }
}

/** What the worker sends back (walk-worker.ts): its walks' part of the report. */
export interface WorkerResult {
  /** How many functions it walked. */
  functions: number;
  checked: number;
  unverified: number;
  reasons: Record<string, number>;
  mismatches: Mismatch[];
  /** The function of each mismatch (WalkContext.fns index). */
  tags: number[];
  /** Table entries its checks relied on (1 each). */
  used: Uint8Array;
  /** With --coverage: [section, offsets, what each came to]. */
  cover?: [number, number[], string[]][];
}

/** The report's first mismatches (tags.length of them, the original walks') in function order, each location once. */
export function inFunctionOrder(w: Walk, tags: number[]): void {
  const ms = w.r.mismatches;
  const n = tags.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => tags[a]! - tags[b]! || a - b);
  const seen = new Set<string>();
  const kept: Mismatch[] = [];
  const keptTags: number[] = [];
  for (const k of order) {
    const key = `${ms[k]!.location}|${ms[k]!.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    w.reported.add(key);
    kept.push(ms[k]!);
    keptTags.push(tags[k]!);
  }
  // (no spreading: a damaged object can have more mismatches than a call takes arguments)
  const rest = ms.slice(n);
  ms.length = 0;
  for (const list of [kept, rest]) for (const m of list) ms.push(m);
  tags.length = 0;
  for (const x of keptTags) tags.push(x);
}

/** The worker's walks added to the report, as if made here in function order. */
export function mergeWorker(w: Walk, got: WorkerResult, tags: number[]): void {
  const r = w.r;
  r.checked += got.checked;
  r.unverified += got.unverified;
  for (const [why, n] of Object.entries(got.reasons)) r.reasons[why] = (r.reasons[why] ?? 0) + n;
  for (let k = 0; k < got.used.length; k++) if (got.used[k]) w.used[k] = 1;
  if (w.cover && got.cover) {
    for (const [sec, offs, sts] of got.cover) {
      let m = w.cover.get(sec);
      if (!m) w.cover.set(sec, (m = new Map()));
      offs.forEach((off, j) => {
        if (sts[j] === CHECKED || m!.get(off) !== CHECKED) m!.set(off, sts[j]!);
      });
    }
  }
  const later = r.mismatches.splice(tags.length);
  for (const m of got.mismatches) r.mismatches.push(m);
  for (const x of got.tags) tags.push(x);
  inFunctionOrder(w, tags);
  for (const m of later) r.mismatches.push(m);
}

