// SPDX-License-Identifier: GPL-2.0-only
// ORC entry encoding in the three bit layouts, checked against gcc's own layout of the kernel's
// struct orc_entry bitfields (orc_types.h of 6.1, 6.3 and 6.4+) for every register, type,
// signal and end combination, including values too wide for their fields.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { layoutByName } from '../kernel/versions.js';
import { makeTempDir, removeDir } from '../testing/toolchain.js';
import {
  ORC_REG_AX, ORC_REG_BP_INDIRECT, ORC_REG_PREV_SP, ORC_REG_SP, orcRegFromRaw, orcRegToRaw,
  encodeOrcEntry, loadOrcKey, ORC_ENTRY_SIZE, type OrcEntry, orcFlags, orcKey, packOrcEntry, storeOrcKey, unpackOrcEntry, zeroOrcEntry,
} from './entry.js';

const L61 = layoutByName('6.1')!.orc;
const L63 = layoutByName('6.3')!.orc;
const L64 = layoutByName('6.4')!.orc;
const L612 = layoutByName('6.12')!.orc;

// The kernel's struct orc_entry of each era (little-endian bitfield order), compiled by gcc.
const ORACLE_C = `
#include <stdio.h>
#include <string.h>
struct e61 { short sp_offset; short bp_offset; unsigned sp_reg:4; unsigned bp_reg:4; unsigned type:2; unsigned end:1; } __attribute__((packed));
struct e63 { short sp_offset; short bp_offset; unsigned sp_reg:4; unsigned bp_reg:4; unsigned type:2; unsigned signal:1; unsigned end:1; } __attribute__((packed));
struct e64 { short sp_offset; short bp_offset; unsigned sp_reg:4; unsigned bp_reg:4; unsigned type:3; unsigned signal:1; } __attribute__((packed));
static void hex(const void *p) { const unsigned char *b = p; for (int i = 0; i < 6; i++) printf("%02x", b[i]); }
int main(void)
{
	int sp, bp; unsigned spr, bpr, type, sig, end;
	if (sizeof(struct e61) != 6 || sizeof(struct e63) != 6 || sizeof(struct e64) != 6) return 1;
	while (scanf("%d %d %u %u %u %u %u", &sp, &bp, &spr, &bpr, &type, &sig, &end) == 7) {
		struct e61 a; struct e63 b; struct e64 c;
		memset(&a, 0, 6); memset(&b, 0, 6); memset(&c, 0, 6);
		a.sp_offset = b.sp_offset = c.sp_offset = sp;
		a.bp_offset = b.bp_offset = c.bp_offset = bp;
		a.sp_reg = b.sp_reg = c.sp_reg = spr;
		a.bp_reg = b.bp_reg = c.bp_reg = bpr;
		a.type = b.type = c.type = type;
		b.signal = c.signal = sig;
		a.end = b.end = end;
		hex(&a); printf(" "); hex(&b); printf(" "); hex(&c); printf("\\n");
	}
	return 0;
}
`;

const OFFSETS = [0, 8, -8, 16, -16, 336, 32767, -32768, 0x1234, 40000, -40000];

function combos(): OrcEntry[] {
  const out: OrcEntry[] = [];
  let k = 0;
  for (let spReg = 0; spReg < 16; spReg++) {
    for (let bpReg = 0; bpReg < 16; bpReg++) {
      for (let type = 0; type < 8; type++) {
        for (const signal of [false, true]) {
          for (const end of [false, true]) {
            out.push({
              spOffset: OFFSETS[k % OFFSETS.length]!, bpOffset: OFFSETS[(k * 7 + 3) % OFFSETS.length]!,
              spReg, bpReg, type, signal, end,
            });
            k++;
          }
        }
      }
    }
  }
  return out;
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('ORC entry encoding', () => {
  let dir = '';
  before(() => {
    dir = makeTempDir('orctool-orc-entry-');
  });
  after(() => removeDir(dir));

  test('pack matches gcc\'s layout of struct orc_entry for 6.1, 6.3 and 6.4+ on 8192 combinations', () => {
    const src = join(dir, 'oracle.c');
    const exe = join(dir, 'oracle');
    writeFileSync(src, ORACLE_C);
    execFileSync('gcc', ['-O1', '-w', '-o', exe, src]);
    const all = combos();
    const input = all.map((e) => `${e.spOffset} ${e.bpOffset} ${e.spReg} ${e.bpReg} ${e.type} ${e.signal ? 1 : 0} ${e.end ? 1 : 0}`).join('\n') + '\n';
    const lines = execFileSync(exe, { input, maxBuffer: 1 << 26 }).toString().trim().split('\n');
    assert.equal(lines.length, all.length);
    all.forEach((e, i) => {
      const [a, b, c] = lines[i]!.split(' ');
      assert.equal(hexOf(encodeOrcEntry(e, L61)), a, `6.1 ${JSON.stringify(e)}`);
      assert.equal(hexOf(encodeOrcEntry(e, L63)), b, `6.3 ${JSON.stringify(e)}`);
      assert.equal(hexOf(encodeOrcEntry(e, L64)), c, `6.4 ${JSON.stringify(e)}`);
      assert.equal(hexOf(encodeOrcEntry(e, L612)), c, `6.12 ${JSON.stringify(e)}`);
    });
  });

  test('unpack gives back every field the layout holds', () => {
    const buf = new Uint8Array(ORC_ENTRY_SIZE);
    for (const layout of [L61, L63, L64]) {
      for (const e of combos()) {
        packOrcEntry(e, layout, buf);
        const u = unpackOrcEntry(buf, 0, layout);
        assert.equal(u.spOffset, (e.spOffset << 16) >> 16);
        assert.equal(u.bpOffset, (e.bpOffset << 16) >> 16);
        // A number the era does not define reads as an unknown register that writes back as it was.
        assert.equal(orcRegToRaw(u.spReg, layout), e.spReg & 0xf);
        assert.equal(orcRegToRaw(u.bpReg, layout), e.bpReg & 0xf);
        if ((e.spReg & 0xf) <= 9) assert.equal(u.spReg, e.spReg & 0xf);
        assert.equal(u.type, e.type & ((1 << layout.typeBits) - 1));
        assert.equal(u.signal, layout.signalBit !== undefined && e.signal);
        assert.equal(u.end, layout.endBit !== undefined && e.end);
      }
    }
  });

  test('known encodings', () => {
    // sp:sp+8 bp:(und) type:call in each era.
    const call = { spOffset: 8, bpOffset: 0, spReg: 5, bpReg: 0, type: 0, signal: false, end: false };
    assert.equal(hexOf(encodeOrcEntry(call, L61)), '080000000500');
    assert.equal(hexOf(encodeOrcEntry({ ...call, type: 2 }, L612)), '080000000502');
    // 6.1 UNWIND_HINT_EMPTY: sp_reg undefined, end.
    assert.equal(hexOf(encodeOrcEntry({ ...zeroOrcEntry(), end: true }, L61)), '000000000004');
    assert.equal(hexOf(encodeOrcEntry({ ...zeroOrcEntry(), end: true }, L63)), '000000000008');
    // 6.4+ regs (partial) with signal, sp:sp+160 bp:prevsp-16.
    assert.equal(hexOf(encodeOrcEntry({ spOffset: 160, bpOffset: -16, spReg: 5, bpReg: 1, type: 4, signal: true, end: false }, L612)), 'a000f0ff150c');
    // Bits outside the fields are ignored when reading.
    const raw = new Uint8Array([8, 0, 0, 0, 0x05, 0xf8]);
    assert.deepEqual(unpackOrcEntry(raw, 0, L61), { spOffset: 8, bpOffset: 0, spReg: 5, bpReg: 0, type: 0, signal: false, end: false });
    assert.deepEqual(unpackOrcEntry(raw, 0, L612), { spOffset: 8, bpOffset: 0, spReg: 5, bpReg: 0, type: 0, signal: true, end: false });
  });

  test('7.2+ numbering: the same registers, other nibbles; AX only from 7.2', () => {
    const L73 = layoutByName('7.3')!.orc;
    const e = { spOffset: 160, bpOffset: -16, spReg: ORC_REG_SP, bpReg: ORC_REG_PREV_SP, type: 4, signal: true, end: false };
    assert.equal(hexOf(encodeOrcEntry(e, L73)), 'a000f0ff830c');
    assert.deepEqual(unpackOrcEntry(encodeOrcEntry(e, L73), 0, L73), e);
    const ax = { ...e, spReg: ORC_REG_AX, bpReg: ORC_REG_BP_INDIRECT };
    assert.equal(hexOf(encodeOrcEntry(ax, L73)), 'a000f0ffa10c');
    assert.deepEqual(unpackOrcEntry(encodeOrcEntry(ax, L73), 0, L73), ax);
    assert.equal(orcRegFromRaw(1, L612), ORC_REG_PREV_SP);
    assert.equal(orcRegFromRaw(1, L73), ORC_REG_AX);
    assert.notEqual(orcRegFromRaw(10, L612), ORC_REG_AX);
  });

  test('keys: equal bytes, equal keys; store/load round trip', () => {
    const buf = new Uint8Array(12);
    for (const e of combos().slice(0, 2000)) {
      const k = orcKey(e, L612);
      assert.ok(Number.isSafeInteger(k) && k >= 0 && k < 2 ** 48);
      storeOrcKey(k, buf, 6);
      assert.equal(loadOrcKey(buf, 6), k);
      assert.equal(hexOf(buf.subarray(6)), hexOf(encodeOrcEntry(e, L612)));
      assert.equal(Math.floor(k / 2 ** 32), orcFlags(e, L612));
    }
    assert.equal(orcKey(zeroOrcEntry(), L61), 0);
  });
});
