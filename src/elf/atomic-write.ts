// SPDX-License-Identifier: GPL-2.0-only
// Replace a file so that a reader sees either the old or the new contents, never a half-written
// one. In general: write a temporary file beside it, copy the mode, rename over; when the output
// starts as the input file unchanged, the kernel copies those bytes (copy_file_range or a
// reflink) and only the changes are written from memory. When the changes only append (an
// object gaining ORC sections), they are appended to the file itself, header last.
// While a write runs, a marker beside the file (`.<name>.orctool-write`: pid and the size before)
// makes two runs on one file write one after the other (the second then finds the file changed
// and writes nothing), and lets the next run undo what a run killed mid-write left: the bytes an
// append added under the old header, and its temporary file.
import {
  type Stats, chmodSync, closeSync, constants, copyFileSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, readdirSync, renameSync,
  rmSync, statSync, truncateSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A piece of output: bytes to put at a file position. Later pieces overwrite earlier ones. */
export interface Chunk {
  position: number;
  bytes: Uint8Array;
  /**
   * Instead of `bytes` (then empty): `length` bytes made a piece (at most `piece` bytes) at a
   * time as they are written, `fill` putting bytes [from, from + out.length) into `out` (a
   * debug-info vmlinux.o's relocations to the DWARF, hundreds of MB, need not be in memory at
   * once). What it makes them from it reads with `read`, from the file being written, where the
   * input's bytes still are when it is asked: below the input's end, in a range no chunk before
   * this one has written over.
   */
  streamed?: { length: number; piece: number; fill(out: Uint8Array, from: number, read: FileRead): void };
}

/** Reads bytes at a file offset into `into`. */
export type FileRead = (offset: number, into: Uint8Array) => void;

/** How many bytes the chunk puts. */
export function chunkLength(c: Chunk): number {
  return c.streamed ? c.streamed.length : c.bytes.length;
}

/** Calls `put` with each piece of the chunk's bytes and its offset in the chunk (`read`: see Chunk.streamed). */
export function forEachPiece(c: Chunk, read: FileRead, put: (bytes: Uint8Array, from: number) => void): void {
  if (!c.streamed) return put(c.bytes, 0);
  const { length, piece, fill } = c.streamed;
  const buf = new Uint8Array(Math.min(piece, length));
  for (let from = 0; from < length; from += piece) {
    const part = buf.subarray(0, Math.min(piece, length - from));
    fill(part, from, read);
    put(part, from);
  }
}

/** A FileRead from an open file. */
function readerOf(fd: number): FileRead {
  return (offset, into) => {
    for (let done = 0; done < into.length;) {
      const n = readSync(fd, into, done, into.length - done, offset + done);
      if (n <= 0) throw new Error(`unexpected end of file at ${offset + done}`);
      done += n;
    }
  };
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

function sameIdentity(path: string | number, id: FileIdentity): boolean {
  try {
    const now = fileIdentity(typeof path === 'number' ? fstatSync(path) : statSync(path));
    return now.dev === id.dev && now.ino === id.ino && now.size === id.size && now.mtimeNs === id.mtimeNs;
  } catch {
    return false;
  }
}

function writeAll(fd: number, c: Chunk): void {
  forEachPiece(c, readerOf(fd), (bytes, from) => {
    let done = 0;
    while (done < bytes.length) {
      done += writeSync(fd, bytes, done, bytes.length - done, c.position + from + done);
    }
  });
}

function markerPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.orctool-write`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type WriteKind = 'append' | 'replace';

/** The marker's pid, size before and kind of write, or undefined when it is gone. */
function readMarker(marker: string): { pid: number; size: number; kind: string } | undefined {
  try {
    const [pid, size, kind] = readFileSync(marker, 'utf8').trim().split(' ');
    return Number.isInteger(Number(pid)) && Number.isInteger(Number(size)) ? { pid: Number(pid), size: Number(size), kind: kind ?? '' } : { pid: 0, size: -1, kind: '' };
  } catch {
    return undefined;
  }
}

/**
 * Undo what a run killed while writing `path` left, if one did (its marker names a process that
 * is gone): an append whose header was not written yet (the header's section table still lies
 * below the recorded size) is cut back to that size; its temporary file is removed. A run calls
 * this before it reads the file.
 */
export function recoverInterruptedWrite(path: string): void {
  const marker = markerPath(path);
  const m = readMarker(marker);
  if (!m || (m.pid > 0 && alive(m.pid))) return;
  try {
    const fd = openSync(path, 'r');
    const h = Buffer.alloc(HEADER_SIZE);
    const n = readSync(fd, h, 0, HEADER_SIZE, 0);
    const size = fstatSync(fd).size;
    closeSync(fd);
    // (e_shoff at 0x28: a finished append put the section table past the old end)
    if (m.kind === 'append' && m.size >= 0 && size > m.size && n === HEADER_SIZE && Number(h.readBigUInt64LE(0x28)) < m.size) truncateSync(path, m.size);
  } catch {
    // (no file: nothing to undo)
  }
  const prefix = `.${basename(path)}.orctool-${m.pid}-`;
  try {
    for (const f of readdirSync(dirname(path))) if (f.startsWith(prefix) && f.endsWith('.tmp')) rmSync(join(dirname(path), f), { force: true });
  } catch {
    // (an unreadable directory: the write below fails and says so)
  }
  rmSync(marker, { force: true });
}

/** Take `path` for a write (waiting for another run's write to end); returns the release. */
function takeForWrite(path: string, size: number, kind: WriteKind): () => void {
  const marker = markerPath(path);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; ) {
    try {
      const fd = openSync(marker, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${size} ${kind}\n`);
      closeSync(fd);
      return () => rmSync(marker, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const m = readMarker(marker);
    if (m && m.pid > 0 && alive(m.pid)) {
      if (waited > 10 * 60_000) throw new Error(`${path} is being written by another run (pid ${m.pid}); not written`);
      Atomics.wait(nap, 0, 0, 20);
      waited += 20;
    } else recoverInterruptedWrite(path);
  }
}

/** The ELF header: the one place below the old end an in-place append may write. */
const HEADER_SIZE = 64;

/**
 * Whether `chunks` over a file of `size` bytes only append, but for a new ELF header: what
 * adding sections (ORC) to an object does, since new data and the section header table go
 * after the old end.
 */
export function appendsOnly(chunks: readonly Chunk[], size: number): boolean {
  return chunks.every((c) => c.position >= size || (c.position === 0 && chunkLength(c) <= HEADER_SIZE));
}

/**
 * Writes appending `chunks` (see appendsOnly) into the file itself, as objtool does, instead of
 * into a copy: a debug-info vmlinux.o is ~1 GB, and copying it took 0.5-2 s. The appended bytes
 * go first and the header last, so until the header is written the file still reads as the old
 * object (with unused bytes at its end), and after it as the new one; if writing fails, the file
 * is cut back to its old size. The file must still be the one identified, else nothing is written.
 */
export function appendInPlace(path: string, chunks: readonly Chunk[], id: FileIdentity): void {
  if (!appendsOnly(chunks, id.size)) throw new Error('internal error: appendInPlace() given chunks that overwrite');
  const release = takeForWrite(path, id.size, 'append');
  let fd = -1;
  try {
    fd = openSync(path, 'r+');
    if (!sameIdentity(fd, id)) throw new Error(`${path} changed since orctool read it; not written`);
    const header = chunks.filter((c) => c.position < id.size);
    try {
      for (const c of chunks) if (c.position >= id.size) writeAll(fd, c);
    } catch (e) {
      ftruncateSync(fd, id.size);
      throw e;
    }
    for (const c of header) writeAll(fd, c);
  } finally {
    if (fd >= 0) closeSync(fd);
    release();
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
  let size = -1;
  try {
    size = statSync(path).size;
  } catch {
    // (a new file)
  }
  const release = takeForWrite(path, size, 'replace');
  try {
    if (base) {
      if (!sameIdentity(base.path, base.id)) throw new Error(`${base.path} changed since orctool read it; not written`);
      copyFileSync(base.path, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      // The copy must be what was read: a change during the copy would mix two versions.
      if (!sameIdentity(base.path, base.id) || statSync(tmp).size !== base.id.size) throw new Error(`${base.path} changed while it was being copied; not written`);
      fd = openSync(tmp, 'r+');
    } else {
      fd = openSync(tmp, 'wx+', mode);
    }
    for (const c of chunks) writeAll(fd, c);
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
  } finally {
    release();
  }
}
