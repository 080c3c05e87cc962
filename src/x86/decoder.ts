// SPDX-License-Identifier: GPL-2.0-only
// Decodes an executable section front to back into the struct-of-arrays model, as objtool's
// decode_instructions() walks a section with arch_decode_instruction().
import { LengthDecoder } from './iced.js';
import { InsnFlag, InsnType, type DecodedSection } from './insn.js';
import { InsnLayout, parseLayout } from './layout.js';
import { classifyType } from './classify.js';
import { emitStackOps, OpSink } from './stack-ops.js';
import { X86DecodeError } from './errors.js';
import { DECODER_6_12, type DecoderVariant } from './variant.js';

export interface DecodeOptions {
  /** File name carried by a decode error. */
  file?: string;
  /**
   * Asked only for iret (cf): whether objtool's `find_symbol_containing(sec, offset)` is an
   * STT_FUNC. That is not "some STT_FUNC contains offset": find_symbol_containing() returns the
   * *first* symbol, in order of st_value then symbol-table index, that is defined in this
   * section, has st_size > 0 (objtool keeps zero-sized symbols out of its interval tree), is not
   * STT_SECTION, and has st_value <= offset < st_value + st_size; the answer is whether that one
   * symbol is STT_FUNC (a sized STT_NOTYPE/STT_OBJECT starting earlier hides a function).
   * objtoolIsInFunc() in in-func.ts builds exactly this from our symbol table. Inside a function
   * iret is sync_core()'s IRET-to-self: OTHER with `add $40,%rsp`; elsewhere CONTEXT_SWITCH.
   * Without the predicate every iret counts as outside a function.
   */
  isInFunc?: (offset: number) => boolean;
  /**
   * The kernel release whose decode.c to follow where releases differ (see variant.ts);
   * DECODER_6_12 when not given.
   */
  variant?: DecoderVariant;
  /**
   * What to do with bytes that are not an instruction: 'stop' there (objtool's behaviour: the
   * caller reports `error`), or 'skip' one byte and go on (for tools that scan foreign code).
   */
  onInvalid?: 'stop' | 'skip';
}

/** Decodes `bytes` (the whole contents of section `section`). Never throws for bad bytes. */
const EMULATE_PREFIX_SIZE = 5;
const XEN_EMULATE_PREFIX = [0x0f, 0x0b, 0x78, 0x65, 0x6e];
const KVM_EMULATE_PREFIX = [0x0f, 0x0b, 0x6b, 0x76, 0x6d];

function emulatePrefixAt(bytes: Uint8Array, pos: number): boolean {
  if (pos + EMULATE_PREFIX_SIZE >= bytes.length || bytes[pos] !== 0x0f || bytes[pos + 1] !== 0x0b) return false;
  const matches = (p: number[]) => p.every((b, k) => bytes[pos + k] === b);
  return matches(XEN_EMULATE_PREFIX) || matches(KVM_EMULATE_PREFIX);
}

export function decodeSection(bytes: Uint8Array, section: string, opts: DecodeOptions = {}): DecodedSection {
  const size = bytes.length;
  const isInFunc = opts.isInFunc;
  const skip = opts.onInvalid === 'skip';
  const variant = opts.variant ?? DECODER_6_12;
  let error: X86DecodeError | null = null;
  const layout = new InsnLayout(); // reused for every instruction of the section

  // Kernel code averages ~3.3 bytes an instruction: room for 3 each rarely needs growing (every
  // growth and trim copies all columns: vmlinux.o's .text has 5 million instructions).
  let cap = Math.max(64, Math.ceil(size / 3) + 16);
  let offset = new Uint32Array(cap);
  let len = new Uint8Array(cap);
  let type = new Uint8Array(cap);
  let flags = new Uint16Array(cap);
  let immediate = new Int32Array(cap);
  let target = new Int32Array(cap);
  let dispPos = new Uint8Array(cap);
  let immPos = new Uint8Array(cap);
  let fieldSizes = new Uint8Array(cap);
  let opStart = new Uint32Array(cap);
  let opCount = new Uint8Array(cap);
  const sink = new OpSink(Math.max(64, size >>> 4));

  let n = 0;
  let pos = 0;
  const dec = new LengthDecoder(bytes);
  try {
    while (pos < size) {
      if (n === cap) {
        cap = cap + (cap >>> 1) + 16;
        offset = grow(offset, new Uint32Array(cap));
        len = grow(len, new Uint8Array(cap));
        type = grow(type, new Uint8Array(cap));
        flags = grow(flags, new Uint16Array(cap));
        immediate = grow(immediate, new Int32Array(cap));
        target = grow(target, new Int32Array(cap));
        dispPos = grow(dispPos, new Uint8Array(cap));
        immPos = grow(immPos, new Uint8Array(cap));
        fieldSizes = grow(fieldSizes, new Uint8Array(cap));
        opStart = grow(opStart, new Uint32Array(cap));
        opCount = grow(opCount, new Uint8Array(cap));
      }

      // Xen/KVM "emulate prefix" (ud2; .ascii "xen"/"kvm") before an instruction: the kernel's
      // decoder reads prefix and instruction as one (insn_get_emulate_prefix()).
      const pre = emulatePrefixAt(bytes, pos) ? EMULATE_PREFIX_SIZE : 0;
      if (pre) dec.seek(pos + pre);
      let l = dec.next();
      let f = 0;
      if (l === 0) {
        // The kernel's decoder accepts lea with a register operand, and objtool only warns.
        l = badLeaLength(bytes, pos);
        if (l !== 0) {
          f = InsnFlag.BAD_LEA;
        } else {
          error ??= new X86DecodeError(opts.file ?? '<memory>', section, pos);
          if (!skip) break;
          offset[n] = pos;
          len[n] = 1;
          type[n] = InsnType.OTHER;
          flags[n] = InsnFlag.INVALID;
          opStart[n] = sink.count;
          n++;
          pos += 1;
          dec.seek(pos);
          continue;
        }
        dec.seek(pos + l);
      }

      if (pre) {
        // Decode the instruction after the prefix, then account for the prefix below.
        parseLayout(bytes, pos + pre, l, layout);
        if (layout.dispPos) layout.dispPos += pre;
        if (layout.immPos) layout.immPos += pre;
        l += pre;
      } else {
        parseLayout(bytes, pos, l, layout);
      }
      const op1 = layout.op1;
      const inFunc = op1 === 0xcf && isInFunc !== undefined && !layout.vex ? isInFunc(pos) : false;
      const t = classifyType(layout, inFunc, variant);

      if (layout.hasModrm ? layout.modrm < 0xc0 : layout.dispPos !== 0) f |= InsnFlag.MEM;
      if (layout.rip) f |= InsnFlag.RIP;
      if (layout.notrack) f |= InsnFlag.NOTRACK;
      if (layout.csPrefix) f |= InsnFlag.CS_PREFIX;
      if (layout.vex) {
        f |= InsnFlag.VEX;
      } else if (op1 === 0xc7) {
        if (l === 3 + 4 + 4) f |= InsnFlag.PV_MOV_IMM;
      } else if (op1 === 0x0f && layout.op2 === 0x38 && layout.op3 === 0xf8 &&
                 layout.nPrefix === 1 && layout.prefix0 === 0xf2) {
        f |= InsnFlag.ENQCMD;
      }

      // objtool returns before setting insn->immediate for VEX-encoded instructions.
      const imm = layout.vex ? 0 : layout.immValue;
      offset[n] = pos;
      len[n] = l;
      type[n] = t;
      immediate[n] = imm;
      if (t === InsnType.JUMP_CONDITIONAL || t === InsnType.JUMP_UNCONDITIONAL || t === InsnType.CALL) {
        f |= InsnFlag.REL_TARGET;
        target[n] = pos + l + imm; // arch_jump_destination()
      }
      flags[n] = f;
      dispPos[n] = layout.dispPos;
      immPos[n] = layout.immPos;
      fieldSizes[n] = layout.dispSize | (layout.immSize << 4);
      opStart[n] = sink.count;
      opCount[n] = emitStackOps(layout, inFunc, sink, variant);
      n++;
      pos += l;
    }
  } finally {
    dec.free();
  }

  return {
    section,
    size: error !== null && !skip ? pos : size,
    count: n,
    offset: fit(offset, n),
    len: fit(len, n),
    type: fit(type, n),
    flags: fit(flags, n),
    immediate: fit(immediate, n),
    target: fit(target, n),
    dispPos: fit(dispPos, n),
    immPos: fit(immPos, n),
    fieldSizes: fit(fieldSizes, n),
    opStart: fit(opStart, n),
    opCount: fit(opCount, n),
    ops: sink.finish(),
    error,
  };
}

type Column = Uint8Array | Uint16Array | Uint32Array | Int32Array;

function grow<T extends Column>(old: T, fresh: T): T {
  fresh.set(old as ArrayLike<number>);
  return fresh;
}

/** Exactly n long: a copy when much is unused (to free it), else a view. */
function fit<T extends Column>(a: T, n: number): T {
  return (a.length - n > (n >>> 2) ? a.slice(0, n) : a.subarray(0, n)) as T;
}

/** Length of a `lea` with a register operand at pos (iced rejects it, the kernel does not), or 0. */
function badLeaLength(bytes: Uint8Array, pos: number): number {
  let p = pos;
  const end = Math.min(bytes.length, pos + 15);
  while (p < end) {
    const b = bytes[p];
    if ((b & 0xf0) === 0x40 || b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e ||
        b === 0x64 || b === 0x65 || b === 0x66 || b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3) {
      p++;
      continue;
    }
    break;
  }
  if (p + 1 < end && bytes[p] === 0x8d && bytes[p + 1] >= 0xc0) return p + 2 - pos;
  return 0;
}
