// SPDX-License-Identifier: GPL-2.0-only
// A section decoded in two parts (the end on a worker thread) is exactly the one linear decode:
// at every split point of a fixture (instruction boundaries or not), and on corpus modules.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assembleText, makeTempDir, removeDir } from '../testing/toolchain.js';
import { corpusAvailable, sampleModules } from '../testing/corpus.js';
import { ElfFile } from '../elf/reader.js';
import { columnsView, decodePart, decodeSection, decodeSectionSplit, sharedColumns, type DecodeOptions } from './decoder.js';
import type { DecodedSection } from './insn.js';
import { objtoolIsInFunc } from './in-func.js';
import { SplitDecode } from './split-decode.js';
import { DECODER_6_12 } from './variant.js';

// irets in and out of functions (the worker cannot ask), emulate prefixes, a bad lea, stack
// ops, branches (targets), and a last byte that is not an instruction.
const ASM = `
	.text
	.type f1, @function
f1:
	push %rbp
	mov %rsp,%rbp
	iretq
	call f1
	jne f1
	.byte 0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2
	.size f1, .-f1
outside:
	iretq
	.byte 0x48, 0x8d, 0xc3
	.type f2, @function
f2:
	sub $0x28,%rsp
	iretq
	add $0x28,%rsp
	leave
	ret
	.size f2, .-f2
	.byte 0x0f, 0x0b, 0x6b, 0x76, 0x6d, 0x0f, 0x01, 0xc1
	jmp f2
	.byte 0x06
`;

function view(ds: DecodedSection): Record<string, unknown> {
  return {
    size: ds.size, count: ds.count, error: ds.error?.objtoolMessage ?? null, offset: [...ds.offset], len: [...ds.len],
    type: [...ds.type], flags: [...ds.flags], immediate: [...ds.immediate], target: [...ds.target], dispPos: [...ds.dispPos],
    immPos: [...ds.immPos], fieldSizes: [...ds.fieldSizes], opStart: [...ds.opStart], opCount: [...ds.opCount], ops: [...ds.ops],
  };
}

/** Both ways of splitting at `mid` on this thread: private columns, and shared ones. */
function splitHere(bytes: Uint8Array, opts: DecodeOptions, mid: number, shared: boolean, name = '.text'): DecodedSection {
  const part = () => {
    const cols = shared ? sharedColumns(Math.ceil(mid / 3) + 16 + Math.ceil((bytes.length - mid) / 3) + 16) : undefined;
    return { cols, p: decodePart(bytes.slice(mid), mid, name, DECODER_6_12, cols && columnsView(cols, Math.ceil(mid / 3) + 16, cols.offset.length)) };
  };
  if (!shared) return decodeSectionSplit(bytes, name, opts, mid, () => part().p);
  const { cols, p } = part();
  return decodeSectionSplit(bytes, name, opts, mid, () => p, { cols: cols!, at: Math.ceil(mid / 3) + 16 });
}

describe('split decode', () => {
  let dir: string;
  let elf: ElfFile;
  before(() => {
    dir = makeTempDir('orctool-split-');
    elf = ElfFile.open(assembleText(ASM, dir));
  });
  after(() => removeDir(dir));

  it('equals the linear decode at every split point', () => {
    const sec = elf.sectionByName('.text')!;
    const opts: DecodeOptions = { file: 'x.o', isInFunc: objtoolIsInFunc(elf.symbols!, sec.index) };
    const whole = view(decodeSection(sec.data, '.text', opts));
    assert.ok((whole.ops as number[]).length > 0);
    assert.notEqual(whole.error, null);
    for (let mid = 1; mid < sec.size; mid++) {
      for (const shared of [false, true]) {
        assert.deepEqual(view(splitHere(sec.data, opts, mid, shared)), whole, `split at ${mid}${shared ? ', shared' : ''}`);
      }
    }
  });

  it('equals the linear decode with the end decoded on a worker thread', () => {
    const sec = elf.sectionByName('.text')!;
    const opts: DecodeOptions = { file: 'x.o', isInFunc: objtoolIsInFunc(elf.symbols!, sec.index) };
    const whole = view(decodeSection(sec.data, '.text', opts));
    const f2 = elf.symbols!.value[elf.symbols!.byNameIndex('f2')]!;
    const job = SplitDecode.start(sec.data, f2, '.text', DECODER_6_12);
    const ds = decodeSectionSplit(sec.data, '.text', opts, job.mid, () => job.wait(), job.shared);
    assert.deepEqual(view(ds), whole);
  });

  const skip = corpusAvailable('6.12-cloud') ? false : 'corpus 6.12-cloud not fetched (scripts/corpus.sh)';
  it('equals the linear decode on corpus modules, split at function starts', { skip }, () => {
    for (const path of sampleModules('6.12-cloud', 4)) {
      const m = ElfFile.fromBytes(readFileSync(path), path);
      const sec = m.sections.filter((s) => s.isExec).sort((a, b) => b.size - a.size)[0]!;
      const opts: DecodeOptions = { file: path, isInFunc: objtoolIsInFunc(m.symbols!, sec.index) };
      const whole = view(decodeSection(sec.data, sec.name, opts));
      const starts = [...m.symbols!.inSection(sec.index)].map((i) => m.symbols!.value[i]!).filter((v) => v > 0 && v < sec.size);
      for (const mid of starts.filter((_, k) => k % Math.ceil(starts.length / 8) === 0)) {
        assert.deepEqual(view(splitHere(sec.data, opts, mid, true, sec.name)), whole, `${path} ${sec.name} split at ${mid}`);
      }
    }
  });
});
