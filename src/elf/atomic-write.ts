// SPDX-License-Identifier: GPL-2.0-only
// Replace a file so that a reader sees either the old or the new contents, never a half-written
// one: write a temporary file beside it, flush, copy the mode, rename over.
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A piece of output: bytes to put at a file position. Later pieces overwrite earlier ones. */
export interface Chunk {
  position: number;
  bytes: Uint8Array;
}

export function writeChunksAtomic(path: string, chunks: readonly Chunk[], modeFrom?: string): void {
  let mode = 0o644;
  try {
    mode = statSync(modeFrom ?? path).mode & 0o7777;
  } catch {
    // A new file: keep the default mode.
  }
  const tmp = join(dirname(path), `.${basename(path)}.orctool-${process.pid}-${Date.now()}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', mode);
    for (const c of chunks) {
      let done = 0;
      while (done < c.bytes.length) {
        done += writeSync(fd, c.bytes, done, c.bytes.length - done, c.position + done);
      }
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was created.
    }
    throw e;
  }
}
