// SPDX-License-Identifier: GPL-2.0-only
// Replace a file so that a reader sees either the old or the new contents, never a half-written
// one. In general: write a temporary file beside it, copy the mode, rename over; when the output
// starts as the input file unchanged, the kernel copies those bytes (copy_file_range or a
// reflink) and only the changes are written from memory. When the changes only append (an
// object gaining ORC sections), they are appended to the file itself, header last; a big file
// also takes small patches in place, their old bytes saved first to an undo file.
// While a write runs, a marker beside the file (`.<name>.orctool-write`: pid and the size before)
// makes two runs on one file write one after the other (the second then finds the file changed
// and writes nothing), and lets the next run undo what a run killed mid-write left: the bytes an
// append added under the old header, the patches its undo file records, its temporary file.
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

type WriteKind = 'append' | 'patch' | 'replace';

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
    const undo = m.kind === 'patch' ? readUndo(path) : undefined;
    if (undo) {
      // Bytes below the old end may have been written: put the old ones back, whether the
      // write had ended or not (either way the file is then the old object, whole).
      const wfd = openSync(path, 'r+');
      try {
        for (const u of undo) writeAll(wfd, { position: u.position, bytes: u.old });
        ftruncateSync(wfd, m.size);
      } finally {
        closeSync(wfd);
      }
    } else if ((m.kind === 'append' || m.kind === 'patch') && m.size >= 0 && size > m.size && n === HEADER_SIZE && Number(h.readBigUInt64LE(0x28)) < m.size) {
      // Nothing below the old end written yet (a patching run writes it only once its undo file
      // is whole); e_shoff at 0x28: a finished append put the section table past the old end.
      truncateSync(path, m.size);
    }
  } catch {
    // (no file: nothing to undo)
  }
  rmSync(undoPath(path), { force: true });
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

/** The ELF header: what an append writes below the old end, last. */
const HEADER_SIZE = 64;

/**
 * Whether `chunks` over a file of `size` bytes only append, but for a new ELF header: what
 * adding sections (ORC) to an object does, since new data and the section header table go
 * after the old end.
 */
export function appendsOnly(chunks: readonly Chunk[], size: number): boolean {
  return chunks.every((c) => c.position >= size || (c.position === 0 && chunkLength(c) <= HEADER_SIZE));
}

/** The undo file beside `path`: the old bytes of the ranges an in-place write overwrites. */
function undoPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.orctool-undo`);
}

const UNDO_MAGIC = 'ORCUNDO1';
const UNDO_END = 'ORCUNDO.';

/** The undo file's bytes: magic, then (position u64, length u64, old bytes) per range, then the end mark and the count. */
function undoBytes(ranges: readonly { position: number; old: Uint8Array }[]): Buffer {
  let size = 8 + 8 + 8;
  for (const r of ranges) size += 16 + r.old.length;
  const b = Buffer.alloc(size);
  b.write(UNDO_MAGIC, 0, 'latin1');
  let at = 8;
  for (const r of ranges) {
    b.writeBigUInt64LE(BigInt(r.position), at);
    b.writeBigUInt64LE(BigInt(r.old.length), at + 8);
    b.set(r.old, at + 16);
    at += 16 + r.old.length;
  }
  b.write(UNDO_END, at, 'latin1');
  b.writeBigUInt64LE(BigInt(ranges.length), at + 8);
  return b;
}

/** The ranges of a complete undo file, or undefined (absent, cut short or not one). */
function readUndo(path: string): { position: number; old: Uint8Array }[] | undefined {
  let b: Buffer;
  try {
    b = readFileSync(undoPath(path));
  } catch {
    return undefined;
  }
  if (b.length < 24 || b.toString('latin1', 0, 8) !== UNDO_MAGIC || b.toString('latin1', b.length - 16, b.length - 8) !== UNDO_END) return undefined;
  const ranges: { position: number; old: Uint8Array }[] = [];
  for (let at = 8; at < b.length - 16;) {
    const length = Number(b.readBigUInt64LE(at + 8));
    if (at + 16 + length > b.length - 16) return undefined;
    ranges.push({ position: Number(b.readBigUInt64LE(at)), old: b.subarray(at + 16, at + 16 + length) });
    at += 16 + length;
  }
  return ranges.length === Number(b.readBigUInt64LE(b.length - 8)) ? ranges : undefined;
}

/** For the tests: called after each step of writeInPlace() (a test kills the process there). */
export type WriteStepHook = (step: 'undo' | 'append' | 'patch' | 'header') => void;

/**
 * Writes `chunks` into the file itself, as objtool does, instead of into a copy: a debug-info
 * vmlinux.o is ~1 GB, and copying it took 0.5-2 s. The bytes after the old end go first. The
 * bytes below it go last, the ELF header after everything: until then the file still reads as
 * the old object (with unused bytes at its end). When more than the header goes below the old
 * end (patches: a few thousand relocations renumbered in a 400 MB section, which would
 * otherwise be written whole again), the old bytes of those ranges are first saved to an undo
 * file beside it, removed once the header is written; a run killed while it exists is rolled
 * back by the next run (recoverInterruptedWrite), so the file is then the old object again.
 * (Unlike a copy renamed over, another process reading the file during those milliseconds can
 * see some patches and not others; a build does not read an object while its objtool step runs.)
 * If writing fails, the file is put back as it was. The file must still be the one identified,
 * else nothing is written.
 */
export function writeInPlace(path: string, chunks: readonly Chunk[], id: FileIdentity, step?: WriteStepHook): void {
  const below = chunks.filter((c) => c.position < id.size);
  const patches = !appendsOnly(chunks, id.size);
  if (below.some((c) => c.streamed || c.position + c.bytes.length > id.size)) throw new Error('internal error: writeInPlace() given a chunk across the old end');
  const release = takeForWrite(path, id.size, patches ? 'patch' : 'append');
  let fd = -1;
  const undo = patches ? below.map((c) => ({ position: c.position, old: new Uint8Array(c.bytes.length) })) : [];
  let touched = false;
  let rolledBack = true;
  try {
    fd = openSync(path, 'r+');
    if (!sameIdentity(fd, id)) throw new Error(`${path} changed since orctool read it; not written`);
    if (patches) {
      const read = readerOf(fd);
      for (const u of undo) read(u.position, u.old);
      const ufd = openSync(undoPath(path), 'w', 0o600);
      try {
        const b = undoBytes(undo);
        for (let done = 0; done < b.length;) done += writeSync(ufd, b, done, b.length - done);
      } finally {
        closeSync(ufd);
      }
      step?.('undo');
    }
    touched = true;
    for (const c of chunks) if (c.position >= id.size) writeAll(fd, c);
    step?.('append');
    for (const c of below) if (c.position !== 0) writeAll(fd, c);
    step?.('patch');
    for (const c of below) if (c.position === 0) writeAll(fd, c);
    step?.('header');
  } catch (e) {
    if (touched) {
      rolledBack = false;
      try {
        for (const u of undo) writeAll(fd, { position: u.position, bytes: u.old });
        ftruncateSync(fd, id.size);
        rolledBack = true;
      } catch {
        // (what failed is what is reported; the next run rolls back)
      }
    }
    throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
    // (a rollback that failed leaves the undo file and the marker for the next run)
    if (rolledBack) {
      if (patches) rmSync(undoPath(path), { force: true });
      release();
    }
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
