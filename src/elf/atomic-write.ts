// SPDX-License-Identifier: GPL-2.0-only
// Replace a file so that a reader sees either the old or the new contents, never a half-written
// one: write a temporary file beside it, copy the mode, rename over. When the output starts as
// the input file unchanged (an object gaining ORC sections), the kernel copies those bytes
// (copy_file_range or a reflink: a debug-info vmlinux.o is ~1 GB) and only the changes are
// written from memory.
import { type Stats, chmodSync, closeSync, constants, copyFileSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A piece of output: bytes to put at a file position. Later pieces overwrite earlier ones. */
export interface Chunk {
  position: number;
  bytes: Uint8Array;
}

/** What identifies a file's contents as read: if any of it changed, the bytes may differ. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
}

export function fileIdentity(st: Stats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: BigInt(Math.round(st.mtimeMs * 1e6)) };
}

function sameIdentity(path: string, id: FileIdentity): boolean {
  try {
    const now = fileIdentity(statSync(path));
    return now.dev === id.dev && now.ino === id.ino && now.size === id.size && now.mtimeNs === id.mtimeNs;
  } catch {
    return false;
  }
}

/**
 * Write `chunks` (later ones over earlier ones) as the new contents of `path`. With `base`, they
 * go over a copy of that file, made by the kernel, which must still be the file identified
 * (else nothing is written: the result would mix two versions).
 */
export function writeChunksAtomic(path: string, chunks: readonly Chunk[], modeFrom?: string, base?: { path: string; id: FileIdentity }): void {
  let mode = 0o644;
  try {
    mode = statSync(modeFrom ?? path).mode & 0o7777;
  } catch {
    // A new file: keep the default mode.
  }
  const tmp = join(dirname(path), `.${basename(path)}.orctool-${process.pid}-${Date.now()}.tmp`);
  let fd = -1;
  try {
    if (base) {
      if (!sameIdentity(base.path, base.id)) throw new Error(`${base.path} changed since orctool read it; not written`);
      copyFileSync(base.path, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      // The copy must be what was read: a change during the copy would mix two versions.
      if (!sameIdentity(base.path, base.id) || statSync(tmp).size !== base.id.size) throw new Error(`${base.path} changed while it was being copied; not written`);
      fd = openSync(tmp, 'r+');
    } else {
      fd = openSync(tmp, 'wx', mode);
    }
    for (const c of chunks) {
      let done = 0;
      while (done < c.bytes.length) {
        done += writeSync(fd, c.bytes, done, c.bytes.length - done, c.position + done);
      }
    }
    // No fsync, like the linker and objtool: rename() alone keeps readers from seeing a partial
    // file, and ext4 flushes the data of a file renamed over another before the rename.
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
