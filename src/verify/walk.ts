// SPDX-License-Identifier: GPL-2.0-only
// The walk of one function in one variant's code: the frame interpreter (frame.ts) follows
// every path from the entry (or, for a variant, from what it changes: see Incremental) and at
// each instruction boundary judges its frame against the ORC entry the kernel's lookup picks
// (the rightmost entry at or below the address, as orc_find()).
// Unwind hints (.discard.unwind_hints) say what the frame is where the code itself cannot: the
// walk takes a FUNC hint, or a CALL hint based on %rsp, as the frame there (and RESTORE as the
// frame of its SAVE), as the kernel's table does; other hints give frames that are not modelled,
// and the boundaries they reach are unverified. Like objtool, walks also start at hints that
// the function's entry does not reach (the code after a SYSCALL).
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout } from '../kernel/versions.js';
import { type OrcEntry, orcRegFromRaw, unpackOrcEntry, ORC_TYPE_CALL, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL, ORC_V1_TYPE_CALL, ORC_V1_TYPE_REGS, ORC_V1_TYPE_REGS_PARTIAL, ORC_REG_BP, ORC_REG_BP_INDIRECT, ORC_REG_PREV_SP, ORC_REG_R10, ORC_REG_R13, ORC_REG_SP, ORC_REG_UNDEFINED, ORC_TYPE_UNDEFINED, ORC_TYPE_END_OF_STACK } from '../orc/entry.js';
import { InsnType, type DecodedSection, indexAt } from '../x86/index.js';
import { callFrame, entryFrame, type Frame, frameKey, opaqueFrame, pushed, regsFrame, sameFrame, step } from './frame.js';
import { anyDefinedEntry, describeEntry, orcCursor, orcFind, type Table } from './orc-table.js';
import type { Traps } from './traps.js';
import type { Func, FuncIndex } from './functions.js';
import type { CodeRefs } from './code-refs.js';
import type { Hints, HintView } from './hints.js';
import { CHECKED, type CoverageMap, unverified, type VerifyReport } from './report.js';

export function describeFrame(f: Frame): string {
  const bp = f.savedBp === 'live' ? '(und)' : f.savedBp !== undefined ? `prevsp${f.savedBp}` : f.slotFromBp !== undefined ? `bp${f.slotFromBp < 0 ? '' : '+'}${f.slotFromBp}` : '?';
  const cfa = f.sp !== undefined ? `sp+${f.sp}` : f.bp !== undefined ? `bp+${f.bp}`
    : f.drapReg !== undefined && f.drapOff !== undefined ? `r${f.drapReg}+${f.drapOff}`
    : f.drapSlotFromBp !== undefined ? `(bp${f.drapSlotFromBp})` : '?';
  return `${f.regs === 1 ? 'regs ' : f.regs === 2 ? 'iret regs ' : ''}sp:${cfa} bp:${f.regs ? '(und)' : bp}`;
}

type Verdict = 'match' | 'mismatch' | 'entry type' | 'entry base' | 'frame unknown' | 'caller bp unknown' | typeof UNDEFINED_HINT_LOST;

/**
 * Why an undefined entry where the code has a frame is not called a mismatch in a linked module
 * or image: UNWIND_HINT_UNDEFINED (VMware's hypercalls, say) made it, and the hints were dropped
 * at link, so nothing here tells it from a wrong one.
 */
const UNDEFINED_HINT_LOST = 'undefined entry (its unwind hint is dropped at link)';

/** Why the boundaries of a function without any defined entry are unverified. */
const NO_ENTRIES = 'function without unwind entries (objtool skips it: STACK_FRAME_NON_STANDARD)';

/** Compare a frame with the entry the unwinder would use (`hintsLost`: a linked module or image). */
/** The entry types of a call frame, a pt_regs frame and an iret frame (Frame.regs 0, 1, 2), by table era. */
const FRAME_TYPES = { v3: [ORC_TYPE_CALL, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL], v1: [ORC_V1_TYPE_CALL, ORC_V1_TYPE_REGS, ORC_V1_TYPE_REGS_PARTIAL] };

export function judge(f: Frame, e: OrcEntry, layout: KernelLayout, hintsLost = false): Verdict {
  const known = layout.orc.mapping === 'v3' ? FRAME_TYPES.v3 : FRAME_TYPES.v1;
  const want = known[f.regs]!;
  // (a pt_regs frame described as a call frame, or the other way round, unwinds wrongly)
  if (e.type !== want && (e.type === known[0] || e.type === known[1] || e.type === known[2])) return 'mismatch';
  // An undefined or end-of-stack entry where the code has a frame stops the unwinder there.
  if (e.type !== want) return hintsLost ? UNDEFINED_HINT_LOST : 'mismatch';
  if (layout.orc.mapping === 'v1' && (e.spReg === ORC_REG_UNDEFINED || e.end)) return hintsLost ? UNDEFINED_HINT_LOST : 'mismatch';
  let cfaOk: boolean;
  if (e.spReg === ORC_REG_SP) {
    if (f.sp === undefined) return 'frame unknown';
    cfaOk = e.spOffset === f.sp;
  } else if (e.spReg === ORC_REG_BP) {
    // (%rbp is no frame pointer here, while %rsp gives the CFA: an entry based on %rbp is wrong)
    if (f.bp === undefined) return f.sp !== undefined && !f.regs ? 'mismatch' : 'frame unknown';
    cfaOk = e.spOffset === f.bp;
  } else if (e.spReg === ORC_REG_R10 || e.spReg === ORC_REG_R13) {
    const reg = e.spReg === ORC_REG_R10 ? 10 : 13;
    if (f.drapReg !== reg || f.drapOff === undefined) return 'frame unknown';
    cfaOk = e.spOffset === f.drapOff;
  } else if (e.spReg === ORC_REG_BP_INDIRECT) {
    // CFA = *(%rbp + offset): the DRAP value (the CFA itself) saved in the realigned frame.
    // (The slot is recorded only when it was saved holding the CFA itself.)
    if (f.drapSlotFromBp === undefined) return 'frame unknown';
    cfaOk = e.spOffset === f.drapSlotFromBp;
  } else return 'entry base';
  if (!cfaOk) return 'mismatch';
  // pt_regs frames: %rbp is in pt_regs, the entry says nothing of it.
  if (f.regs) return e.bpReg === ORC_REG_UNDEFINED ? 'match' : 'mismatch';
  if (f.savedBp === undefined && e.bpReg === ORC_REG_BP && f.slotFromBp !== undefined) return e.bpOffset === f.slotFromBp ? 'match' : 'mismatch';
  if (f.savedBp === undefined) return 'caller bp unknown';
  if (f.savedBp === 'live') return e.bpReg === ORC_REG_UNDEFINED ? 'match' : 'mismatch';
  if (e.bpReg === ORC_REG_PREV_SP) return e.bpOffset === f.savedBp ? 'match' : 'mismatch';
  if (e.bpReg === ORC_REG_BP && f.slotFromBp !== undefined) return e.bpOffset === f.slotFromBp ? 'match' : 'mismatch';
  return e.bpReg === ORC_REG_UNDEFINED ? 'mismatch' : 'entry base';
}

/** What every walk shares: the table, the hints, the report, and which entries a check relied on. */
export interface Walk {
  t: Table;
  hints: Hints;
  traps: Traps;
  layout: KernelLayout;
  r: VerifyReport;
  used: Uint8Array;
  /** With --coverage: what each boundary of the code came to, over all variants. */
  cover?: CoverageMap;
  /** Mismatches already reported (a part reached from several places is walked again). */
  reported: Set<string>;
  /** Functions by address. */
  index: FuncIndex;
  /**
   * Where static_cpu_has()'s `.altinstr_aux` test at (sec, off) jumps back to: it runs until
   * boot patching, has no ORC entries of its own, and returns into the function both ways.
   */
  auxExits: (sec: number, off: number) => { sec: number; off: number }[] | undefined;
  /** The object's unwind hints were dropped at link (a .ko, a vmlinux): see UNDEFINED_HINT_LOST. */
  hintsLost: boolean;
  /** STACK_FRAME_NON_STANDARD functions, where the annotations are still there (an object before link). */
  nonStandard: Set<Func>;
}

/** The functions STACK_FRAME_NON_STANDARD names (`names`), and their prefixes. */
export function nonStandardOf(fns: readonly Func[], names: ReadonlySet<string>): Set<Func> {
  if (!names.size) return new Set();
  return new Set(fns.filter((fn) => names.has(fn.name) || (fn.name.startsWith('__pfx_') && names.has(fn.name.slice(6)))));
}

/** Instruction types after which a path goes no further (7.x SYSRET included: a return to user space). */
const PATH_ENDS = new Uint8Array(256);
for (const t of [InsnType.RETURN, InsnType.JUMP_DYNAMIC, InsnType.CONTEXT_SWITCH, InsnType.SYSRET, InsnType.TRAP]) PATH_ENDS[t] = 1;

/** (no offsets: shared, never written to) */
const NONE: number[] = [];
/** The frame at a function's entry, shared: frames are never modified. */
const ENTRY = entryFrame();
/** Where walkFunction() unpacks the entry it judges against (walks do not nest). */
const ENTRY_SCRATCH: OrcEntry = { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, signal: false, end: false };
/** walkFunction()'s stacks of paths to follow: instruction, frame, and the instruction they come from (-1: none). */
const WORK_I: number[] = [];
const WORK_F: Frame[] = [];
const WORK_P: number[] = [];

/** Whether `off` is in the function's body or one of its .cold parts. */
function inFunc(fn: Func, off: number): boolean {
  return (off >= fn.start && off < fn.end) || (fn.cold.length > 0 && fn.cold.some((c) => off >= c.start && off < c.end));
}

/**
 * The frames of the walk going on, in the order it reached them: one list for all walks (they
 * do not nest), so that a walk allocates none (vmlinux.o: ~6 million frames, a list of each
 * function's grown a push at a time).
 */
const SEEN_POOL: Frame[] = [];
/** The walk whose frames SEEN_POOL holds. */
let poolOwner: SeenFrames | undefined;

/** A walk's frames by instruction index: has(i) once the walk has been at instruction i. */
class SeenFrames {
  private n = 0;

  constructor(private readonly stamp: Uint32Array, private readonly slot: Uint32Array, private readonly walk: number) {
    poolOwner = this;
  }

  get(i: number): Frame | undefined {
    if (this.stamp[i] !== this.walk) return undefined;
    if (poolOwner !== this) throw new Error('internal error: verify walks nested');
    return SEEN_POOL[this.slot[i]!];
  }

  has(i: number): boolean {
    return this.stamp[i] === this.walk;
  }

  set(i: number, f: Frame): void {
    if (poolOwner !== this) throw new Error('internal error: verify walks nested');
    if (this.stamp[i] === this.walk) SEEN_POOL[this.slot[i]!] = f;
    else {
      this.stamp[i] = this.walk;
      this.slot[i] = this.n;
      SEEN_POOL[this.n++] = f;
    }
  }
}

/**
 * Per decoded section, which walk (its stamp) was last at each instruction and where that walk
 * keeps its frame: reused by every walk of the section, so that a walk costs no hashing per
 * instruction (vmlinux.o: ~8 million boundaries) and allocates only its own frames' list.
 */
const seenStamps = new WeakMap<DecodedSection, { stamp: Uint32Array; slot: Uint32Array; last: number }>();

function seenFrames(ds: DecodedSection): SeenFrames {
  let s = seenStamps.get(ds);
  if (!s || s.last === 0xffffffff) seenStamps.set(ds, (s = { stamp: new Uint32Array(ds.count), slot: new Uint32Array(ds.count), last: 0 }));
  return new SeenFrames(s.stamp, s.slot, ++s.last);
}

/** Jumps that left the walked part for another part of the function: [part, offset, frame]. */
type Away = [Func, number, Frame][];

/**
 * What the original walk of a function with an alternative site keeps for its variants, by
 * instruction of its section's decoding: the frame the walk first reached it with, and the
 * instruction that path came from (+1; 0: a walk's start). Arrays, not maps: these functions
 * hold a third of vmlinux.o.
 */
export interface OriginalFrames {
  ds: DecodedSection;
  /** The function's instructions (body, .cold parts) as triples: first index, end index, their first slot in the arrays. */
  ranges: Int32Array;
  frames: (Frame | undefined)[];
  pred: Int32Array;
}

/** Where instruction i has its slot in at's arrays, -1 when it is not the function's. */
export function keptSlot(at: OriginalFrames, i: number): number {
  const r = at.ranges;
  for (let k = 0; k < r.length; k += 3) if (i >= r[k]! && i < r[k + 1]!) return r[k + 2]! + i - r[k]!;
  return -1;
}

/** One function's original walk, kept for its variants: its frames, and where its jumps (and traps, fixups, jump labels, intra-function calls) lead, as [from, to] offset pairs. */
export interface OriginalWalk {
  at: OriginalFrames;
  jumps: number[];
  /** The pairs of `jumps` (their indices) sorted by where they lead: made when a variant first asks (jumpsByTarget()). */
  byTarget?: Int32Array;
}

/** o.jumps' pairs by target (see OriginalWalk.byTarget); made again if the walk has added jumps since. */
function jumpsByTarget(o: OriginalWalk): Int32Array {
  const j = o.jumps;
  if (o.byTarget?.length !== j.length >> 1) {
    const idx = Int32Array.from({ length: j.length >> 1 }, (_, k) => k);
    idx.sort((a, b) => j[2 * a + 1]! - j[2 * b + 1]!);
    o.byTarget = idx;
  }
  return o.byTarget!;
}

/** Where instruction i is kept in o.at's arrays, -1 when the original walk did not reach it. */
function keptAt(o: OriginalWalk, i: number): number {
  const j = i >= 0 ? keptSlot(o.at, i) : -1;
  return j >= 0 && o.at.frames[j] !== undefined ? j : -1;
}

/** The original walk's frame at `off`, if it reached it. */
export function originalFrame(o: OriginalWalk, off: number): Frame | undefined {
  const j = keptAt(o, indexAt(o.at.ds, off));
  return j >= 0 ? o.at.frames[j] : undefined;
}

/**
 * A variant that differs from the original only in some ranges: its walk starts at each range
 * with the original walk's frame there and follows each path only until the path is back on the
 * original code with the original's frame. Past that point the variant is the original, already
 * judged: what a variant walk checks is what the variant changes.
 */
export interface Incremental {
  original: OriginalWalk;
  /** The changed ranges, sorted [lo, hi) pairs. */
  ranges: number[];
  /**
   * The function's code was decoded only in [lo, hi) around its change (the walk seldom goes
   * further before it is back on the original): a path that leaves it throws ESCAPED.
   */
  bounds?: [number, number];
}

/** What a walk of a variant decoded only around its change throws when a path leaves that part. */
export const ESCAPED = new Error('verify: the walk left the decoded part of the function');

/** The changed range holding `off` (its index), or -1. */
function rangeAt(ranges: readonly number[], off: number): number {
  let lo = 0;
  let hi = ranges.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[2 * mid + 1]! <= off) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranges.length >> 1 && ranges[2 * lo]! <= off ? lo : -1;
}

/** How many steps back along the original's paths incremental() takes, at most, before giving up. */
const PRED_STEPS = 1 << 16;

/**
 * Whether a variant changing `ranges` can be walked from the ranges alone. Each range must be
 * entered at its start only (no path of the original jumps into it elsewhere), and the path by
 * which the original first reached that start must touch no changed range: then the variant has
 * that path too, with the original's frames, and the frame it starts the range with is real.
 */
function incremental(o: OriginalWalk, ranges: readonly number[]): boolean {
  // The jumps into each range past its start (by target: a look-up, not a scan of every jump).
  const j = o.jumps;
  const byTarget = jumpsByTarget(o);
  for (let r = 0; r < ranges.length; r += 2) {
    const lo = ranges[r]!;
    const hi = ranges[r + 1]!;
    let a = 0;
    let b = byTarget.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (j[2 * byTarget[mid]! + 1]! <= lo) a = mid + 1;
      else b = mid;
    }
    for (; a < byTarget.length && j[2 * byTarget[a]! + 1]! < hi; a++) {
      if (rangeAt(ranges, j[2 * byTarget[a]!]!) !== r >> 1) return false;
    }
  }
  let steps = 0;
  const { ds, pred } = o.at;
  for (let r = 0; r < ranges.length; r += 2) {
    const start = keptAt(o, indexAt(ds, ranges[r]!));
    if (start < 0) continue;
    for (let i = pred[start]! - 1, j = keptAt(o, i); j >= 0; i = pred[j]! - 1, j = keptAt(o, i)) {
      if (rangeAt(ranges, ds.offset[i]!) >= 0 || ++steps > PRED_STEPS) return false;
    }
  }
  return true;
}

/**
 * `from`: the walk starts there (another part of a function, code outside functions), not at the
 * entry. `keep`: the original walk of a function with a site, kept for its variants. `inc`: a
 * variant walked from its change only (see Incremental); walked whole where that cannot be.
 */
export function walkFunction(ds: DecodedSection, rel: CodeRefs, fn: Func, w: Walk, variant: string, hv: HintView, from?: [number, Frame][], away?: Away,
  keep?: OriginalWalk, inc?: Incremental): void {
  const { t, layout, r, used } = w;
  // (the module's work stacks, from the bottom: walks do not nest)
  const workI = WORK_I;
  const workF = WORK_F;
  const workP = WORK_P;
  let top = 0;
  const push = (i: number, f: Frame, from: number): void => {
    workI[top] = i;
    workF[top] = f;
    workP[top++] = from;
  };
  const entries = t.bySection.get(fn.sec);
  const findEntry = orcCursor(entries);
  const seen = seenFrames(ds);
  // A function objtool skips (STACK_FRAME_NON_STANDARD), and its prefix, have nothing to check against. Once the
  // annotation is dropped at link, such a function is told by its having no defined entry at all.
  const skipped = !from && (w.hintsLost
    ? !anyDefinedEntry(t, entries, fn.start, fn.end, layout) && fn.cold.every((c) => !anyDefinedEntry(t, entries, c.start, c.end, layout))
    : w.nonStandard.has(fn));
  let cover: Map<number, string> | undefined;
  if (w.cover) {
    cover = w.cover.get(fn.sec);
    if (!cover) w.cover.set(fn.sec, (cover = new Map()));
  }
  const entry = ENTRY_SCRATCH;
  // (the body and the .cold parts; most functions have none, and then no list is made)
  const ranges = fn.cold.length ? [{ start: fn.start, end: fn.end }, ...fn.cold] : undefined;
  // Hints in the function (most have none: then nothing is looked up per boundary).
  const own = ranges ? ranges.flatMap((c) => w.hints.inRange(fn.sec, c.start, c.end)) : w.hints.inRange(fn.sec, fn.start, fn.end);
  const repl = hv.replacement?.get(fn.sec);
  const replOffs = repl ? [...repl].filter((o) => inFunc(fn, o)) : NONE;
  const hinted = own.length > 0 || replOffs.length > 0;
  if (inc && (hinted || !incremental(inc.original, inc.ranges))) {
    // (walked whole, from the entry: code decoded only around the change will not do)
    if (inc.bounds) throw ESCAPED;
    inc = undefined;
  }
  if (inc) {
    // (a range the original never reached: nothing before it differs, so no path reaches it here either)
    for (let k = 0; k < inc.ranges.length; k += 2) {
      const f0 = originalFrame(inc.original, inc.ranges[k]!);
      const i = f0 ? indexAt(ds, inc.ranges[k]!) : -1;
      if (i >= 0) push(i, f0!, -1);
    }
  } else if (from) {
    for (const [off, f] of from) {
      const i = indexAt(ds, off);
      if (i >= 0) push(i, f, -1);
    }
  } else {
    const i = indexAt(ds, fn.start);
    if (i >= 0) push(i, fn.opaque !== undefined ? opaqueFrame(fn.opaque) : ENTRY, -1);
  }
  if (!top) return;
  const synced = inc?.original;
  const changed = inc?.ranges ?? NONE;
  const bounds = inc?.bounds;
  /** The instruction at `off` in this function's code, -1 when none (a path there leaving bounds escapes). */
  const at = (off: number): number => {
    const ti = indexAt(ds, off);
    if (ti < 0 && bounds && inFunc(fn, off)) throw ESCAPED;
    return ti;
  };
  const jumps = keep?.jumps;
  const kept = keep?.at;
  /** A path goes on at instruction ti (not the next one) from instruction `from`. */
  const branch = (from: number, ti: number, f: Frame): void => {
    push(ti, f, from);
    jumps?.push(ds.offset[from]!, ds.offset[ti]!);
  };
  // RESTOREs reached before their SAVE: taken up again once the other paths are walked (as objtool 6.9+).
  const deferred: [number, Frame, number][] = [];
  let lastChance = false;
  /** The frame a hint at `off` sets; undefined: no hint (or SAVE); null: a RESTORE to defer. (Made only for a function with hints.) */
  const hintFrame = hinted && ((off: number): Frame | null | undefined => {
    if (repl?.has(off)) return opaqueFrame('unwind hint in a replacement');
    const h = w.hints.at(fn.sec, off);
    if (!h) return undefined;
    if (hv.patched && w.hints.inSite.has(h)) return opaqueFrame('unwind hint in an alternative site');
    switch (h.kind) {
      case 'SAVE':
        return undefined;
      case 'FUNC':
        return ENTRY;
      case 'CALL':
        // (a hint's sp_reg is in the era's numbering)
        return orcRegFromRaw(h.spReg, layout.orc) === ORC_REG_SP && !h.end ? callFrame(h.spOffset) : opaqueFrame('unwind hint CALL');
      case 'REGS':
      case 'REGS_PARTIAL':
        return orcRegFromRaw(h.spReg, layout.orc) === ORC_REG_SP && !h.end ? regsFrame(h.spOffset, h.kind === 'REGS_PARTIAL') : opaqueFrame(`unwind hint ${h.kind}`);
      case 'RESTORE': {
        const c = ranges ? ranges.find((x) => off >= x.start && off < x.end)! : fn;
        const s = w.hints.saveBefore(fn.sec, off, c.start);
        if (s === undefined) return opaqueFrame('unwind hint RESTORE without SAVE');
        const si = indexAt(ds, s);
        const saved = si >= 0 ? seen.get(si) : undefined;
        return saved ?? (lastChance ? opaqueFrame('unwind hint RESTORE before its SAVE') : null);
      }
      default:
        return opaqueFrame(`unwind hint ${h.kind}`);
    }
  });
  // A faulting instruction resumes at its __ex_table fixup with the frame it had.
  const inParts = ranges ? ranges.flatMap((c) => w.traps.fixupsIn(fn.sec, c.start, c.end)) : w.traps.fixupsIn(fn.sec, fn.start, fn.end);
  const fixups = inParts.length ? inParts.filter((x) => inFunc(fn, x[1])) : inParts;
  const jumpLabels = w.traps.jumpLabels(fn.sec);
  /** (made only for a function with fixups) */
  const walkFixups = fixups.length > 0 && ((): void => {
    for (let again = true; again;) {
      again = false;
      for (const [insn, fixup] of fixups) {
        const ii = indexAt(ds, insn);
        const fr = seen.get(ii);
        if (!fr) continue;
        const fi = at(fixup);
        if (fi < 0 || seen.has(fi)) continue;
        branch(ii, fi, fr);
        walk();
        again = true;
      }
    }
  });
  /** The last frame and entry found to match (frames are never modified: the same object, the same frame). */
  let matchedFrame: Frame | undefined;
  let matchedEntry = -1;
  const walk = (): void => {
    while (top > 0) {
      top--;
      let i = workI[top]!;
      let f = workF[top]!;
      let prevIdx = workP[top]!;
      for (;;) {
        const off = ds.offset[i]!;
        if (!inFunc(fn, off)) break;
        if (bounds && (off < bounds[0] || off >= bounds[1])) throw ESCAPED;
        if (hintFrame) {
          const hf = hintFrame(off);
          if (hf === null) {
            deferred.push([i, f, prevIdx]);
            break;
          }
          if (hf) f = hf;
        }
        const prev = seen.get(i);
        if (prev) {
          // Paths meeting with different frames: the code may be fine, but it is not verified.
          if (!sameFrame(prev, f)) unverified(r, 'paths disagree');
          break;
        }
        if (synced && rangeAt(changed, off) < 0) {
          // Back on the original code with the original's frame: judged already.
          const o = originalFrame(synced, off);
          if (o && sameFrame(o, f)) {
            seen.set(i, f);
            break;
          }
        }
        seen.set(i, f);
        if (kept) {
          const j = keptSlot(kept, i);
          if (j >= 0) {
            kept.frames[j] = f;
            kept.pred[j] = prevIdx + 1;
          }
        }
        const k = findEntry(off);
        let why: string | undefined;
        if (f.opaque !== undefined) unverified(r, (why = f.opaque));
        else if (skipped) unverified(r, (why = NO_ENTRIES));
        else if (k < 0) unverified(r, (why = 'no entry'));
        else if (f === matchedFrame && k === matchedEntry) r.checked++;
        else {
          unpackOrcEntry(t.entries, k * 6, layout.orc, entry);
          // (no hint sits at a function's first instruction: an undefined entry there is wrong even when linked)
          const v = judge(f, entry, layout, w.hintsLost && off !== fn.start);
          if (v !== 'match' && v !== 'mismatch') unverified(r, (why = v));
          else {
            r.checked++;
            used[k] = 1;
            // (the frame unchanged and the entry the same: the next boundary's verdict is this one)
            if (v === 'match') {
              matchedFrame = f;
              matchedEntry = k;
            }
            if (v === 'mismatch') {
              const where = off >= fn.start && off < fn.end ? `${fn.name}+0x${(off - fn.start).toString(16)}` : `${fn.name}.cold+0x${(off - fn.cold.find((c) => off >= c.start && off < c.end)!.start).toString(16)}`;
              const m = { location: where, variant, expected: describeFrame(f), found: describeEntry(entry, layout) };
              const key = `${m.location}|${variant}`;
              if (!w.reported.has(key)) {
                w.reported.add(key);
                r.mismatches.push(m);
              }
            }
          }
        }
        // (checked in any variant counts: a site's original may only run before boot patching)
        if (cover && (why === undefined || cover.get(off) !== CHECKED)) cover.set(off, why ?? CHECKED);
        const type = ds.type[i]!;
        // (7.x: SYSRET is a return to user space or a far transfer; SYSCALL goes on, as in objtool)
        if (PATH_ENDS[type]) break;
        // A WARN's ud2 returns to the next instruction; BUG()'s does not.
        if (type === InsnType.BUG && !w.traps.resumes(fn.sec, off, ds.len[i]!)) break;
        // Nothing runs after a call to a function known never to return (the kernel's list).
        if (type === InsnType.CALL && rel.callsNoreturn(ds, i, fn.sec, layout)) break;
        if (type === InsnType.CALL) {
          // A call inside the function (RSB stuffing, retpolines: ANNOTATE_INTRA_FUNCTION_CALL)
          // pushes its return address and goes on at its target; nothing returns after it.
          const ct = rel.jumpTarget(ds, i, fn.sec);
          // (in code outside functions, walked over its whole section: a target outside every function)
          const inside = fn.whole ? w.index.of(fn.sec, ct?.off ?? -1) < 0 : ct !== undefined && ct.off !== fn.start && inFunc(fn, ct.off);
          if (ct?.sec === fn.sec && inside) {
            const ti = at(ct.off);
            if (ti >= 0) branch(i, ti, pushed(f));
            break;
          }
        }
        const next = step(ds, i, f);
        const jl = jumpLabels?.at(off);
        if (jl !== undefined) {
          // Both ways of the site: its target and the next instruction.
          const ti = at(jl);
          if (ti >= 0) branch(i, ti, next);
          if (i + 1 < ds.count) push(i + 1, next, i);
        }
        if (type === InsnType.JUMP_CONDITIONAL || type === InsnType.JUMP_UNCONDITIONAL) {
          let target: number | undefined;
          const jt = rel.jumpTarget(ds, i, fn.sec);
          if (jt?.sec === fn.sec) target = jt.off;
          else if (jt) {
            const { sec: ts, off: to } = jt;
            const part = away ? fn.away.find((p) => p.sec === ts && to >= p.start && to < p.end) : undefined;
            if (part) away!.push([part, to, next]);
            else {
              for (const x of w.auxExits(ts, to) ?? []) {
                const xi = x.sec === fn.sec ? at(x.off) : -1;
                if (xi >= 0) branch(i, xi, next);
              }
            }
          }
          const ti = target !== undefined ? at(target) : -1;
          if (ti >= 0) branch(i, ti, next);
          if (type === InsnType.JUMP_UNCONDITIONAL) break;
        }
        f = next;
        prevIdx = i;
        i++;
        if (i >= ds.count) break;
      }
    }
  };
  walk();
  if (walkFixups) walkFixups();
  if (!hinted) return;
  lastChance = true;
  for (const [i, f, from] of deferred.reverse()) push(i, f, from);
  walk();
  if (walkFixups) walkFixups();
  // Code only a hint leads to (after a SYSCALL, say) is walked from the hint, as objtool does.
  const starts = [...own.filter((h) => h.kind !== 'SAVE').map((h) => h.off), ...replOffs].sort((a, b) => a - b);
  for (const off of starts) {
    const i = indexAt(ds, off);
    if (i < 0 || seen.has(i)) continue;
    // (The hint there replaces this frame.)
    push(i, opaqueFrame('unwind hint'), -1);
    walk();
  }
}

/** The jump targets in other sections of the straight-line snippet at `off`, up to its first unconditional jump. */
export function auxSnippetExits(ds: DecodedSection, rel: CodeRefs, sec: number, off: number): { sec: number; off: number }[] {
  const out: { sec: number; off: number }[] = [];
  for (let i = indexAt(ds, off); i >= 0 && i < ds.count; i++) {
    const type = ds.type[i]!;
    if (type === InsnType.JUMP_CONDITIONAL || type === InsnType.JUMP_UNCONDITIONAL) {
      const t = rel.jumpTarget(ds, i, sec);
      if (t && t.sec !== sec) out.push({ sec: t.sec, off: t.off });
      if (type === InsnType.JUMP_UNCONDITIONAL) break;
    } else if (type !== InsnType.OTHER && type !== InsnType.NOP) break;
  }
  return out;
}

/** Why the boundaries of a linked image's hinted functions are unverified (KernelLayout.hintedFunctions). */
export const HINT_LOST = 'unwind hint lost at link';
/** Why a linked image's code outside functions is unverified. */
export const OUTSIDE_FUNCTIONS = 'outside functions, not walked: unwind hints lost at link';

/**
 * A linked image's code outside every function (entry code, SYM_CODE) is walked from its unwind
 * hints in an object; the image has none. Its instructions to which the table gives a defined
 * frame (a CALL or pt_regs entry: what the unwinder would use, not padding) are counted as
 * unverified; the table only says which instructions to count, never what a frame is.
 */
export function countOutside(elf: ElfFile, t: Table, index: FuncIndex, decoded: (sec: number) => DecodedSection, w: Walk): void {
  const { layout, r } = w;
  const entry: OrcEntry = { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, signal: false, end: false };
  const v3 = layout.orc.mapping === 'v3';
  for (const [sec, entries] of t.bySection) {
    if (!elf.section(sec)?.isExec) continue;
    const ds = decoded(sec);
    let cover = w.cover?.get(sec);
    if (w.cover && !cover) w.cover.set(sec, (cover = new Map()));
    for (let i = 0; i < ds.count; i++) {
      const off = ds.offset[i]!;
      const k = orcFind(entries, off);
      if (k < 0 || index.of(sec, off) >= 0) continue;
      unpackOrcEntry(t.entries, k * 6, layout.orc, entry);
      const defined = v3 ? entry.type !== ORC_TYPE_UNDEFINED && entry.type !== ORC_TYPE_END_OF_STACK : entry.spReg !== ORC_REG_UNDEFINED && !entry.end;
      if (!defined) continue;
      unverified(r, OUTSIDE_FUNCTIONS);
      cover?.set(off, OUTSIDE_FUNCTIONS);
    }
  }
}

/**
 * Walk a function and then every part of it in another section that a jump leaves for, with
 * the frame of the jump (each part, offset and frame once).
 */
/** How many (part, offset, frame) walks of one function's other parts walkWhole() makes at most. */
const AWAY_WALKS = 256;

export function walkWhole(
  ds: DecodedSection, rel: CodeRefs, fn: Func, w: Walk, variant: string, hv: HintView,
  codeOf: (sec: number) => { ds: DecodedSection; rel: CodeRefs }, keep?: OriginalWalk, inc?: Incremental,
): void {
  const away: Away = [];
  walkFunction(ds, rel, fn, w, variant, hv, undefined, away, keep, inc);
  if (!away.length) return;
  const done = new Set<string>();
  while (away.length) {
    const [part, off, frame] = away.pop()!;
    const key = `${part.sec}:${off}:${frameKey(frame)}`;
    if (done.has(key)) continue;
    // A bound on the work: parts that keep sending each other new frames (a loop between a
    // function and its .cold part that moves the stack, in damaged code) are walked so often only.
    if (done.size >= AWAY_WALKS) {
      unverified(w.r, 'walk bound reached (parts of a function entered with ever new frames)');
      break;
    }
    done.add(key);
    const c = codeOf(part.sec);
    walkFunction(c.ds, c.rel, part, w, variant, hv, [[off, frame]], away);
  }
}

