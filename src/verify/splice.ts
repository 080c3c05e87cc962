// SPDX-License-Identifier: GPL-2.0-only
// Decoding patched code without decoding its section again. Patching changes a few short byte
// ranges; everywhere else the decoding of the reference bytes is reused. The result is exactly
// what decoding the patched section front to back gives: after a changed range, the patched
// decoding is followed until it meets an instruction boundary of the reference again (almost
// always at once), and only from there on is the reference copied.
import { InsnFlag, indexAt, OP_STRIDE, type DecodedSection, type DecodeOptions } from '../x86/index.js';
import { StretchDecoder, relTargets } from '../x86/decoder.js';

/**
 * How far past its start an instruction's decoding can look: the 5-byte Xen/KVM emulate prefix,
 * 15 bytes of instruction, and a margin. Reference instructions are reused only when no byte
 * in that reach changed.
 */
const REACH = 32;
/** The bytes at an instruction's start the decoder reads for the Xen/KVM emulate prefix. */
const EMULATE_PREFIX_REACH = 5;

/** Instructions [from, to) of `src` (its offsets are the section's). */
interface Segment {
  src: DecodedSection;
  from: number;
  to: number;
}

/**
 * The decoding of `bytes` as segments: `ref` is the decoding of bytes that equal `bytes` outside
 * `changes` (sorted, disjoint [start, end) pairs).
 */
function spliceSegments(ref: DecodedSection, bytes: Uint8Array, changes: readonly number[], opts: DecodeOptions): Segment[] {
  const segs: Segment[] = [];
  // The patched stretches, all decoded into one set of columns with section offsets; segments
  // of it get their source once it is finished.
  let patched: StretchDecoder | undefined;
  const stretches = (): StretchDecoder => {
    if (reused?.bytes === bytes && reused.opts === opts && reused.section === ref.section) reused.reset();
    else {
      reused?.free();
      reused = new StretchDecoder(bytes, ref.section, opts);
    }
    return reused;
  };
  const fromPatched: Segment[] = [];
  const done = (): Segment[] => {
    if (patched) {
      const ds = patched.finish();
      for (const seg of fromPatched) seg.src = ds;
    }
    return segs;
  };
  const size = bytes.length;
  const n = changes.length >> 1;
  const refAt = (i: number) => (i < ref.count ? ref.offset[i]! : size);
  let ri = 0; // in step with the reference at its instruction ri
  let ci = 0; // the first change that ends after the current position
  for (;;) {
    while (ci < n && changes[2 * ci + 1]! <= refAt(ri)) ci++;
    if (ci === n) {
      if (ri < ref.count) segs.push({ src: ref, from: ri, to: ref.count });
      return done();
    }
    // Reference instructions that cannot see the next change are kept as they are: those that
    // end before it (an instruction's decoding reads its own bytes, and 5 at its start for the
    // emulate prefix), and before those, any that cannot reach it (one that did not decode may
    // have read up to 15 bytes).
    const c = changes[2 * ci]!;
    let qi = lowerBound(ref, c - REACH + 1);
    while (qi < ref.count && ref.offset[qi]! < c && !(ref.flags[qi]! & (InsnFlag.INVALID | InsnFlag.BAD_LEA)) &&
      ref.offset[qi]! + Math.max(ref.len[qi]!, EMULATE_PREFIX_REACH) <= c) qi++;
    if (qi < ri) qi = ri;
    if (qi > ri) segs.push({ src: ref, from: ri, to: qi });
    let p = refAt(qi);
    if (p >= size) return done();
    patched ??= stretches();
    const pd = patched;
    /** Patched instructions [from, to) kept. */
    const keep = (from: number, to: number): void => {
      if (to <= from) return;
      const seg: Segment = { src: ref, from, to };
      segs.push(seg);
      fromPatched.push(seg);
    };
    // Decode the patched bytes from p until a boundary of both past every change in reach.
    let window = 4 * REACH;
    resync: for (;;) {
      // Ending on a reference boundary, the last instruction decoded is seldom past it, unless
      // that is far: a reference decoded only in windows has gaps.
      const want = Math.max(p, changes[2 * ci + 1]!) + window;
      const boundary = refAt(lowerBound(ref, want));
      const end = Math.min(size, boundary - want <= 2 * REACH ? boundary : want + 2 * REACH);
      const first = pd.count;
      pd.decode(p, end);
      const last = pd.count;
      // (only those well before the end are taken from this stretch: the next starts there)
      const trusted = end === size ? size : end - REACH;
      let j = first;
      for (; j < last; j++) {
        const x = pd.offsetAt(j);
        if (x >= trusted) break;
        while (ci < n && changes[2 * ci + 1]! <= x) ci++;
        if (ci === n || changes[2 * ci]! >= x + REACH) {
          const k = indexAt(ref, x);
          if (k >= 0) {
            keep(first, j);
            pd.truncate(j);
            ri = k;
            break resync;
          }
        }
      }
      keep(first, j);
      if (j === last) return done(); // the end of the section
      p = pd.offsetAt(j);
      pd.truncate(j);
      window *= 2;
    }
  }
}

/**
 * The decoder of the last splice's patched stretches, reused by the next splice of the same
 * bytes (verify's one-site variants: thousands, each patched in the same buffer). What it
 * decodes lives only until materialize() has copied it.
 */
let reused: StretchDecoder | undefined;

/** First instruction of `ds` at or after `offset`. */
function lowerBound(ds: DecodedSection, offset: number): number {
  let lo = 0;
  let hi = ds.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ds.offset[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The whole patched section, decoded. */
export function spliceDecode(ref: DecodedSection, bytes: Uint8Array, changes: readonly number[], opts: DecodeOptions): DecodedSection {
  const segs = spliceSegments(ref, bytes, changes, opts);
  // Nothing changed that decodes differently: the reference itself.
  if (segs.length === 1 && segs[0]!.src === ref && segs[0]!.from === 0 && segs[0]!.to === ref.count) return ref;
  return materialize(ref.section, bytes.length, segs);
}

/**
 * Only the instructions in `windows` (sorted [start, end) pairs), each followed by the next
 * instruction: a walk that leaves a window meets that one and stops, as it would in the whole
 * section. Instructions between windows are left out.
 */
export function spliceWindows(ref: DecodedSection, bytes: Uint8Array, changes: readonly number[], windows: readonly number[], opts: DecodeOptions): DecodedSection {
  const segs = spliceSegments(ref, bytes, changes, opts);
  const picked: Segment[] = [];
  let si = 0;
  let last: Segment | undefined;
  for (let w = 0; w < windows.length; w += 2) {
    const start = windows[w]!;
    const end = windows[w + 1]!;
    // Segments are in offset order, and so are windows.
    while (si < segs.length && segEnd(segs[si]!) <= start) si++;
    for (let s = si; s < segs.length; s++) {
      const seg = segs[s]!;
      let from = Math.max(seg.from, lowerBoundIn(seg, start));
      if (last && last.src === seg.src && from < last.to) from = last.to;
      if (from >= seg.to) continue;
      // Up to and including the first instruction at or after the end.
      const stop = Math.min(seg.to, lowerBoundIn(seg, end) + 1);
      if (last && last.src === seg.src && last.to === from) last.to = stop;
      else picked.push((last = { src: seg.src, from, to: stop }));
      if (stop < seg.to || seg.src.offset[stop - 1]! >= end) break;
    }
  }
  return materialize(ref.section, bytes.length, picked);
}

/** The offset just past the last instruction start of a segment. */
function segEnd(seg: Segment): number {
  return seg.src.offset[seg.to - 1]! + 1;
}

/** First instruction of a segment's source at or after the section offset `offset`. */
function lowerBoundIn(seg: Segment, offset: number): number {
  let lo = seg.from;
  let hi = seg.to;
  const off = seg.src.offset;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (off[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A decoding put together from segments (materialize()). The relocation-field columns, which the
 * walks never read, are copied only when asked for: a source's own are worked out by re-parsing
 * all of it (vmlinux.o's .text: ~300 ms).
 */
class Spliced implements DecodedSection {
  readonly error = null;
  private fields: { dispPos: Uint8Array; immPos: Uint8Array; fieldSizes: Uint8Array } | undefined;

  constructor(
    readonly section: string, readonly size: number, readonly count: number, readonly offset: Uint32Array, readonly len: Uint8Array,
    readonly type: Uint8Array, readonly flags: Uint16Array, readonly immediate: Int32Array,
    readonly opStart: Uint32Array, readonly opCount: Uint8Array, readonly ops: Int32Array, private readonly segs: readonly Segment[],
  ) {}

  /** (the walks work targets out as they go: relTarget()) */
  get target(): Int32Array {
    return (this.targets ??= relTargets(this.count, this.offset, this.len, this.flags, this.immediate));
  }

  private targets: Int32Array | undefined;

  get dispPos(): Uint8Array {
    return this.fieldColumns().dispPos;
  }

  get immPos(): Uint8Array {
    return this.fieldColumns().immPos;
  }

  get fieldSizes(): Uint8Array {
    return this.fieldColumns().fieldSizes;
  }

  private fieldColumns(): { dispPos: Uint8Array; immPos: Uint8Array; fieldSizes: Uint8Array } {
    if (this.fields) return this.fields;
    const count = this.count;
    const f = (this.fields = { dispPos: new Uint8Array(count), immPos: new Uint8Array(count), fieldSizes: new Uint8Array(count) });
    let k = 0;
    for (const { src, from, to } of this.segs) {
      f.dispPos.set(src.dispPos.subarray(from, to), k);
      f.immPos.set(src.immPos.subarray(from, to), k);
      f.fieldSizes.set(src.fieldSizes.subarray(from, to), k);
      k += to - from;
    }
    return f;
  }
}

/** Segments shorter than this are copied an instruction at a time (a view of each column costs more). */
const SHORT_SEGMENT = 32;

/** One DecodedSection from segments: their columns copied, stack ops renumbered. */
function materialize(section: string, size: number, segs: readonly Segment[]): DecodedSection {
  let count = 0;
  let opsLen = 0;
  for (const s of segs) {
    count += s.to - s.from;
    opsLen += opEnd(s.src, s.to) - s.src.opStart[s.from]!;
  }
  // Every column in one buffer (4-byte ones first, for alignment): verify materializes thousands
  // of small decodings, and a buffer of each column's own costs more than filling it.
  const buf = new ArrayBuffer(count * (3 * 4 + 2 + 3) + opsLen * OP_STRIDE * 4);
  const offset = new Uint32Array(buf, 0, count);
  const immediate = new Int32Array(buf, 4 * count, count);
  const opStart = new Uint32Array(buf, 8 * count, count);
  const ops = new Int32Array(buf, 12 * count, opsLen * OP_STRIDE);
  const rest = 12 * count + 4 * OP_STRIDE * opsLen;
  const flags = new Uint16Array(buf, rest, count);
  const len = new Uint8Array(buf, rest + 2 * count, count);
  const type = new Uint8Array(buf, rest + 3 * count, count);
  const opCount = new Uint8Array(buf, rest + 4 * count, count);
  let at = 0;
  let op = 0;
  for (const { src, from, to } of segs) {
    const n = to - from;
    const op0 = src.opStart[from]!;
    const op1 = opEnd(src, to);
    if (n < SHORT_SEGMENT) {
      for (let k = 0; k < n; k++) {
        const j = from + k;
        offset[at + k] = src.offset[j]!;
        len[at + k] = src.len[j]!;
        type[at + k] = src.type[j]!;
        flags[at + k] = src.flags[j]!;
        immediate[at + k] = src.immediate[j]!;
        opCount[at + k] = src.opCount[j]!;
        opStart[at + k] = src.opStart[j]! - op0 + op;
      }
      const sOps = src.ops;
      for (let k = op0 * OP_STRIDE, d = op * OP_STRIDE; k < op1 * OP_STRIDE; k++, d++) ops[d] = sOps[k]!;
    } else {
      len.set(src.len.subarray(from, to), at);
      type.set(src.type.subarray(from, to), at);
      flags.set(src.flags.subarray(from, to), at);
      immediate.set(src.immediate.subarray(from, to), at);
      opCount.set(src.opCount.subarray(from, to), at);
      offset.set(src.offset.subarray(from, to), at);
      ops.set(src.ops.subarray(op0 * OP_STRIDE, op1 * OP_STRIDE), op * OP_STRIDE);
      for (let k = 0; k < n; k++) opStart[at + k] = src.opStart[from + k]! - op0 + op;
    }
    at += n;
    op += op1 - op0;
  }
  return new Spliced(section, size, count, offset, len, type, flags, immediate, opStart, opCount, ops, segs);
}

/** Where the stack ops of instructions before `to` end. */
function opEnd(ds: DecodedSection, to: number): number {
  if (to < ds.count) return ds.opStart[to]!;
  return ds.count ? ds.opStart[ds.count - 1]! + ds.opCount[ds.count - 1]! : 0;
}
