// SPDX-License-Identifier: GPL-2.0-only
// LengthDecoder binds iced-x86's wasm exports itself instead of going through iced's wrapper:
// these tests hold the binding to the wrapper's answers, so a different iced-x86 build fails
// here rather than decoding wrongly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Iced from 'iced-x86';
import { ICED_CODE_INVALID, ICED_NO_INVALID_CHECK, LengthDecoder } from './iced.js';
import { keepWasmExports } from './wasm-exports.js';

const require = createRequire(import.meta.url);
const iced = require('iced-x86') as typeof Iced;

// The test's view of Node's WebAssembly global (@types/node leaves it to lib.dom).
declare namespace WebAssembly {
  interface Descriptor { module?: string; name: string; kind: string }
  class Module {
    constructor(bytes: Uint8Array);
    static exports(module: Module): Descriptor[];
    static imports(module: Module): Descriptor[];
  }
}

/** Lengths (0 for invalid) and the positions after each, through iced's own wrapper. */
function wrapperLengths(bytes: Uint8Array, starts: number[]): { len: number; next: number }[] {
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.NoInvalidCheck);
  const insn = new iced.Instruction();
  try {
    return starts.map((pos) => {
      decoder.position = pos;
      decoder.decodeOut(insn);
      return { len: insn.code === iced.Code.INVALID ? 0 : insn.length, next: decoder.position };
    });
  } finally {
    insn.free();
    decoder.free();
  }
}

/** A deterministic byte soup: every opcode byte, with prefixes and ModRM forms mixed in. */
function soup(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (i % 7 === 0 ? i >>> 3 : x) & 0xff;
  }
  return out;
}

describe('iced-x86 binding', () => {
  it('uses the constants of the wrapper', () => {
    assert.equal(ICED_CODE_INVALID, iced.Code.INVALID);
    assert.equal(ICED_NO_INVALID_CHECK, iced.DecoderOptions.NoInvalidCheck);
  });

  it('decodes every position of a byte soup as the wrapper does', () => {
    const bytes = soup(1 << 14);
    const starts = Array.from({ length: bytes.length }, (_, i) => i);
    const want = wrapperLengths(bytes, starts);
    const dec = new LengthDecoder(bytes);
    try {
      let invalid = 0;
      for (const pos of starts) {
        dec.seek(pos);
        const len = dec.next();
        if (len === 0) invalid++;
        assert.equal(len, want[pos]!.len, `length at ${pos}`);
      }
      // The soup must exercise both answers to mean anything.
      assert.ok(invalid > 100 && invalid < bytes.length - 100, `${invalid} invalid of ${bytes.length}`);
    } finally {
      dec.free();
    }
  });

  it('walks a stream front to back without seeking, as the wrapper does', () => {
    const bytes = soup(4096);
    const dec = new LengthDecoder(bytes);
    try {
      let pos = 0;
      while (pos < bytes.length) {
        const [want] = wrapperLengths(bytes, [pos]);
        const len = dec.next();
        assert.equal(len, want!.len, `length at ${pos}`);
        // After an invalid instruction the stream goes on where iced stopped, as for the wrapper.
        pos = want!.next;
        if (len === 0) dec.seek(pos);
      }
    } finally {
      dec.free();
    }
  });

  it('reports the last instruction through the wrapper for test messages', () => {
    const bytes = new Uint8Array([0x55, 0x48, 0x8b, 0x85, 0x78, 0x56, 0x34, 0x12, 0xc3]);
    const dec = new LengthDecoder(bytes);
    try {
      assert.equal(dec.next(), 1);
      assert.equal(dec.next(), 7);
      assert.deepEqual(dec.lastFieldOffsets(), { dispPos: 3, dispSize: 4, immPos: 0, immSize: 0, imm2Pos: 0, imm2Size: 0 });
      assert.match(dec.lastText(), /^mov rax,/);
    } finally {
      dec.free();
    }
  });

  it('keeps sections apart: many decoders, each freed', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = soup(256 + i);
      const dec = new LengthDecoder(bytes);
      const want = wrapperLengths(bytes, [0]);
      assert.equal(dec.next(), want[0]!.len);
      dec.free();
      dec.free(); // a second free is harmless
    }
  });
});

describe('keepWasmExports', () => {
  const wasm = readFileSync(join(dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm'));

  it('leaves exactly the exports asked for, and a module that instantiates', () => {
    const keep = new Set(['memory', 'instruction_new', 'instruction_length', '__wbg_instruction_free']);
    const module = new WebAssembly.Module(keepWasmExports(wasm, keep));
    assert.deepEqual(WebAssembly.Module.exports(module).map((e) => e.name).sort(), [...keep].sort());
    // The imports and the code are those of the original.
    assert.deepEqual(WebAssembly.Module.imports(module), WebAssembly.Module.imports(new WebAssembly.Module(wasm)));
  });

  it('refuses what is not there', () => {
    assert.throws(() => keepWasmExports(wasm, new Set(['memory', 'no_such_export'])), /1 of the exports asked for are missing/);
    assert.throws(() => keepWasmExports(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), new Set()), /not a WebAssembly 1.0 binary/);
    assert.throws(() => keepWasmExports(wasm.subarray(0, 4096), new Set()), /runs past the end/);
  });
});
