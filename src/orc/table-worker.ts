// SPDX-License-Identifier: GPL-2.0-only
// Worker thread of a big object's ORC table (actions/orc.ts): makes the table from the job's
// numbers while the main thread makes the other outputs, and hands it back without copying.
import { workerData } from 'node:worker_threads';
import { type OrcTableJob, tableFromJob } from './table-job.js';
import { type JobChannel, runJob } from '../threads.js';

const job = workerData as OrcTableJob & JobChannel;
runJob(job, () => {
  const t = tableFromJob(job);
  if (!t) return undefined;
  const transfer = [...new Set([t.entries.buffer, t.sections.buffer, t.offsets.buffer])] as ArrayBuffer[];
  return { result: t, transfer };
});
