// SPDX-License-Identifier: GPL-2.0-only
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type CodeSection, Insn, InsnList } from './insn.js';

describe('InsnList', () => {
  // (a list only keeps each instruction's section and position: stand-in sections do)
  const a = { name: '.text' } as CodeSection;
  const b = { name: '.init.text' } as CodeSection;

  it('gives back the instructions pushed, in order, across sections and growth', () => {
    const list = new InsnList();
    const want: Insn[] = [];
    for (let k = 0; k < 100; k++) {
      const insn = new Insn(k % 3 ? a : b, k * 7);
      list.push(insn);
      want.push(insn);
    }
    assert.equal(list.length, 100);
    const got = [...list];
    assert.equal(got.length, 100);
    got.forEach((insn, k) => assert.ok(insn.is(want[k]) && insn.sec === want[k]!.sec, `entry ${k}`));
    list.forEach((insn, k) => assert.equal(insn.pos, want[k]!.pos));
    assert.equal(list.at(50).sec, want[50]!.sec);
  });

  it('keeps a filler NOP (no position) as the object it is', () => {
    const list = new InsnList();
    const filler = Insn.filler(a, 0x10, 3, 9);
    list.push(new Insn(a, 1));
    list.push(filler);
    assert.equal(list.at(1), filler);
    assert.equal([...list][1], filler);
  });
});
