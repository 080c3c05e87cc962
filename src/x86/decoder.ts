// SPDX-License-Identifier: GPL-2.0-only
// Decodes an executable section front to back into the struct-of-arrays model, as objtool's
// decode_instructions() walks a section with arch_decode_instruction().
import { LengthDecoder } from './iced.js';
import { InsnFlag, InsnType, OP_STRIDE, type DecodedSection, type ReleasableColumn } from './insn.js';
import { InsnLayout, parseLayout } from './layout.js';
import { fastLength } from './fast-length.js';
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

const EMULATE_PREFIX_SIZE = 5;
const XEN_EMULATE_PREFIX = [0x0f, 0x0b, 0x78, 0x65, 0x6e];
const KVM_EMULATE_PREFIX = [0x0f, 0x0b, 0x6b, 0x76, 0x6d];

function emulatePrefixAt(bytes: Uint8Array, pos: number): boolean {
  if (pos + EMULATE_PREFIX_SIZE >= bytes.length || bytes[pos] !== 0x0f || bytes[pos + 1] !== 0x0b) return false;
  const matches = (p: number[]) => p.every((b, k) => bytes[pos + k] === b);
  return matches(XEN_EMULATE_PREFIX) || matches(KVM_EMULATE_PREFIX);
}

/** Decodes `bytes` (the whole contents of section `section`). Never throws for bad bytes. */
export function decodeSection(bytes: Uint8Array, section: string, opts: DecodeOptions = {}): DecodedSection {
  const d = new Decoding(bytes, 0, section, opts, Math.ceil(bytes.length / 3) + 16);
  d.run(bytes.length);
  return d.finish();
}

/** A DecodedSection's per-instruction columns, all of one length (the capacity). */
export interface Columns {
  offset: Uint32Array;
  len: Uint8Array;
  type: Uint8Array;
  flags: Uint16Array;
  immediate: Int32Array;
  opStart: Uint32Array;
  opCount: Uint8Array;
}

export const COLUMNS = ['offset', 'len', 'type', 'flags', 'immediate', 'opStart', 'opCount'] as const;
const COLUMN_TYPES = {
  offset: Uint32Array, len: Uint8Array, type: Uint8Array, flags: Uint16Array, immediate: Int32Array,
  opStart: Uint32Array, opCount: Uint8Array,
} as const;

/** Columns of `cap` entries, in shared memory when `shared` (see sharedColumns()). */
function newColumns(cap: number, shared = false): Columns {
  const c = {} as Record<string, unknown>;
  for (const k of COLUMNS) {
    const T = COLUMN_TYPES[k];
    c[k] = shared ? new T(new SharedArrayBuffer(cap * T.BYTES_PER_ELEMENT) as unknown as ArrayBuffer) : new T(cap);
  }
  return c as unknown as Columns;
}

/**
 * Columns of `cap` entries in shared memory, for a split decode: the main thread writes the
 * section's start from index 0, the worker its end from index `at` (= columnsView()).
 */
export function sharedColumns(cap: number): Columns {
  return newColumns(cap, true);
}

/** Each column of `c` mapped by `f` (the columns alone, whatever else `c` holds). */
function mapColumns(c: Columns, f: (a: Column) => Column): Columns {
  const v = {} as Record<string, unknown>;
  for (const k of COLUMNS) v[k] = f(c[k]);
  return v as unknown as Columns;
}

/** Entries [from, to) of each column, as views. */
export function columnsView(c: Columns, from: number, to: number): Columns {
  return mapColumns(c, (a) => a.subarray(from, to));
}

/**
 * The second part of a section, [base, end), decoded elsewhere (decodePart() on a worker
 * thread), in DecodedSection's columns with section offsets. Instructions whose decoding asks
 * isInFunc (iret) were decoded as outside a function; `asked` lists them for the caller to
 * redo where the answer is yes.
 */
export interface DecodedPart extends Columns {
  base: number;
  /** Where decoding stopped: the section's end, or the undecodable offset. */
  end: number;
  count: number;
  ops: Int32Array;
  /** The undecodable offset, or -1. */
  errorAt: number;
  /** Indices of the instructions that asked isInFunc. */
  asked: Uint32Array;
  /** The columns are the ones decodePart() was given (else they outgrew them). */
  inPlace: boolean;
}

/**
 * Decodes `bytes`, the end of a section from offset `base` on, as decodeSection() would decode
 * that stretch once it reached `base` at an instruction boundary (opts.onInvalid is 'stop').
 */
export function decodePart(bytes: Uint8Array, base: number, section: string, variant: DecoderVariant, cols?: Columns): DecodedPart {
  const asked: number[] = [];
  let d: Decoding | undefined = undefined;
  d = new Decoding(bytes, base, section, {
    variant,
    isInFunc: () => {
      asked.push(d!.n);
      return false;
    },
  }, Math.ceil(bytes.length / 3) + 16, cols);
  d.run(bytes.length);
  const inPlace = d.inPlace;
  const ds = d.finish(!inPlace); // columns given stay where they are
  return {
    base, end: base + d.pos, count: ds.count, ...mapColumns(ds, (a) => a),
    ops: ds.ops, errorAt: d.errorAt >= 0 ? base + d.pos : -1, asked: Uint32Array.from(asked), inPlace,
  };
}

/**
 * decodeSection() with the section's end, from `mid` on, decoded by someone else: `part()`
 * gives that result (waiting for it) or undefined if there is none. This thread decodes up to
 * `mid`; if its last instruction does not end exactly there (or part() fails), it decodes the
 * rest itself, so the result is always what one linear decode gives.
 */
export function decodeSectionSplit(bytes: Uint8Array, section: string, opts: DecodeOptions, mid: number,
  part: () => DecodedPart | undefined, shared?: { cols: Columns; at: number }): DecodedSection {
  const size = bytes.length;
  const d = shared
    ? new Decoding(bytes, 0, section, opts, shared.at, columnsView(shared.cols, 0, shared.at))
    : new Decoding(bytes, 0, section, opts, Math.ceil(size / 3) + 16);
  d.run(mid);
  if (d.errorAt < 0 && d.pos === mid && mid < size) {
    const p = part();
    // (the worker stops at invalid bytes; skipping them, as asked, is done here)
    if (p && p.base === mid && !(p.errorAt >= 0 && opts.onInvalid === 'skip')) {
      d.append(p, shared);
      return d.finish();
    }
  }
  d.run(size);
  return d.finish();
}

/** What iced is given of the bytes at a time for stretches (a few hundred bytes each): not its 64 KB. */
const STRETCH_ICED_WINDOW = 4096;

/**
 * Short stretches of one section's bytes, decoded on demand into one set of columns, with
 * section offsets (verify decodes thousands of windows of patched code: one decodeSection() of
 * each cost a set of columns, and an offset-relative isInFunc question). Instructions are kept
 * in the order decoded; truncate() drops the last ones, finish() gives what is kept.
 */
export class StretchDecoder {
  private readonly d: Decoding;

  constructor(readonly bytes: Uint8Array, readonly section: string, readonly opts: DecodeOptions) {
    // (room for a few stretches: the section's size says nothing of how much is decoded)
    this.d = new Decoding(bytes, 0, section, opts, 256, undefined, 256, STRETCH_ICED_WINDOW);
  }

  /** Instructions kept so far. */
  get count(): number {
    return this.d.n;
  }

  /** Decodes from `pos` until an instruction starts at or after `stop`, or decoding must stop (an error, when not skipping). */
  decode(pos: number, stop: number): void {
    this.d.pos = pos;
    this.d.run(stop);
  }

  offsetAt(i: number): number {
    return this.d.offsetAt(i);
  }

  /** Drops instructions n and on. */
  truncate(n: number): void {
    this.d.truncate(n);
  }

  /**
   * The instructions kept, indexed as they were: views of the columns, good until the next
   * reset() (a caller that reuses one copies what it keeps first).
   */
  finish(): DecodedSection {
    return this.d.finish(false);
  }

  /** Back to nothing decoded, for other stretches of the same bytes (changed or not). */
  reset(): void {
    this.d.reset();
  }

  /** Frees iced's decoder: the last use. */
  free(): void {
    this.d.free();
  }
}

/** One linear decode in progress: columns, stack ops, and where it has got to. */
class Decoding {
  private readonly skip: boolean;
  private readonly variant: DecoderVariant;
  private readonly isInFunc: ((offset: number) => boolean) | undefined;
  private readonly layout = new InsnLayout(); // reused for every instruction
  /** iced, for what fastLength() does not measure: made when first needed (a few bytes' decode, as verify makes thousands of, seldom needs it). */
  private dec: LengthDecoder | undefined;
  /** Where the first undecodable bytes are (section offset; -1: none): the error object is made only when asked for (verify's splices meet thousands). */
  errorAt = -1;
  /** Instructions decoded, and the position (in `bytes`) of the next. */
  n = 0;
  pos = 0;
  private cap: number;
  private c: Columns;
  private readonly sink: OpSink;

  /** The columns are still those the constructor was given (none given: false). */
  inPlace: boolean;

  constructor(private readonly bytes: Uint8Array, private readonly base: number, private readonly section: string,
    private readonly opts: DecodeOptions, capacity: number, cols?: Columns, opCapacity = Math.ceil(bytes.length / 12),
    /** How much of the bytes iced is given at a time (undefined: its default, for decoding front to back). */
    private readonly icedWindow?: number) {
    this.skip = opts.onInvalid === 'skip';
    this.variant = opts.variant ?? DECODER_6_12;
    this.isInFunc = opts.isInFunc;
    // Kernel code averages ~3.3 bytes an instruction: room for 3 each rarely needs growing
    // (every growth and trim copies all columns: vmlinux.o's .text has 5 million instructions).
    this.inPlace = cols !== undefined;
    this.c = cols ?? newColumns(Math.max(64, capacity));
    this.cap = this.c.offset.length;
    // vmlinux.o's code has a stack op every ~14 bytes: room for one every 12 rarely grows
    // (a growth copies them all; a split decode's parts come back together in this one).
    this.sink = new OpSink(Math.max(64, opCapacity));
  }

  private grow(min: number): void {
    this.inPlace = false;
    const cap = min > 0 ? min : this.cap + (this.cap >>> 1) + 16;
    const old = this.c;
    this.c = newColumns(cap);
    for (const k of COLUMNS) (this.c[k] as Column).set(old[k] as ArrayLike<number>);
    this.cap = cap;
  }

  /** Decodes on until an instruction starts at or after `stop` (or decoding must stop). */
  run(stop: number): void {
    const bytes = this.bytes;
    const base = this.base;
    const isInFunc = this.isInFunc;
    const skip = this.skip;
    const variant = this.variant;
    const layout = this.layout;
    const sink = this.sink;
    if (this.errorAt >= 0 && !skip) return;
    let { n, pos, cap } = this;
    let { offset, len, type, flags, immediate, opStart, opCount } = this.c;
    while (pos < stop) {
      if (n === cap) {
        this.grow(0);
        cap = this.cap;
        ({ offset, len, type, flags, immediate, opStart, opCount } = this.c);
      }

      // Xen/KVM "emulate prefix" (ud2; .ascii "xen"/"kvm") before an instruction: the kernel's
      // decoder reads prefix and instruction as one (insn_get_emulate_prefix()).
      const pre = emulatePrefixAt(bytes, pos) ? EMULATE_PREFIX_SIZE : 0;
      // Most instructions are measured here; iced is asked (where it is told to) for the rest.
      let l = pre ? 0 : fastLength(bytes, pos, bytes.length);
      if (l === 0) l = (this.dec ??= new LengthDecoder(bytes, this.icedWindow)).nextAt(pos + pre);
      // 7.x's opcode map knows udb (d6, FineIBT's trap), which is invalid in iced's 64-bit mode.
      if (l === 0 && !pre && variant.udbIsBug && bytes[pos] === 0xd6) l = 1;
      let f = 0;
      if (l === 0) {
        // The kernel's decoder accepts lea with a register operand, and objtool only warns.
        l = badLeaLength(bytes, pos);
        if (l !== 0) {
          f = InsnFlag.BAD_LEA;
        } else {
          if (this.errorAt < 0) this.errorAt = base + pos;
          if (!skip) break;
          offset[n] = base + pos;
          len[n] = 1;
          type[n] = InsnType.OTHER;
          flags[n] = InsnFlag.INVALID;
          // (every column written: a StretchDecoder's columns are reused after truncate())
          immediate[n] = 0;
          opStart[n] = sink.count;
          opCount[n] = 0;
          n++;
          pos += 1;
          continue;
        }
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
      let inFunc = false;
      if (op1 === 0xcf && isInFunc !== undefined && !layout.vex) {
        this.n = n; // decodePart()'s predicate notes who asked
        inFunc = isInFunc(base + pos);
      }
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
      offset[n] = base + pos;
      len[n] = l;
      type[n] = t;
      immediate[n] = imm;
      // target, dispPos, immPos and fieldSizes are worked out when asked for (see fieldColumns()).
      if (t === InsnType.JUMP_CONDITIONAL || t === InsnType.JUMP_UNCONDITIONAL || t === InsnType.CALL) f |= InsnFlag.REL_TARGET;
      flags[n] = f;
      opStart[n] = sink.count;
      opCount[n] = emitStackOps(layout, inFunc, sink, variant);
      n++;
      pos += l;
    }
    this.n = n;
    this.pos = pos;
  }

  /**
   * Takes over a part decoded elsewhere that starts where this decoding stands; redoes the
   * instructions that asked isInFunc where it says yes.
   */
  append(p: DecodedPart, shared?: { cols: Columns; at: number }): void {
    const n0 = this.n;
    const m = p.count;
    if (shared && p.inPlace && this.inPlace) {
      // Both parts are in the shared columns, the worker's from `at`: this part (the smaller)
      // moves up to end there, and the result is a view from its new start.
      const c = shared.cols;
      const at = shared.at;
      for (const k of COLUMNS) c[k].copyWithin(at - n0, 0, n0);
      this.setColumns(columnsView(c, at - n0, at + m));
    } else {
      if (n0 + m > this.cap) this.grow(n0 + m);
      // (opStart is rebased below)
      for (const k of COLUMNS) if (k !== 'opStart') (this.c[k] as Column).set(p[k] as ArrayLike<number>, n0);
    }
    const sink = this.sink;
    const { opStart, type, flags, opCount } = this.c;
    const pOps = p.ops.length / OP_STRIDE;
    // Copies p's instructions [from, to) and their ops.
    const copy = (from: number, to: number): void => {
      const s0 = from < m ? p.opStart[from]! : pOps;
      const s1 = to < m ? p.opStart[to]! : pOps;
      const shift = sink.count - s0;
      for (let k = from; k < to; k++) opStart[n0 + k] = p.opStart[k]! + shift;
      sink.addAll(p.ops.subarray(s0 * OP_STRIDE, s1 * OP_STRIDE));
    };
    let from = 0;
    const isInFunc = this.isInFunc;
    if (isInFunc) {
      for (const k of p.asked) {
        const at = p.offset[k]!;
        if (!isInFunc(at)) continue;
        copy(from, k);
        const one = decodeSection(this.bytes.subarray(at - this.base, at - this.base + p.len[k]!), this.section,
          { isInFunc: () => true, variant: this.variant });
        type[n0 + k] = one.type[0]!;
        flags[n0 + k] = one.flags[0]!;
        opCount[n0 + k] = one.opCount[0]!;
        opStart[n0 + k] = sink.count;
        sink.addAll(one.ops);
        from = k + 1;
      }
    }
    copy(from, m);
    this.n = n0 + m;
    this.pos = p.end - this.base;
    if (p.errorAt >= 0) this.errorAt = p.errorAt;
  }

  offsetAt(i: number): number {
    return this.c.offset[i]!;
  }

  /** Drops instructions n and on (their stack ops with them). */
  truncate(n: number): void {
    if (n >= this.n) return;
    this.sink.count = this.c.opStart[n]!;
    this.n = n;
  }

  /**
   * Back to nothing decoded, the columns kept for what comes next. iced's decoder is not: it
   * holds a copy of the bytes, which may have changed since.
   */
  reset(): void {
    this.n = 0;
    this.pos = 0;
    this.sink.count = 0;
    this.errorAt = -1;
    this.free();
  }

  /** Frees iced's decoder; decoding on makes another. */
  free(): void {
    this.dec?.free();
    this.dec = undefined;
  }

  private setColumns(c: Columns): void {
    this.cap = c.offset.length;
    this.c = c;
  }

  /**
   * The result; `trim`: columns exactly n long (else views of the capacity, when given columns).
   * iced's decoder is freed (a StretchDecoder decoding on makes another).
   */
  finish(trim = true): DecodedSection {
    this.free();
    const n = this.n;
    const c = mapColumns(this.c, trim ? (a) => fitColumn(a, n) : (a) => a.subarray(0, n));
    return new Decoded(
      this.section, this.errorAt >= 0 && !this.skip ? this.pos : this.bytes.length, n,
      c.offset, c.len, c.type, c.flags, c.immediate, c.opStart, c.opCount, this.sink.finish(), this.errorAt, this.opts.file ?? '<memory>', this.bytes, this.base,
    );
  }
}

/** Relative branches' destinations, arch_jump_destination(), from the columns alone (no re-parsing: verify asks only for these). */
export function relTargets(count: number, offset: Uint32Array, len: Uint8Array, flags: Uint16Array, immediate: Int32Array): Int32Array {
  const target = new Int32Array(count);
  for (let i = 0; i < count; i++) if (flags[i]! & InsnFlag.REL_TARGET) target[i] = relTargetOf(offset, len, flags, immediate, i);
  return target;
}

/**
 * Instruction i's relative destination (target[i]) worked out when asked: verify's walks ask at
 * the jumps and calls they reach, and a column of them for all 4.6 million instructions of
 * vmlinux.o cost ~90 ms, most of it in fresh memory.
 */
export function relTarget(ds: Pick<DecodedSection, 'offset' | 'len' | 'flags' | 'immediate'>, i: number): number {
  return relTargetOf(ds.offset, ds.len, ds.flags, ds.immediate, i);
}

function relTargetOf(offset: Uint32Array, len: Uint8Array, flags: Uint16Array, immediate: Int32Array, i: number): number {
  return flags[i]! & InsnFlag.INVALID ? 0 : offset[i]! + len[i]! + immediate[i]!;
}

/**
 * A decoded section. The columns only the patcher and the verifier read (~35 MB for vmlinux.o)
 * are worked out from the bytes on first use: the check never pays for them.
 */
class Decoded implements DecodedSection {
  private targets: Int32Array | undefined;
  private fields: { dispPos: Uint8Array; immPos: Uint8Array; fieldSizes: Uint8Array } | undefined;

  constructor(
    readonly section: string,
    readonly size: number,
    readonly count: number,
    readonly offset: Uint32Array,
    readonly len: Uint8Array,
    readonly type: Uint8Array,
    readonly flags: Uint16Array,
    immediate: Int32Array,
    opStart: Uint32Array,
    opCount: Uint8Array,
    ops: Int32Array,
    private readonly errorAt: number,
    private readonly file: string,
    private readonly bytes: Uint8Array,
    private readonly base: number,
  ) {
    this.cols = { immediate, opStart, opCount, ops };
  }

  private madeError: X86DecodeError | null | undefined;

  get error(): X86DecodeError | null {
    if (this.madeError === undefined) this.madeError = this.errorAt < 0 ? null : new X86DecodeError(this.file, this.section, this.errorAt);
    return this.madeError;
  }

  /** The releasable columns, behind getters: the object's shape stays one (the walk's code is compiled for it). */
  private readonly cols: { [K in ReleasableColumn]: DecodedSection[K] | undefined };

  get immediate(): Int32Array {
    return this.cols.immediate ?? this.released('immediate');
  }

  get opStart(): Uint32Array {
    return this.cols.opStart ?? this.released('opStart');
  }

  get opCount(): Uint8Array {
    return this.cols.opCount ?? this.released('opCount');
  }

  get ops(): Int32Array {
    return this.cols.ops ?? this.released('ops');
  }

  private released(k: ReleasableColumn): never {
    throw new Error(`${this.section}: the ${k} column was released`);
  }

  releaseColumns(names: readonly ReleasableColumn[]): void {
    for (const k of names) this.cols[k] = undefined;
    if (names.includes('immediate')) this.targets = undefined;
  }

  get target(): Int32Array {
    return (this.targets ??= relTargets(this.count, this.offset, this.len, this.flags, this.immediate));
  }

  get dispPos(): Uint8Array {
    return (this.fields ??= this.fieldColumns()).dispPos;
  }

  get immPos(): Uint8Array {
    return (this.fields ??= this.fieldColumns()).immPos;
  }

  get fieldSizes(): Uint8Array {
    return (this.fields ??= this.fieldColumns()).fieldSizes;
  }

  /** What run() would have stored in these columns, instruction by instruction. */
  private fieldColumns(): NonNullable<Decoded['fields']> {
    const n = this.count;
    const dispPos = new Uint8Array(n);
    const immPos = new Uint8Array(n);
    const fieldSizes = new Uint8Array(n);
    const { bytes, base, offset, len, flags } = this;
    const l = new InsnLayout();
    for (let i = 0; i < n; i++) {
      const f = flags[i]!;
      if (f & InsnFlag.INVALID) continue;
      const pos = offset[i]! - base;
      const pre = emulatePrefixAt(bytes, pos) ? EMULATE_PREFIX_SIZE : 0;
      parseLayout(bytes, pos + pre, len[i]! - pre, l);
      dispPos[i] = l.dispPos !== 0 ? l.dispPos + pre : 0;
      immPos[i] = l.immPos !== 0 ? l.immPos + pre : 0;
      fieldSizes[i] = l.dispSize | (l.immSize << 4);
    }
    return { dispPos, immPos, fieldSizes };
  }
}

type Column = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/** Exactly n long: a copy when much is unused (to free it), else a view (small ones always: a copy costs more than it frees). */
function fitColumn<T extends Column>(a: T, n: number): T {
  const unused = a.length - n;
  return (unused > (n >>> 2) && unused > 1024 ? a.slice(0, n) : a.subarray(0, n)) as T;
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
