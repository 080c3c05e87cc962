// SPDX-License-Identifier: GPL-2.0-only
// Little-endian field access shared by the reader and writer. 64-bit fields come back as
// numbers: offsets and sizes of any real object fit in 2^53, and callers that need exact
// 64-bit values (addresses of linked kernels) use the bigint readers.

export function u64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x1_0000_0000;
}

export function s64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getInt32(at + 4, true) * 0x1_0000_0000;
}

export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000) >>> 0, true);
}

export function setS64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setInt32(at + 4, Math.floor(value / 0x1_0000_0000) | 0, true);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decode a NUL-terminated string; returns undefined when no NUL is found before `end`. */
export function cString(bytes: Uint8Array, start: number, end: number): string | undefined {
  const nul = bytes.indexOf(0, start);
  if (nul < 0 || nul >= end) return undefined;
  return latin1(bytes, start, nul);
}

/**
 * One native decode into a flat string (built a character at a time, a name is a rope of
 * one-character strings: vmlinux.o has 150,000 names). Buffer's latin1 is ISO-8859-1 proper,
 * unlike TextDecoder's, which is windows-1252.
 */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString('latin1', start, end);
}
