// SPDX-License-Identifier: GPL-2.0-only
// objtoolIsInFunc(): objtool's find_symbol_containing() is STT_FUNC, symbol by symbol.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assembleText, makeTempDir, removeDir } from '../testing/toolchain.js';
import { ElfFile } from '../elf/reader.js';
import { decodeSection } from './decoder.js';
import { InsnType } from './insn.js';
import { objtoolIsInFunc } from './in-func.js';

const ASM = `
	.text
	.type f1, @function
f1:
	nop
inner:				/* a zero-sized label inside f1 is not in objtool's tree */
	iretq
	.size f1, .-f1

	/* A sized STT_NOTYPE starting earlier hides the function inside it. */
entry_area:
	nop
	.type f2, @function
f2:
	iretq
	.size f2, .-f2
	.size entry_area, .-entry_area

outside:
	iretq

	/* g.cold ends where its "parent" g ends: objtool shortens g, so g.cold is found. */
g:
	nop
	.type g.cold, @function
g.cold:
	iretq
	.size g.cold, .-g.cold
	.size g, .-g

	.section .text.data_in_code, "ax"
	.type blob, @object
blob:
	iretq
	.size blob, .-blob
	.type f3, @function
f3:
	iretq
	.size f3, .-f3
`;

describe('objtoolIsInFunc', () => {
  let dir: string;
  let elf: ElfFile;
  before(() => {
    dir = makeTempDir('orctool-infunc-');
    elf = ElfFile.open(assembleText(ASM, dir));
  });
  after(() => removeDir(dir));

  const irets = (secName: string): string[] => {
    const sec = elf.sectionByName(secName)!;
    const inFunc = objtoolIsInFunc(elf.symbols!, sec.index);
    const ds = decodeSection(sec.data, sec.name, { isInFunc: inFunc });
    const out: string[] = [];
    for (let i = 0; i < ds.count; i++) {
      if (ds.len[i] === 2) out.push(ds.type[i] === InsnType.CONTEXT_SWITCH ? 'switch' : `op${ds.opCount[i]}`);
    }
    return out;
  };

  it('takes the first sized, non-section symbol holding the offset, and asks if it is STT_FUNC', () => {
    // f1, f2 (hidden by entry_area), outside, g.cold (g shortened)
    assert.deepEqual(irets('.text'), ['op1', 'switch', 'switch', 'op1']);
    assert.deepEqual(irets('.text.data_in_code'), ['switch', 'op1']);
  });

  it('differs from "some STT_FUNC holds the offset"', () => {
    const sec = elf.sectionByName('.text')!;
    const f2 = elf.symbols!.byNameIndex('f2');
    const off = elf.symbols!.value[f2]!;
    assert.equal(elf.symbols!.funcContaining(sec.index, off), f2);
    assert.equal(objtoolIsInFunc(elf.symbols!, sec.index)(off), false);
  });
});
