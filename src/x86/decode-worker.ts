// SPDX-License-Identifier: GPL-2.0-only
// Worker thread of a split decode (split-decode.ts): decodes the end of one big code section
// while the main thread reads symbols and decodes the start, and hands the columns back
// without copying them.
import { workerData, type MessagePort } from 'node:worker_threads';
import { COLUMNS, decodePart, type Columns } from './decoder.js';
import type { DecoderVariant } from './variant.js';
import { SplitState } from './split-decode.js';

interface Job {
  buffer: ArrayBuffer;
  base: number;
  section: string;
  variant: DecoderVariant;
  port: MessagePort;
  state: SharedArrayBuffer;
  /** Where to decode to (shared with the main thread). */
  cols: Columns;
}

const job = workerData as Job;
const state = new Int32Array(job.state);
Atomics.store(state, 0, SplitState.STARTED);
Atomics.notify(state, 0);
let outcome = SplitState.FAILED;
try {
  const p = decodePart(new Uint8Array(job.buffer), job.base, job.section, job.variant, job.cols);
  const buffers = new Set<ArrayBuffer>();
  for (const a of [...COLUMNS.map((k) => p[k]), p.ops, p.asked]) if (!(a.buffer instanceof SharedArrayBuffer)) buffers.add(a.buffer as ArrayBuffer);
  job.port.postMessage(p, [...buffers]);
  outcome = SplitState.DONE;
} catch {
  // The main thread decodes this part itself.
}
// The message is queued before the state says so: the main thread reads it once woken.
Atomics.store(state, 0, outcome);
Atomics.notify(state, 0);
job.port.close();
