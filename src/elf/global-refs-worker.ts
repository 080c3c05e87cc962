// SPDX-License-Identifier: GPL-2.0-only
// Worker thread of global-refs.ts: reads the relocation sections it is given from the file (the
// one the main thread read, else it gives up) and lists their entries that name a global.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { type JobChannel, runJob } from '../threads.js';
import { fileIdentity } from './atomic-write.js';
import type { GlobalRefs, GlobalRefsJob } from './global-refs.js';

/** Read this much at a time: whole entries of either size (24, 16). */
const PIECE = (8 << 20) - ((8 << 20) % 48);

const job = workerData as GlobalRefsJob & JobChannel;
runJob(job, () => {
  const fd = openSync(job.path, 'r');
  try {
    const id = fileIdentity(fstatSync(fd));
    const want = job.source;
    if (id.dev !== want.dev || id.ino !== want.ino || id.size !== want.size || id.mtimeNs !== want.mtimeNs) return undefined;
    const out: [number, GlobalRefs][] = [];
    const buf = new Uint8Array(Math.min(PIECE, Math.max(...job.sections.map((s) => s.size))));
    for (const s of job.sections) {
      let entries = new Uint32Array(1024);
      let syms = new Uint32Array(1024);
      let n = 0;
      for (let from = 0; from < s.size; from += PIECE) {
        const part = buf.subarray(0, Math.min(PIECE, s.size - from));
        for (let done = 0; done < part.length;) {
          const got = readSync(fd, part, done, part.length - done, s.offset + from + done);
          if (got <= 0) return undefined;
          done += got;
        }
        const v = new DataView(part.buffer, part.byteOffset, part.length);
        for (let at = 0; at + s.entsize <= part.length; at += s.entsize) {
          const sym = v.getUint32(at + 12, true);
          if (sym < job.firstGlobal) continue;
          if (n === entries.length) {
            const e = new Uint32Array(2 * n);
            const y = new Uint32Array(2 * n);
            e.set(entries);
            y.set(syms);
            entries = e;
            syms = y;
          }
          entries[n] = (from + at) / s.entsize;
          syms[n++] = sym;
        }
      }
      out.push([s.index, { entries: entries.slice(0, n), syms: syms.slice(0, n) }]);
    }
    return { result: out, transfer: out.flatMap(([, r]) => [r.entries.buffer as ArrayBuffer, r.syms.buffer as ArrayBuffer]) };
  } finally {
    closeSync(fd);
  }
});
