// SPDX-License-Identifier: GPL-2.0-only
// fastLength() answers for iced, so it must answer as iced does: for every opcode it lists,
// under every prefix it lets through, with every ModRM byte (and SIB bytes that change the
// length), its length is iced's (and iced accepts the instruction). Forms it leaves to iced
// are only counted, so that the list cannot quietly shrink to nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LengthDecoder } from './iced.js';
import { fastLength } from './fast-length.js';

/** iced's length of the instruction at the start of `bytes` (0: invalid). */
function icedLength(bytes: Uint8Array): number {
  const d = new LengthDecoder(bytes);
  try {
    return d.next();
  } finally {
    d.free();
  }
}

const PREFIXES = [
  [], [0x66], [0x40], [0x41], [0x48], [0x4c], [0x4f], [0x66, 0x48], [0x66, 0x41], [0x2e], [0x3e], [0x64], [0x65],
  [0x26], [0x36], [0x3e, 0x48], [0x66, 0x2e], [0x66, 0x66, 0x2e], [0xf3], [0xf2], [0xf0], [0x67], [0x48, 0x66],
];
/** SIB bytes: base 5 (a disp32 with mod 0) or not, with and without an index. */
const SIBS = [0x00, 0x05, 0x24, 0x25, 0x65, 0xe5, 0xfc, 0xfd];

function* opcodes(): Generator<number[]> {
  for (let b = 0; b < 256; b++) if (b !== 0x0f) yield [b];
  for (let b = 0; b < 256; b++) yield [0x0f, b];
}

describe('fastLength', () => {
  it('gives iced\'s length for every ModRM and SIB form of the opcodes it knows, under each prefix', () => {
    const tail = new Uint8Array(16).fill(0x11);
    let fast = 0;
    let checked = 0;
    for (const op of opcodes()) {
      for (const pre of PREFIXES) {
        for (let modrm = 0; modrm < 256; modrm++) {
          const needsSib = (modrm & 7) === 4 && modrm >>> 6 !== 3;
          for (const sib of needsSib ? SIBS : [0x11]) {
            const bytes = Uint8Array.from([...pre, ...op, modrm, sib, ...tail]);
            const l = fastLength(bytes, 0, bytes.length);
            if (l === 0) continue;
            fast++;
            const want = icedLength(bytes);
            assert.equal(l, want, `${Buffer.from(bytes.subarray(0, Math.max(l, want, 4))).toString('hex')}: fastLength ${l}, iced ${want}`);
            checked++;
          }
        }
      }
    }
    // ~60 one-byte and ~50 two-byte opcodes, each under most of the prefixes.
    assert.ok(fast > 200_000, `only ${fast} forms measured without iced`);
    assert.equal(checked, fast);
  });

  it('leaves to iced what it does not know, and never reads past the end', () => {
    // endbr64 and its near misses.
    assert.equal(fastLength(Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfa]), 0, 4), 4);
    assert.equal(fastLength(Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfb]), 0, 4), 0);
    assert.equal(fastLength(Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfa]), 0, 3), 0);
    // lea with a register operand (objtool's "bad lea") is iced's to reject.
    assert.equal(fastLength(Uint8Array.from([0x48, 0x8d, 0xc0]), 0, 3), 0);
    // mov $imm64 cut short; a call whose rel32 is cut by the end.
    assert.equal(fastLength(Uint8Array.from([0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7]), 0, 9), 0);
    assert.equal(fastLength(Uint8Array.from([0xe8, 1, 2, 3, 4]), 0, 4), 0);
    assert.equal(fastLength(Uint8Array.from([0xe8, 1, 2, 3, 4]), 0, 5), 5);
    // Every cut of every form either fits or is left to iced.
    const bytes = Uint8Array.from([0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00]);
    for (let end = 1; end <= bytes.length; end++) {
      const l = fastLength(bytes, 0, end);
      assert.ok(l === 0 || l <= end, `cut at ${end}: ${l}`);
    }
    assert.equal(fastLength(bytes, 0, bytes.length), 10);
  });
});
