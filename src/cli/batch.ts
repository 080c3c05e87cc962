// SPDX-License-Identifier: GPL-2.0-only
// A batch of files on several cores: the main thread and a pool of worker threads
// (check-worker.ts), started once, each taking the next file as it frees up. Each file's output
// is buffered and printed in input order, so the result does not depend on the number of
// workers or on which finishes first.
import { Worker } from 'node:worker_threads';
import { type CheckOutput, type CommandLine, checkFile, combineStatus } from './check-command.js';
import { errorLine } from './error-line.js';

export interface BatchOutput extends CheckOutput {
  /** A status line to show in place of the previous one (null: clear it); only for a terminal. */
  progress?: (line: string | null) => void;
}

/** Output of one file in the order it was written: 1 for stdout, 2 for stderr. */
export type Chunk = [stream: 1 | 2, text: string];

/** What a worker sends back for a file. */
export interface FileResult {
  index: number;
  status: number;
  chunks: Chunk[];
}

/** The request a worker gets: a file by its index in the command line, or null to exit. */
export type FileRequest = { index: number } | null;

/** A writer that keeps a file's output in order, merging consecutive writes to one stream. */
export function bufferOutput(chunks: Chunk[]): CheckOutput {
  const push = (stream: 1 | 2, text: string): void => {
    if (text === '') return;
    const last = chunks.at(-1);
    if (last && last[0] === stream) last[1] += text;
    else chunks.push([stream, text]);
  };
  return { stdout: (s) => push(1, s), stderr: (s) => push(2, s) };
}

/**
 * Check the files of the command line `argv` (parsed: `cl`) on `jobs` threads, the main thread
 * and jobs - 1 workers; resolves to the exit status. The main thread checks a file between
 * handling the workers' messages, so one thread fewer is started and loaded than there are
 * jobs. A worker that dies (not a bad file: those are reported by the worker) costs only the
 * file it had, reported as an internal error; a fresh worker takes over the rest.
 */
export function runBatch(argv: string[], cl: CommandLine, jobs: number, out: BatchOutput): Promise<number> {
  const files = cl.files;
  return new Promise((resolveStatus) => {
    const results: Array<FileResult | undefined> = [];
    let next = 0;
    let flushed = 0;
    let done = 0;
    let status = 0;

    const flush = (): void => {
      if (results[flushed] && out.progress) out.progress(null);
      for (let r = results[flushed]; r; r = results[flushed]) {
        for (const [stream, text] of r.chunks) (stream === 1 ? out.stdout : out.stderr)(text);
        status = combineStatus(status, r.status);
        results[flushed++] = undefined;
      }
    };
    const complete = (r: FileResult): void => {
      results[r.index] = r;
      done++;
      flush();
      if (done < files.length) out.progress?.(`orctool: [${done}/${files.length}] ${files[r.index]}`);
      else {
        out.progress?.(null);
        resolveStatus(status);
      }
    };

    const spawn = (): void => {
      const worker = new Worker(new URL('./check-worker.js', import.meta.url), { workerData: { argv } });
      let current = -1;
      let failure: unknown;
      const give = (): void => {
        current = next < files.length ? next++ : -1;
        const req: FileRequest = current >= 0 ? { index: current } : null;
        worker.postMessage(req);
      };
      worker.on('message', (r: FileResult) => {
        current = -1;
        give(); // the next file first: the worker works while we print
        complete(r);
      });
      worker.on('error', (e) => (failure = e));
      worker.on('exit', (code) => {
        if (current < 0) return;
        const lost = current;
        current = -1;
        const chunks: Chunk[] = [];
        bufferOutput(chunks).stderr(errorLine(failure ?? new Error(`worker exited with status ${code} on ${files[lost]}`)));
        if (next < files.length) spawn();
        complete({ index: lost, status: 1, chunks });
      });
      give();
    };

    // The main thread's share: one file, then back to the event loop for the workers' results.
    const local = (): void => {
      if (next >= files.length) return;
      const index = next++;
      const chunks: Chunk[] = [];
      const fileStatus = checkFile(cl, files[index]!, bufferOutput(chunks), true);
      complete({ index, status: fileStatus, chunks });
      setImmediate(local);
    };

    out.progress?.(`orctool: [0/${files.length}] ${files[0]}`);
    for (let i = 1; i < jobs; i++) spawn();
    setImmediate(local);
  });
}
