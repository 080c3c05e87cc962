// SPDX-License-Identifier: GPL-2.0-only
// Worker thread of a split decode (split-decode.ts): decodes the end of one big code section
// while the main thread reads symbols and decodes the start, and hands the columns back
// without copying them.
import { workerData } from 'node:worker_threads';
import { COLUMNS, decodePart } from './decoder.js';
import type { DecodeJob } from './split-decode.js';
import { type JobChannel, runJob } from '../threads.js';

const job = workerData as DecodeJob & JobChannel;
runJob(job, () => {
  const p = decodePart(new Uint8Array(job.buffer), job.base, job.section, job.variant, job.cols);
  const buffers = new Set<ArrayBuffer>();
  for (const a of [...COLUMNS.map((k) => p[k]), p.ops, p.asked]) if (!(a.buffer instanceof SharedArrayBuffer)) buffers.add(a.buffer as ArrayBuffer);
  return { result: p, transfer: [...buffers] };
});
