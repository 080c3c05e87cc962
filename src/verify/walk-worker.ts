// SPDX-License-Identifier: GPL-2.0-only
// Worker thread of verify (walk-helper.ts): opens the object itself (the same file, unchanged
// since verify opened it), sets up the walks as verify does, waits for the big section's
// decoding, walks in the original code the chunks it claims of the functions workerFunctions()
// gives it, and sends back its part of the report.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ElfFile } from '../elf/reader.js';
import { layoutByName } from '../kernel/versions.js';
import type { DecodedSection } from '../x86/index.js';
import { relTargets } from '../x86/decoder.js';
import { buildTable } from './orc-table.js';
import { CHUNK, claimChunk, type SharedDecoding, type WorkerResult } from './walk-helper.js';
import { JobState } from '../threads.js';
import type { FileIdentity } from '../elf/atomic-write.js';
import { walkContext, walkOriginal, workerFunctions } from './context.js';
import { type CoverageMap, emptyReport } from './report.js';

interface Job {
  path: string;
  source: FileIdentity;
  layout: string;
  sec: number;
  coverage: boolean;
  port: MessagePort;
  state: SharedArrayBuffer;
}

/** The decoding handed over, as a DecodedSection (the columns the walks read; the rest empty). */
function decodedFrom(d: SharedDecoding): DecodedSection {
  const c = d.columns;
  const offset = c.offset as Uint32Array;
  const len = c.len as Uint8Array;
  const flags = c.flags as Uint16Array;
  const immediate = c.immediate as Int32Array;
  const target = relTargets(d.count, offset, len, flags, immediate);
  const none = new Uint8Array(d.count);
  return {
    section: d.section, size: d.size, count: d.count, error: null, offset, len, type: c.type as Uint8Array, flags, immediate, target,
    dispPos: none, immPos: none, fieldSizes: none, opStart: c.opStart as Uint32Array, opCount: c.opCount as Uint8Array, ops: c.ops as Int32Array,
  };
}

function run(job: Job): WorkerResult {
  const elf = ElfFile.open(job.path);
  const src = elf.source;
  const same = src && src.dev === job.source.dev && src.ino === job.source.ino && src.size === job.source.size && src.mtimeNs === job.source.mtimeNs;
  const layout = layoutByName(job.layout);
  const t = buildTable(elf);
  if (!same || !layout || !t) throw new Error('verify worker: not the object verify has');
  const r = emptyReport();
  const cover: CoverageMap | undefined = job.coverage ? new Map() : undefined;
  const given = new Map<number, DecodedSection>();
  const c = walkContext(elf, layout, t, r, cover, undefined, given);
  const mine = workerFunctions(c, job.sec);
  // (synchronously: the walks below are synchronous too)
  const state = new Int32Array(job.state);
  let m: { message: unknown } | undefined;
  while (!(m = receiveMessageOnPort(job.port))) Atomics.wait(state, 0, JobState.PENDING, 10);
  given.set(job.sec, decodedFrom(m.message as SharedDecoding));
  const tags: number[] = [];
  let functions = 0;
  for (let k = claimChunk(state); k < mine.length; k = claimChunk(state)) {
    for (let j = k; j < Math.min(k + CHUNK, mine.length); j++, functions++) walkOriginal(c, mine[j]!, tags);
  }
  return {
    functions, checked: r.checked, unverified: r.unverified, reasons: r.reasons, mismatches: r.mismatches, tags, used: c.w.used,
    cover: cover && [...cover].map(([sec, m]) => [sec, [...m.keys()], [...m.values()]]),
  };
}

const job = workerData as Job;
const state = new Int32Array(job.state);
let outcome = JobState.FAILED;
try {
  const result = run(job);
  job.port.postMessage(result, [result.used.buffer as ArrayBuffer]);
  outcome = JobState.DONE;
} catch {
  // verify walks these functions itself.
}
// The message is queued before the state says so: the main thread reads it once woken.
Atomics.store(state, 0, outcome);
Atomics.notify(state, 0);
job.port.close();
