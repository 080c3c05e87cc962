// SPDX-License-Identifier: GPL-2.0-only
// The bytes of an input file, read only where they are looked at. A debug-info vmlinux.o is
// ~1 GB, ~90% DWARF that stack validation never reads: the image is one file-sized buffer whose
// pages the kernel materialises only when written, filled from the file a range at a time. Every
// read checks that the file is still the one opened, so no result mixes two versions of it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type FileIdentity, fileIdentity } from './atomic-write.js';
import { ElfFormatError } from '../errors.js';

/** Granule of loading: ranges are rounded out to it and remembered per granule. */
const PAGE = 1 << 16;

export class FileImage {
  /** The whole file's bytes; only loaded ranges hold the file's contents. */
  readonly bytes: Uint8Array;
  private readonly loaded: Uint8Array;
  private complete: boolean;

  private constructor(
    readonly path: string,
    readonly size: number,
    /** The file as opened; undefined for bytes given in memory. */
    readonly source: FileIdentity | undefined,
    bytes?: Uint8Array,
  ) {
    this.bytes = bytes ?? new Uint8Array(size);
    this.complete = bytes !== undefined;
    this.loaded = new Uint8Array(bytes ? 0 : Math.ceil(size / PAGE));
  }

  static open(path: string): FileImage {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) throw new Error('not a regular file');
      return new FileImage(path, st.size, fileIdentity(st));
    } catch (e) {
      throw new ElfFormatError(path, 'file', undefined, `cannot read: ${(e as Error).message}`);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  static inMemory(path: string, bytes: Uint8Array): FileImage {
    return new FileImage(path, bytes.length, undefined, bytes);
  }

  /** Bytes [offset, offset+len) of the file (clipped to its end), read from it if need be. */
  range(offset: number, len: number): Uint8Array {
    const end = Math.min(this.size, offset + len);
    if (offset >= end) return this.bytes.subarray(offset, offset);
    if (!this.complete) this.load(offset, end);
    return this.bytes.subarray(offset, end);
  }

  /** The whole file in memory (serializing an edited copy needs every byte). */
  all(): Uint8Array {
    if (!this.complete) {
      this.load(0, this.size);
      this.complete = true;
    }
    return this.bytes;
  }

  private load(start: number, end: number): void {
    const first = Math.floor(start / PAGE);
    const last = Math.ceil(end / PAGE);
    let p = first;
    while (p < last) {
      if (this.loaded[p]) {
        p++;
        continue;
      }
      let q = p;
      while (q < last && !this.loaded[q]) q++;
      this.read(p * PAGE, Math.min(this.size, q * PAGE));
      this.loaded.fill(1, p, q);
      p = q;
    }
  }

  /**
   * Bytes [offset, offset + out.length) of the file into `out`, not kept here: one pass over a
   * big section (ElfEditor's streamed relocations) need not hold all of it at once.
   */
  readInto(offset: number, out: Uint8Array): void {
    const end = offset + out.length;
    if (end > this.size) throw new ElfFormatError(this.path, 'file', offset, 'unexpected end of file');
    const first = Math.floor(offset / PAGE);
    const last = Math.ceil(end / PAGE);
    if (this.complete || this.loaded.subarray(first, last).every((x) => x === 1)) out.set(this.bytes.subarray(offset, end));
    else this.read(offset, end, out, offset);
  }

  /** File bytes [from, to) into `into` at from - base (the image itself by default). */
  private read(from: number, to: number, into: Uint8Array = this.bytes, base = 0): void {
    let fd = -1;
    try {
      fd = openSync(this.path, 'r');
      const id = fileIdentity(fstatSync(fd));
      const was = this.source!;
      if (id.dev !== was.dev || id.ino !== was.ino || id.size !== was.size || id.mtimeNs !== was.mtimeNs) {
        throw new ElfFormatError(this.path, 'file', from, 'the file changed while orctool was reading it');
      }
      for (let at = from; at < to;) {
        const n = readSync(fd, into, at - base, to - at, at);
        if (n <= 0) throw new ElfFormatError(this.path, 'file', at, 'unexpected end of file');
        at += n;
      }
    } catch (e) {
      if (e instanceof ElfFormatError) throw e;
      throw new ElfFormatError(this.path, 'file', from, `cannot read: ${(e as Error).message}`);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
}
