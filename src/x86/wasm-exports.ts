// SPDX-License-Identifier: GPL-2.0-only
// A WebAssembly binary with its export section cut down to the names asked for. iced-x86's
// wasm exports 762 functions; V8 builds an exports object with all of them when it instantiates
// the module, 7 ms of every run, while length decoding calls 10. The code is not touched:
// functions that are no longer exported are still there, only unreachable from JavaScript.

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const EXPORT_SECTION = 7;

function readLeb(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length || shift > 28) throw new RangeError(`bad LEB128 at ${pos}`);
    const b = buf[pos++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value >>> 0, pos];
    shift += 7;
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/**
 * `wasm` with only the exports named in `keep`; throws if the binary is not a wasm module or
 * lacks one of them.
 */
export function keepWasmExports(wasm: Uint8Array, keep: ReadonlySet<string>): Uint8Array {
  if (wasm.length < MAGIC.length || MAGIC.some((b, i) => wasm[i] !== b)) throw new RangeError('not a WebAssembly 1.0 binary');
  // Names compared as bytes, by length first: this runs on every start-up, before the JIT.
  const wanted = new Map<number, Uint8Array[]>();
  const encoder = new TextEncoder();
  for (const name of keep) {
    const b = encoder.encode(name);
    wanted.set(b.length, [...(wanted.get(b.length) ?? []), b]);
  }
  const isWanted = (at: number, len: number): boolean => {
    const same = wanted.get(len);
    if (!same) return false;
    for (const b of same) {
      let i = 0;
      while (i < len && wasm[at + i] === b[i]) i++;
      if (i === len) return true;
    }
    return false;
  };
  const parts: Uint8Array[] = [];
  let copyFrom = 0;
  let found = 0;
  let pos = MAGIC.length;
  while (pos < wasm.length) {
    const id = wasm[pos]!;
    const [size, body] = readLeb(wasm, pos + 1);
    const end = body + size;
    if (end > wasm.length) throw new RangeError(`section ${id} at ${pos} runs past the end`);
    if (id === EXPORT_SECTION) {
      const entries: Uint8Array[] = [];
      let [count, p] = readLeb(wasm, body);
      for (; count > 0; count--) {
        const start = p;
        const [nameLen, nameAt] = readLeb(wasm, p);
        // kind byte, then the index
        [, p] = readLeb(wasm, nameAt + nameLen + 1);
        if (isWanted(nameAt, nameLen)) entries.push(wasm.subarray(start, p));
      }
      found = entries.length;
      const content = [Uint8Array.from(leb(entries.length)), ...entries];
      const length = content.reduce((n, c) => n + c.length, 0);
      parts.push(wasm.subarray(copyFrom, pos), Uint8Array.from([EXPORT_SECTION, ...leb(length)]), ...content);
      copyFrom = end;
    }
    pos = end;
  }
  if (found !== keep.size) throw new RangeError(`${keep.size - found} of the exports asked for are missing`);
  parts.push(wasm.subarray(copyFrom));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
