// SPDX-License-Identifier: GPL-2.0-only
// Spliced decoding equals decoding the patched bytes front to back, on random bytes (the worst
// case for finding instruction boundaries again) with changes that shift them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSection, OP_STRIDE, type DecodedSection, type DecodeOptions } from '../x86/index.js';
import { spliceDecode, spliceWindows } from './splice.js';

const opts: DecodeOptions = { onInvalid: 'skip' };

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** Instruction k of ds as one comparable line. */
function row(ds: DecodedSection, k: number): string {
  const ops = Array.from(ds.ops.subarray(ds.opStart[k]! * OP_STRIDE, (ds.opStart[k]! + ds.opCount[k]!) * OP_STRIDE));
  return [ds.offset[k], ds.len[k], ds.type[k], ds.flags[k], ds.immediate[k], ds.target[k], ds.dispPos[k], ds.immPos[k], ds.fieldSizes[k], ops.join(',')].join(' ');
}

function rows(ds: DecodedSection, pick?: (k: number) => boolean): string[] {
  const out: string[] = [];
  for (let k = 0; k < ds.count; k++) if (!pick || pick(k)) out.push(row(ds, k));
  return out;
}

/** Random code-like bytes: mostly common opcodes, some prefixes and emulate prefixes. */
function code(next: () => number, size: number): Uint8Array {
  const pieces = [[0x55], [0x48, 0x89, 0xe5], [0x5d], [0xc3], [0x66, 0x90], [0x0f, 0x1f, 0x44, 0x00, 0x00], [0xe8, 0, 0, 0, 0], [0x74, 0x05],
    [0x0f, 0x0b, 0x78, 0x65, 0x6e], [0x66], [0x0f], [0xf3], [0x48, 0x83, 0xec, 0x18], [0xeb, 0xfe], [0x48, 0xcf]];
  const out = new Uint8Array(size);
  for (let i = 0; i < size;) {
    const p = next() < 0.3 ? [Math.floor(next() * 256)] : pieces[Math.floor(next() * pieces.length)]!;
    for (const b of p) if (i < size) out[i++] = b;
  }
  return out;
}

describe('spliced decoding', () => {
  test('equals a full decoding of the patched bytes', () => {
    const next = rng(12345);
    for (let round = 0; round < 400; round++) {
      const size = 2000 + Math.floor(next() * 3000);
      const orig = code(next, size);
      const ref = decodeSection(orig, 'random', opts);
      const bytes = orig.slice();
      const changes: number[] = [];
      let at = Math.floor(next() * 20);
      while (at < size) {
        const len = Math.min(size - at, Math.floor(next() * 24));
        bytes.set(code(next, len), at);
        changes.push(at, at + len);
        at += len + Math.floor(next() * (round % 2 ? 40 : 400));
      }
      const full = decodeSection(bytes, 'random', opts);
      assert.deepEqual(rows(spliceDecode(ref, bytes, changes, opts)), rows(full), `round ${round}`);

      // Windows: the instructions starting inside each, then the next one.
      const windows: number[] = [];
      for (let w = Math.floor(next() * 300); w < size; w += 100 + Math.floor(next() * 600)) {
        const end = Math.min(size, w + 1 + Math.floor(next() * 200));
        windows.push(w, end);
        w = end;
      }
      const inWindow = (k: number): boolean => {
        for (let w = 0; w < windows.length; w += 2) {
          const off = full.offset[k]!;
          if (off >= windows[w]! && off < windows[w + 1]!) return true;
          // The first instruction at or past the window's end.
          if (off >= windows[w + 1]! && (k === 0 || full.offset[k - 1]! < windows[w + 1]!)) return true;
        }
        return false;
      };
      assert.deepEqual(rows(spliceWindows(ref, bytes, changes, windows, opts)), rows(full, inWindow), `round ${round} windows`);
    }
  });

  test('iret asks whether its section offset is in a function', () => {
    // (sync_core()'s IRET-to-self, inside a function, decodes unlike an iret outside one)
    const inFunc: DecodeOptions = { onInvalid: 'skip', isInFunc: (off) => (off >> 5) % 2 === 0 };
    const next = rng(99);
    for (let round = 0; round < 100; round++) {
      const size = 3000;
      const orig = code(next, size);
      const ref = decodeSection(orig, 'random', inFunc);
      const bytes = orig.slice();
      const at = 500 + Math.floor(next() * 2000);
      bytes.set([0x48, 0xcf, 0x48, 0xcf, 0x48, 0xcf], at);
      assert.deepEqual(rows(spliceDecode(ref, bytes, [at, at + 6], inFunc)), rows(decodeSection(bytes, 'random', inFunc)), `round ${round}`);
    }
  });

  test('one buffer patched again and again, as verify patches each site in turn', () => {
    const next = rng(4242);
    const orig = code(next, 6000);
    const ref = decodeSection(orig, 'random', opts);
    const bytes = orig.slice();
    for (let round = 0; round < 300; round++) {
      const at = Math.floor(next() * 5900);
      const len = 1 + Math.floor(next() * 30);
      bytes.set(code(next, len).subarray(0, Math.min(len, bytes.length - at)), at);
      const end = Math.min(bytes.length, at + len);
      const full = decodeSection(bytes, 'random', opts);
      assert.deepEqual(rows(spliceDecode(ref, bytes, [at, end], opts)), rows(full), `round ${round}`);
      const lo = Math.max(0, at - 50);
      const hi = Math.min(bytes.length, end + 150);
      const inWindow = (k: number) => (full.offset[k]! >= lo && full.offset[k]! < hi) || (full.offset[k]! >= hi && (k === 0 || full.offset[k - 1]! < hi));
      assert.deepEqual(rows(spliceWindows(ref, bytes, [at, end], [lo, hi], opts)), rows(full, inWindow), `round ${round} window`);
      bytes.set(orig.subarray(at, end), at);
    }
  });

  test('no changes: the reference itself', () => {
    const bytes = code(rng(7), 1000);
    const ref = decodeSection(bytes, 'random', opts);
    assert.equal(spliceDecode(ref, bytes, [], opts), ref);
  });
});
