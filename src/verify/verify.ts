// SPDX-License-Identifier: GPL-2.0-only
// `orctool verify`: check an object's ORC table against the code the kernel can really run.
// Variants: the original bytes; each replacement of each alternative site patched in on its own;
// whole-object boot profiles. For each variant the frame interpreter follows every function from
// its entry and, at every instruction boundary it reaches, compares its frame with the ORC entry
// the kernel's lookup picks there (the rightmost entry at or below the address, as orc_find()).
// Patched code is decoded only around the bytes patching changed (splice.ts): vmlinux.o has
// thousands of sites in one 16 MB .text.
// Unwind hints (.discard.unwind_hints) say what the frame is where the code itself cannot: the
// walk takes a FUNC hint, or a CALL hint based on %rsp, as the frame there (and RESTORE as the
// frame of its SAVE), as the kernel's table does; other hints give frames that are not modelled,
// and the boundaries they reach are unverified. Like objtool, walks also start at hints that
// the function's entry does not reach (the code after a SYSCALL).
// A linked image (vmlinux) is read by address (src/elf/linked.ts: the table's ips, the special
// sections, symbols; LinkedRefs for jump and call targets; the Patcher re-targets by address) and
// walked by the same engine. Its unwind hints were discarded at link: the functions whose frame
// a hint describes (the layout's hintedFunctions) are unverified ('unwind hint lost at link'),
// and the code outside functions, walked from hints in an object, is only counted.
// Here: the walk and the variants. What it reads: orc-table.ts (the table and its lookup),
// functions.ts, code-refs.ts (where jumps and calls go), hints.ts, traps.ts (WARN, __ex_table,
// jump labels); the frame interpreter is frame.ts, patched code's decoding splice.ts.
import type { ElfFile } from '../elf/reader.js';
import { ET_EXEC } from '../elf/constants.js';
import type { KernelLayout } from '../kernel/versions.js';
import { LinkedImage, sectionSymbols } from '../elf/linked.js';
import { type OrcEntry, orcRegFromRaw, unpackOrcEntry, ORC_TYPE_CALL, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL, ORC_V1_TYPE_CALL, ORC_V1_TYPE_REGS, ORC_V1_TYPE_REGS_PARTIAL, ORC_REG_BP, ORC_REG_BP_INDIRECT, ORC_REG_PREV_SP, ORC_REG_R10, ORC_REG_R13, ORC_REG_SP, ORC_REG_UNDEFINED, ORC_TYPE_UNDEFINED, ORC_TYPE_END_OF_STACK } from '../orc/entry.js';
import { parseFeatures, Patcher, SectionState, sortedAdded } from '../patch/apply.js';
import { readUnwindHints } from '../kernel/unwind-hints.js';
import { objtoolIsInFunc } from '../x86/in-func.js';
import { UsageError } from '../errors.js';
import { decodeSection, InsnType, type DecodedSection, type DecodeOptions, indexAt } from '../x86/index.js';
import { decodeSectionSplit } from '../x86/decoder.js';
import { startSplitDecode } from '../x86/split-decode.js';
import { callFrame, entryFrame, type Frame, frameKey, opaqueFrame, pushed, regsFrame, sameFrame, step } from './frame.js';
import { spliceDecode, spliceWindows } from './splice.js';
import { anyDefinedEntry, buildTable, describeEntry, orcCursor, orcFind, type Table } from './orc-table.js';
import { Traps } from './traps.js';
import { type Func, FuncIndex, functions, nonStandardFunctions } from './functions.js';
import { type CodeRefs, LinkedRefs, RelocView } from './code-refs.js';
import { Hints, type HintView, ORIGINAL_HINTS, patchedHints } from './hints.js';
import { phase } from '../phases.js';
import { firstAtOrAfter } from '../elf/offset-index.js';
import { WalkHelper } from './walk-helper.js';

export interface Mismatch {
  location: string;
  variant: string;
  expected: string;
  found: string;
}

export interface VerifyReport {
  variants: number;
  functions: number;
  /** Instruction boundaries compared with the table. */
  checked: number;
  /** Boundaries reached where the frame or the entry could not be modelled. */
  unverified: number;
  mismatches: Mismatch[];
  /** Table entries (index) that at least one check relied on. */
  usedEntries: Set<number>;
  /** Why boundaries were unverified. */
  reasons: Record<string, number>;
  /** Functions walked (in the original code) by verify's second thread (walk-helper.ts). */
  helperFunctions?: number;
}

function unverified(r: VerifyReport, why: string): void {
  r.unverified++;
  r.reasons[why] = (r.reasons[why] ?? 0) + 1;
}

/** Whole-object boot profiles: CPU features the kernel would see. */
export const BOOT_PROFILES: Record<string, string> = {
  'bare metal': 'SMAP,SMEP,ERMS,FSRM,POPCNT,XSAVE,XSAVES,PCID,INVPCID,RDTSCP,CX16,BMI1,BMI2,AVX,AVX2,NOPL',
  'KVM guest': 'HYPERVISOR,SMAP,SMEP,ERMS,POPCNT,XSAVE,PCID,RDTSCP,CX16,NOPL',
  'Xen PV': 'HYPERVISOR,XENPV,POPCNT,CX16,NOPL',
};

function describeFrame(f: Frame): string {
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

function judge(f: Frame, e: OrcEntry, layout: KernelLayout, hintsLost = false): Verdict {
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

/** The status recorded for a boundary that was compared with the table (CoverageMap). */
export const CHECKED = 'checked';

/**
 * Per section, per instruction offset: CHECKED when some variant compared it with the table,
 * else why it was unverified (patched bytes count at their offset in the original section).
 */
export type CoverageMap = Map<number, Map<number, string>>;

/** What every walk shares: the table, the hints, the report, and which entries a check relied on. */
interface Walk {
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
function nonStandardOf(fns: readonly Func[], names: ReadonlySet<string>): Set<Func> {
  if (!names.size) return new Set();
  return new Set(fns.filter((fn) => names.has(fn.name) || (fn.name.startsWith('__pfx_') && names.has(fn.name.slice(6)))));
}

/** Instruction types after which a path goes no further (7.x SYSRET included: a return to user space). */
const PATH_ENDS = new Uint8Array(256);
for (const t of [InsnType.RETURN, InsnType.JUMP_DYNAMIC, InsnType.CONTEXT_SWITCH, InsnType.SYSRET, InsnType.TRAP]) PATH_ENDS[t] = 1;

/** A walk's frames by instruction index: seen(i) once the walk has been at instruction i. */
interface SeenFrames {
  get(i: number): Frame | undefined;
  has(i: number): boolean;
  set(i: number, f: Frame): void;
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
  const { stamp, slot } = s;
  const walk = ++s.last;
  const frames: Frame[] = [];
  return {
    get: (i) => (stamp[i] === walk ? frames[slot[i]!] : undefined),
    has: (i) => stamp[i] === walk,
    set: (i, f) => {
      if (stamp[i] === walk) frames[slot[i]!] = f;
      else {
        stamp[i] = walk;
        slot[i] = frames.length;
        frames.push(f);
      }
    },
  };
}

/** Jumps that left the walked part for another part of the function: [part, offset, frame]. */
type Away = [Func, number, Frame][];

/**
 * What the original walks of a section's functions with an alternative site keep for their
 * variants, by instruction of the section's decoding (from instruction `base` on): the frame
 * the walk first reached it with, the instruction that path came from (+1; 0: a walk's start),
 * and which function's walk that was (its index + 1). Arrays, not maps: these functions hold a
 * third of vmlinux.o. Functions that overlap another such function keep theirs apart.
 */
interface OriginalFrames {
  ds: DecodedSection;
  base: number;
  frames: (Frame | undefined)[];
  pred: Int32Array;
  owner: Int32Array;
}

/** One function's original walk, kept for its variants: its frames, and where its jumps (and traps, fixups, jump labels, intra-function calls) lead, as [from, to] offset pairs. */
interface OriginalWalk {
  at: OriginalFrames;
  /** The function's index + 1, as OriginalFrames.owner holds it. */
  tag: number;
  jumps: number[];
}

/** Where instruction i is kept in o.at's arrays, -1 when not this function's. */
function keptAt(o: OriginalWalk, i: number): number {
  const j = i - o.at.base;
  return i >= 0 && j >= 0 && j < o.at.owner.length && o.at.owner[j] === o.tag ? j : -1;
}

/** The original walk's frame at `off`, if it reached it. */
function originalFrame(o: OriginalWalk, off: number): Frame | undefined {
  const j = keptAt(o, indexAt(o.at.ds, off));
  return j >= 0 ? o.at.frames[j] : undefined;
}

/**
 * A variant that differs from the original only in some ranges: its walk starts at each range
 * with the original walk's frame there and follows each path only until the path is back on the
 * original code with the original's frame. Past that point the variant is the original, already
 * judged: what a variant walk checks is what the variant changes.
 */
interface Incremental {
  original: OriginalWalk;
  /** The changed ranges, sorted [lo, hi) pairs. */
  ranges: number[];
  /**
   * The function's code was decoded only in [lo, hi) around its change (the walk seldom goes
   * further before it is back on the original): a path that leaves it throws ESCAPED.
   */
  bounds?: [number, number];
}

/** How far past a site a one-site variant is decoded first (see Incremental.bounds). */
const AROUND_SITE = 128;

/** What a walk of a variant decoded only around its change throws when a path leaves that part. */
const ESCAPED = new Error('verify: the walk left the decoded part of the function');

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
  const j = o.jumps;
  for (let k = 0; k < j.length; k += 2) {
    const r = rangeAt(ranges, j[k + 1]!);
    if (r >= 0 && j[k + 1]! !== ranges[2 * r] && rangeAt(ranges, j[k]!) !== r) return false;
  }
  let steps = 0;
  const { ds, pred, base } = o.at;
  for (let r = 0; r < ranges.length; r += 2) {
    const start = keptAt(o, indexAt(ds, ranges[r]!));
    if (start < 0) continue;
    for (let j = keptAt(o, pred[start]! - 1); j >= 0; j = keptAt(o, pred[j]! - 1)) {
      if (rangeAt(ranges, ds.offset[j + base]!) >= 0 || ++steps > PRED_STEPS) return false;
    }
  }
  return true;
}

/**
 * `from`: the walk starts there (another part of a function, code outside functions), not at the
 * entry. `keep`: the original walk of a function with a site, kept for its variants. `inc`: a
 * variant walked from its change only (see Incremental); walked whole where that cannot be.
 */
function walkFunction(ds: DecodedSection, rel: CodeRefs, fn: Func, w: Walk, variant: string, hv: HintView, from?: [number, Frame][], away?: Away,
  keep?: OriginalWalk, inc?: Incremental): void {
  const { t, layout, r, used } = w;
  /** Paths to follow: instruction, frame, and the offset of the instruction they come from (-1: none); three stacks, no tuple per path. */
  const workI: number[] = [];
  const workF: Frame[] = [];
  const workP: number[] = [];
  const push = (i: number, f: Frame, from: number): void => {
    workI.push(i);
    workF.push(f);
    workP.push(from);
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
  const entry: OrcEntry = { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, signal: false, end: false };
  const ranges = [{ start: fn.start, end: fn.end }, ...fn.cold];
  // Hints in the function (most have none: then nothing is looked up per boundary).
  const own = fn.cold.length ? ranges.flatMap((c) => w.hints.inRange(fn.sec, c.start, c.end)) : w.hints.inRange(fn.sec, fn.start, fn.end);
  const repl = hv.replacement?.get(fn.sec);
  const replOffs = repl ? [...repl].filter((o) => ranges.some((c) => o >= c.start && o < c.end)) : [];
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
  } else {
    for (const [off, f] of from ?? [[fn.start, fn.opaque !== undefined ? opaqueFrame(fn.opaque) : entryFrame()]]) {
      const i = indexAt(ds, off);
      if (i >= 0) push(i, f, -1);
    }
  }
  if (!workI.length) return;
  const synced = inc?.original;
  const changed = inc?.ranges ?? [];
  const bounds = inc?.bounds;
  /** The instruction at `off` in this function's code, -1 when none (a path there leaving bounds escapes). */
  const at = (off: number): number => {
    const ti = indexAt(ds, off);
    if (ti < 0 && bounds && inFn(off)) throw ESCAPED;
    return ti;
  };
  const jumps = keep?.jumps;
  const kept = keep?.at;
  const tag = keep?.tag ?? 0;
  /** A path goes on at instruction ti (not the next one) from instruction `from`. */
  const branch = (from: number, ti: number, f: Frame): void => {
    push(ti, f, from);
    jumps?.push(ds.offset[from]!, ds.offset[ti]!);
  };
  // RESTOREs reached before their SAVE: taken up again once the other paths are walked (as objtool 6.9+).
  const deferred: [number, Frame, number][] = [];
  let lastChance = false;
  /** The frame a hint at `off` sets; undefined: no hint (or SAVE); null: a RESTORE to defer. */
  const hintFrame = (off: number): Frame | null | undefined => {
    if (repl?.has(off)) return opaqueFrame('unwind hint in a replacement');
    const h = w.hints.at(fn.sec, off);
    if (!h) return undefined;
    if (hv.patched && w.hints.inSite.has(h)) return opaqueFrame('unwind hint in an alternative site');
    switch (h.kind) {
      case 'SAVE':
        return undefined;
      case 'FUNC':
        return entryFrame();
      case 'CALL':
        // (a hint's sp_reg is in the era's numbering)
        return orcRegFromRaw(h.spReg, layout.orc) === ORC_REG_SP && !h.end ? callFrame(h.spOffset) : opaqueFrame('unwind hint CALL');
      case 'REGS':
      case 'REGS_PARTIAL':
        return orcRegFromRaw(h.spReg, layout.orc) === ORC_REG_SP && !h.end ? regsFrame(h.spOffset, h.kind === 'REGS_PARTIAL') : opaqueFrame(`unwind hint ${h.kind}`);
      case 'RESTORE': {
        const c = ranges.find((x) => off >= x.start && off < x.end)!;
        const s = w.hints.saveBefore(fn.sec, off, c.start);
        if (s === undefined) return opaqueFrame('unwind hint RESTORE without SAVE');
        const si = indexAt(ds, s);
        const saved = si >= 0 ? seen.get(si) : undefined;
        return saved ?? (lastChance ? opaqueFrame('unwind hint RESTORE before its SAVE') : null);
      }
      default:
        return opaqueFrame(`unwind hint ${h.kind}`);
    }
  };
  const inFn = (off: number) => (off >= fn.start && off < fn.end) || fn.cold.some((c) => off >= c.start && off < c.end);
  // A faulting instruction resumes at its __ex_table fixup with the frame it had.
  const fixups = (fn.cold.length ? ranges.flatMap((c) => w.traps.fixupsIn(fn.sec, c.start, c.end)) : w.traps.fixupsIn(fn.sec, fn.start, fn.end)).filter((x) => inFn(x[1]));
  const jumpLabels = w.traps.jumpLabels(fn.sec);
  const walkFixups = (): void => {
    if (!fixups.length) return;
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
  };
  /** The last frame and entry found to match (frames are never modified: the same object, the same frame). */
  let matchedFrame: Frame | undefined;
  let matchedEntry = -1;
  const walk = (): void => {
    while (workI.length) {
      let i = workI.pop()!;
      let f = workF.pop()!;
      let prevIdx = workP.pop()!;
      for (;;) {
        const off = ds.offset[i]!;
        if ((off < fn.start || off >= fn.end) && !fn.cold.some((c) => off >= c.start && off < c.end)) break;
        if (bounds && (off < bounds[0] || off >= bounds[1])) throw ESCAPED;
        if (hinted) {
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
          const j = i - kept.base;
          if (j >= 0 && j < kept.owner.length) {
            kept.frames[j] = f;
            kept.pred[j] = prevIdx + 1;
            kept.owner[j] = tag;
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
          const inside = fn.whole ? w.index.of(fn.sec, ct?.off ?? -1) < 0 : ct !== undefined && ct.off !== fn.start && inFn(ct.off);
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
  walkFixups();
  if (!hinted) return;
  lastChance = true;
  for (const [i, f, from] of deferred.reverse()) push(i, f, from);
  walk();
  walkFixups();
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
function auxSnippetExits(ds: DecodedSection, rel: CodeRefs, sec: number, off: number): { sec: number; off: number }[] {
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
function countOutside(elf: ElfFile, t: Table, index: FuncIndex, decoded: (sec: number) => DecodedSection, w: Walk): void {
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

function walkWhole(
  ds: DecodedSection, rel: CodeRefs, fn: Func, w: Walk, variant: string, hv: HintView,
  codeOf: (sec: number) => { ds: DecodedSection; rel: CodeRefs }, keep?: OriginalWalk, inc?: Incremental,
): void {
  const away: Away = [];
  walkFunction(ds, rel, fn, w, variant, hv, undefined, away, keep, inc);
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

/** Sorted [start, end) pairs with overlapping or touching ones merged. */
function mergeRanges(pairs: readonly number[]): number[] {
  const order = Array.from({ length: pairs.length >> 1 }, (_, k) => k).sort((a, b) => pairs[2 * a]! - pairs[2 * b]! || pairs[2 * a + 1]! - pairs[2 * b + 1]!);
  const out: number[] = [];
  for (const k of order) {
    const s = pairs[2 * k]!;
    const e = pairs[2 * k + 1]!;
    if (out.length && s <= out[out.length - 1]!) out[out.length - 1] = Math.max(out[out.length - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

/** What one walk added to the report (replayed where a boot profile's code is a one-site variant's). */
interface Outcome {
  checked: number;
  unverified: [string, number][];
  mismatches: Mismatch[];
}

function outcomeOf(r: VerifyReport, walk: () => void): Outcome {
  const checked = r.checked;
  const reasons = { ...r.reasons };
  const m = r.mismatches.length;
  walk();
  return {
    checked: r.checked - checked,
    unverified: Object.entries(r.reasons).filter(([k, n]) => n !== (reasons[k] ?? 0)).map(([k, n]) => [k, n - (reasons[k] ?? 0)]),
    mismatches: r.mismatches.slice(m),
  };
}

/** The report of a walk made again, under another variant's name. */
function replay(w: Walk, o: Outcome, variant: string): void {
  w.r.checked += o.checked;
  for (const [why, n] of o.unverified) {
    w.r.unverified += n;
    w.r.reasons[why] = (w.r.reasons[why] ?? 0) + n;
  }
  for (const m of o.mismatches) {
    const key = `${m.location}|${variant}`;
    if (w.reported.has(key)) continue;
    w.reported.add(key);
    w.r.mismatches.push({ ...m, variant });
  }
}

/**
 * Groups of .altinstructions entries whose sites overlap (the entries of one site, and sites
 * that overlap oddly): what one entry does depends only on the entries of its group before it.
 */
function altGroups(p: Patcher): { lo: number; hi: number; entries: number[] }[] {
  const order = p.alts.map((_, k) => k).sort((x, y) => p.alts[x]!.origSec - p.alts[y]!.origSec || p.alts[x]!.origOff - p.alts[y]!.origOff || x - y);
  const groupOf = new Int32Array(p.alts.length);
  const groups: { sec: number; lo: number; hi: number; entries: number[] }[] = [];
  for (const k of order) {
    const a = p.alts[k]!;
    const g = groups[groups.length - 1];
    const end = a.origOff + p.siteLen[k]!;
    if (g && g.sec === a.origSec && a.origOff < g.hi) {
      g.hi = Math.max(g.hi, end);
      g.entries.push(k);
    } else groups.push({ sec: a.origSec, lo: a.origOff, hi: end, entries: [k] });
    groupOf[k] = groups.length - 1;
  }
  // The kernel applies entries in table order.
  for (const g of groups) g.entries.sort((x, y) => x - y);
  return Array.from(groupOf, (g) => groups[g]!);
}

/**
 * Every variant, each decoded and walked only where it differs from code already decoded:
 * the original sections are decoded once; a one-site variant re-decodes only around its site
 * (in a copy of the object with every site in its unpatched form) and walks only the function
 * holding it; a boot profile re-decodes around each site it patches.
 */
/**
 * `profiles`: the boot profiles to walk (name -> feature list), instead of every one-site variant
 * and BOOT_PROFILES (the original is always walked).
 */
/** `oneThread`: no second thread for the walks (the same report, for tests). */
export function verify(elf: ElfFile, layout: KernelLayout, want: { coverage?: CoverageMap; profiles?: Record<string, string>; oneThread?: boolean } = {}): VerifyReport {
  phase('start');
  const r: VerifyReport = { variants: 0, functions: 0, checked: 0, unverified: 0, mismatches: [], usedEntries: new Set(), reasons: {} };
  const t = buildTable(elf);
  if (!t) return r;
  // vmlinux.o's big .text: its end decoded by a worker while this thread reads the rest; and
  // its functions without a site walked in the original code by another (WalkHelper).
  const split = startSplitDecode(elf, layout.decoder);
  const helper = split && !want.oneThread ? WalkHelper.start(elf, layout, split.sec, want.coverage !== undefined) : undefined;
  try {
    return verifyWith(elf, layout, want, r, t, split, helper);
  } finally {
    split?.job.cancel();
    helper?.stop();
  }
}

/**
 * Everything the walks of an object share: its functions, each section's decoding and
 * references, and the Walk. Built alike by verify and by its worker (walk-worker.ts); `given`
 * holds sections decoded elsewhere.
 */
export interface WalkContext {
  elf: ElfFile;
  layout: KernelLayout;
  t: Table;
  linked: LinkedImage | undefined;
  fns: Func[];
  w: Walk;
  patcher: Patcher;
  optsOf: (sec: number) => DecodeOptions;
  viewOf: (sec: number, st?: SectionState) => CodeRefs;
  decoded: (sec: number) => DecodedSection;
  relocsOf: (sec: number) => CodeRefs;
  /** Other parts of a function are walked in their original code, whatever the variant. */
  originalCode: (sec: number) => { ds: DecodedSection; rel: CodeRefs };
  /** The functions with an alternative site (indices into fns), by .altinstructions entry (-1: none). */
  fnOf: number[];
}

export function walkContext(elf: ElfFile, layout: KernelLayout, t: Table, r: VerifyReport, coverage: CoverageMap | undefined,
  split?: ReturnType<typeof startSplitDecode>, given?: Map<number, DecodedSection>): WalkContext {
  // (a linked image's symbols by section offset, as an object's)
  const linked = LinkedImage.of(elf);
  const syms = sectionSymbols(elf)!;
  phase('table');
  const fns = functions(elf, syms);
  r.functions = fns.length;
  if (linked) {
    const lost = new Set(layout.hintedFunctions);
    for (const fn of fns) if (lost.has(fn.name)) fn.opaque = HINT_LOST;
  }
  // (iret inside a function is sync_core()'s IRET-to-self, which pops its own frame: objtool's rule)
  const optsBySec = new Map<number, DecodeOptions>();
  const optsOf = (sec: number): DecodeOptions => {
    let o = optsBySec.get(sec);
    if (!o) optsBySec.set(sec, (o = { onInvalid: 'skip', variant: layout.decoder, isInFunc: objtoolIsInFunc(syms, sec) }));
    return o;
  };
  const createdSymbols = new Map<number, number>();
  const linkedRefs = linked ? new LinkedRefs(linked, syms) : undefined;
  const viewOf = (sec: number, st?: SectionState): CodeRefs => linkedRefs
    ?? new RelocView(elf.relocationsFor(elf.section(sec)!), st ? sortedAdded(st) : [], st ? st.dropped : new Set(), syms, createdSymbols);

  const original = given ?? new Map<number, DecodedSection>();
  const decoded = (sec: number): DecodedSection => {
    let ds = original.get(sec);
    if (!ds) {
      const s = elf.section(sec)!;
      const job = split?.sec === sec ? split.job : undefined;
      ds = job ? decodeSectionSplit(s.data, s.name, optsOf(sec), job.mid, () => job.wait(), job.shared) : decodeSection(s.data, s.name, optsOf(sec));
      job?.cancel();
      original.set(sec, ds);
    }
    return ds;
  };
  const originalRelocs = new Map<number, CodeRefs>();
  const relocsOf = (sec: number): CodeRefs => {
    let v = originalRelocs.get(sec);
    if (!v) originalRelocs.set(sec, (v = viewOf(sec)));
    return v;
  };
  const patcher = new Patcher(elf, layout);
  const w: Walk = {
    t, hints: new Hints(readUnwindHints(elf, layout), patcher), traps: new Traps(elf, layout), layout, r, used: new Uint8Array(t.count),
    cover: coverage, reported: new Set(), index: new FuncIndex(fns), auxExits: () => undefined,
    // (a module linked by modpost, or a linked image: no .discard.* section is left)
    hintsLost: !elf.sections.some((s) => s.name.startsWith('.discard.')) &&
      (elf.header.type === ET_EXEC || elf.sectionByName('.gnu.linkonce.this_module') !== undefined),
    nonStandard: nonStandardOf(fns, nonStandardFunctions(elf, layout)),
  };
  const aux = elf.sectionByName('.altinstr_aux');
  if (aux) {
    const exits = new Map<number, { sec: number; off: number }[]>();
    w.auxExits = (sec, off) => {
      if (sec !== aux.index) return undefined;
      let l = exits.get(off);
      if (!l) exits.set(off, (l = auxSnippetExits(decoded(sec), relocsOf(sec), sec, off)));
      return l;
    };
  }
  const originalCode = (sec: number) => ({ ds: decoded(sec), rel: relocsOf(sec) });
  const fnOf = patcher.alts.map((a) => w.index.of(a.origSec, a.origOff));
  return { elf, layout, t, linked, fns, w, patcher, optsOf, viewOf, decoded, relocsOf, originalCode, fnOf };
}

/**
 * The functions the worker walks in the original code (walk-worker.ts): those of the big
 * section without an alternative site (their walks are kept here for the variants).
 */
export function workerFunctions(c: WalkContext, sec: number): number[] {
  const sites = new Set(c.fnOf);
  const out: number[] = [];
  c.fns.forEach((fn, fi) => {
    if (fn.sec === sec && !sites.has(fi)) out.push(fi);
  });
  return out;
}

/** Walk function fi in the original code; the mismatches it adds are tagged with fi in `tags`. */
export function walkOriginal(c: WalkContext, fi: number, tags: number[], keep?: OriginalWalk): void {
  const fn = c.fns[fi]!;
  walkWhole(c.decoded(fn.sec), c.relocsOf(fn.sec), fn, c.w, 'original', ORIGINAL_HINTS, c.originalCode, keep);
  while (tags.length < c.w.r.mismatches.length) tags.push(fi);
}

/** What the worker sends back (walk-worker.ts): its walks' part of the report. */
export interface WorkerResult {
  checked: number;
  unverified: number;
  reasons: Record<string, number>;
  mismatches: Mismatch[];
  /** The function of each mismatch (WalkContext.fns index). */
  tags: number[];
  /** Table entries its checks relied on (1 each). */
  used: Uint8Array;
  /** With --coverage: [section, offsets, what each came to]. */
  cover?: [number, number[], string[]][];
}

/** The report's first mismatches (tags.length of them, the original walks') in function order, each location once. */
function inFunctionOrder(w: Walk, tags: number[]): void {
  const ms = w.r.mismatches;
  const n = tags.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => tags[a]! - tags[b]! || a - b);
  const seen = new Set<string>();
  const kept: Mismatch[] = [];
  const keptTags: number[] = [];
  for (const k of order) {
    const key = `${ms[k]!.location}|${ms[k]!.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    w.reported.add(key);
    kept.push(ms[k]!);
    keptTags.push(tags[k]!);
  }
  // (no spreading: a damaged object can have more mismatches than a call takes arguments)
  const rest = ms.slice(n);
  ms.length = 0;
  for (const list of [kept, rest]) for (const m of list) ms.push(m);
  tags.length = 0;
  for (const x of keptTags) tags.push(x);
}

/** The worker's walks added to the report, as if made here in function order. */
function mergeWorker(w: Walk, got: WorkerResult, tags: number[]): void {
  const r = w.r;
  r.checked += got.checked;
  r.unverified += got.unverified;
  for (const [why, n] of Object.entries(got.reasons)) r.reasons[why] = (r.reasons[why] ?? 0) + n;
  for (let k = 0; k < got.used.length; k++) if (got.used[k]) w.used[k] = 1;
  if (w.cover && got.cover) {
    for (const [sec, offs, sts] of got.cover) {
      let m = w.cover.get(sec);
      if (!m) w.cover.set(sec, (m = new Map()));
      offs.forEach((off, j) => {
        if (sts[j] === CHECKED || m!.get(off) !== CHECKED) m!.set(off, sts[j]!);
      });
    }
  }
  const later = r.mismatches.splice(tags.length);
  for (const m of got.mismatches) r.mismatches.push(m);
  for (const x of got.tags) tags.push(x);
  inFunctionOrder(w, tags);
  for (const m of later) r.mismatches.push(m);
}

function verifyWith(elf: ElfFile, layout: KernelLayout, want: { coverage?: CoverageMap; profiles?: Record<string, string> }, r: VerifyReport, t: Table,
  split: ReturnType<typeof startSplitDecode>, helper: WalkHelper | undefined): VerifyReport {
  const c = walkContext(elf, layout, t, r, want.coverage, split);
  const { linked, fns, w, patcher, optsOf, viewOf, decoded, relocsOf, originalCode, fnOf } = c;
  const alts = patcher.alts;
  phase('functions, hints, traps, alternatives');
  for (const sec of new Set(fns.map((fn) => fn.sec))) decoded(sec);
  phase('decode');
  r.variants++;
  const index = w.index;
  // The original walks of the functions with a site, kept for their variants.
  const originals = new Map<number, OriginalWalk>();
  {
    // One store per section, from its first to its last such function; one of its own for a
    // function that overlaps another (its walk would overwrite the other's).
    const spans = new Map<number, [number, number, number][]>();
    for (const fi of new Set(fnOf)) {
      if (fi < 0) continue;
      const fn = fns[fi]!;
      let l = spans.get(fn.sec);
      if (!l) spans.set(fn.sec, (l = []));
      l.push([Math.min(fn.start, ...fn.cold.map((c) => c.start)), Math.max(fn.end, ...fn.cold.map((c) => c.end)), fi]);
    }
    const store = (ds: DecodedSection, lo: number, hi: number): OriginalFrames => {
      const base = Math.max(0, firstAtOrAfter(ds.offset, lo));
      const n = Math.max(0, firstAtOrAfter(ds.offset, hi) - base);
      return { ds, base, frames: new Array<Frame | undefined>(n), pred: new Int32Array(n), owner: new Int32Array(n) };
    };
    for (const [sec, l] of spans) {
      const ds = decoded(sec);
      l.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      // (sorted by start: one overlaps another when an earlier one ends past its start, or the next starts before its end)
      let maxEnd = -Infinity;
      const apart = l.map((x, k) => {
        const overlaps = x[0] < maxEnd || (k + 1 < l.length && l[k + 1]![0] < x[1]);
        maxEnd = Math.max(maxEnd, x[1]);
        return overlaps;
      });
      const shared = l.filter((_, k) => !apart[k]);
      const common = shared.length ? store(ds, shared[0]![0], Math.max(...shared.map((x) => x[1]))) : undefined;
      l.forEach(([lo, hi, fi], k) => originals.set(fi, { at: apart[k] ? store(ds, lo, hi) : common!, tag: fi + 1, jumps: [] }));
    }
  }
  // The worker's functions (see workerFunctions()), once it has the decoding; the rest here.
  const theirs = helper?.hand(decoded(helper.sec)) ? new Set(workerFunctions(c, helper.sec)) : undefined;
  /** The function of each original-walk mismatch, in order: the worker's are merged in by it. */
  const tags: number[] = [];
  fns.forEach((_, fi) => {
    if (!theirs?.has(fi)) walkOriginal(c, fi, tags, originals.get(fi));
  });

  // Code outside any function (entry code: SYM_CODE, labels) starts at unwind hints, as objtool's
  // validate_unwind_hints() walks it: one walk per section, over the whole section.
  const outside = new Map<number, number[]>();
  for (const h of w.hints.all()) {
    if (h.kind === 'SAVE' || h.kind === 'RESTORE' || index.of(h.sec, h.off) >= 0) continue;
    const sec = elf.section(h.sec);
    if (!sec?.isExec) continue;
    const l = outside.get(h.sec);
    if (l) l.push(h.off);
    else outside.set(h.sec, [h.off]);
  }
  for (const [sec, offs] of outside) {
    const s = elf.section(sec)!;
    const whole: Func = { name: s.name, sec, start: 0, end: s.size, cold: [], away: [], whole: true };
    r.functions++;
    walkFunction(decoded(sec), relocsOf(sec), whole, w, 'original', ORIGINAL_HINTS, offs.map((o) => [o, opaqueFrame('unwind hint')]));
  }
  if (linked) countOutside(elf, t, index, decoded, w);
  phase('original walk');

  const windowsOf = (list: Iterable<Func>) => mergeRanges([...list].flatMap((fn) => [fn.start, fn.end, ...fn.cold.flatMap((c) => [c.start, c.end])]));
  const groups = altGroups(patcher);
  // Every site in its unpatched form (NOPs optimized), as in each one-site variant.
  const base = patcher.run(new Set(), { select: () => false, paravirt: false });
  const sectionBytes = (sec: number) => elf.section(sec)!.data;

  // The unpatched form is decoded only in the functions with a site, where the variants and
  // profiles walk (in every function with paravirt, whose profiles walk them all).
  const siteFunctions = new Map<number, Func[]>();
  for (const fi of new Set(fnOf)) {
    if (fi < 0) continue;
    const l = siteFunctions.get(fns[fi]!.sec);
    if (l) l.push(fns[fi]!);
    else siteFunctions.set(fns[fi]!.sec, [fns[fi]!]);
  }
  const baseDecoded = new Map<number, DecodedSection>();
  const decodedBase = (sec: number): DecodedSection => {
    let ref = baseDecoded.get(sec);
    const b = base.get(sec)!;
    if (!ref) {
      ref = layout.hasParainstructions ? spliceDecode(decoded(sec), b.bytes, mergeRanges(b.written), optsOf(sec))
        : spliceWindows(decoded(sec), b.bytes, mergeRanges(b.written), windowsOf(siteFunctions.get(sec) ?? []), optsOf(sec));
      baseDecoded.set(sec, ref);
    }
    return ref;
  };
  for (const [k, a] of alts.entries()) if (fnOf[k]! >= 0) decodedBase(a.origSec);
  phase('unpatched sites');
  /** By entry: what its one-site variant's walk found. */
  const outcomes = new Map<number, Outcome>();
  alts.forEach((a, k) => {
    const fi = fnOf[k]!;
    if (fi < 0 || want.profiles) return;
    r.variants++;
    const fn = fns[fi]!;
    const g = groups[k]!;
    const b = base.get(a.origSec)!;
    const ref = decodedBase(a.origSec);
    // Patch the group in place from the original bytes, decode around it, then undo.
    const saved = b.bytes.slice(g.lo, g.hi);
    b.bytes.set(sectionBytes(a.origSec).subarray(g.lo, g.hi), g.lo);
    const st = new SectionState(a.origSec, b.bytes, b.relocs);
    for (const e of g.entries) patcher.patchAlt(e, st, e === k);
    const variant = `${a.section}[${a.index}] ${a.not ? '!' : ''}${a.cpuid}`;
    const rel = viewOf(a.origSec, st);
    const hv = patchedHints(w.hints, alts, (e) => e === k);
    const original = originals.get(fi)!;
    // Decoded first only around the site (its walk is back on the original code right after it,
    // nearly always), then, if a path goes further, in the whole function.
    const part = [fn, ...fn.cold].find((c) => g.lo >= c.start && g.lo < c.end);
    let o: Outcome | undefined;
    if (part) {
      const bounds: [number, number] = [g.lo, Math.min(part.end, g.hi + AROUND_SITE)];
      const ds = spliceWindows(ref, b.bytes, [g.lo, g.hi], bounds, optsOf(a.origSec));
      const probe: Walk = { ...w, r: { variants: 0, functions: 0, checked: 0, unverified: 0, mismatches: [], usedEntries: new Set(), reasons: {} }, reported: new Set() };
      try {
        walkWhole(ds, rel, fn, probe, variant, hv, originalCode, undefined, { original, ranges: [g.lo, g.hi], bounds });
        o = { checked: probe.r.checked, unverified: Object.entries(probe.r.reasons), mismatches: probe.r.mismatches };
        replay(w, o, variant);
      } catch (e) {
        if (e !== ESCAPED) throw e;
      }
    }
    if (!o) {
      const ds = spliceWindows(ref, b.bytes, [g.lo, g.hi], windowsOf([fn]), optsOf(a.origSec));
      o = outcomeOf(r, () => walkWhole(ds, rel, fn, w, variant, hv, originalCode, undefined, { original, ranges: [g.lo, g.hi] }));
    }
    b.bytes.set(saved, g.lo);
    outcomes.set(k, o);
  });
  phase('one-site variants');

  if (alts.length || layout.hasParainstructions) {
    // Up to 6.7 paravirt sites may be anywhere: every function is patched and walked whole.
    // Else a profile differs from the original only in the functions with a group it patches:
    // where that is one group, and one entry of it applies, the function's code is that entry's
    // one-site variant's, and its walk is that one's; the others are patched and walked from
    // their changed groups on (see Incremental), or whole. A function whose code an earlier
    // profile had already (the same entries apply in it) is not walked again either.
    const pv = layout.hasParainstructions;
    const unique = [...new Set(groups)];
    /** By function and the entries that apply in it (its code): what a profile's walk of it found. */
    const profileOutcomes = new Map<string, Outcome>();
    for (const [name, list] of Object.entries(want.profiles ?? BOOT_PROFILES)) {
      let features: Set<number>;
      try {
        features = parseFeatures(list, layout);
      } catch {
        if (want.profiles) throw new UsageError(`verify --profile ${name}: unknown CPU features in '${list}' for Linux ${layout.name}`);
        continue;
      }
      r.variants++;
      const variant = `profile: ${name}`;
      const applies = (k: number) => features.has(alts[k]!.cpuid) !== alts[k]!.not;
      /** Per function (index), the groups this profile patches in it. */
      const changed = new Map<number, (typeof unique)[number][]>();
      for (const g of unique) {
        const fi = fnOf[g.entries[0]!]!;
        if ((fi >= 0 || pv) && g.entries.some(applies)) {
          const l = changed.get(fi);
          if (l) l.push(g);
          else changed.set(fi, [g]);
        }
      }
      const walked: number[] = [];
      /** Per function walked: its code in this profile, as the entries that apply in its groups. */
      const codeKey = new Map<number, string>();
      for (const fi of pv ? fns.keys() : changed.keys()) {
        if (fi < 0) continue;
        const list = changed.get(fi) ?? [];
        const applied = list.map((g) => g.entries.filter(applies));
        const key = `${fi}:${applied.join(';')}`;
        const o = !pv && applied.length === 1 && applied[0]!.length === 1 ? outcomes.get(applied[0]![0]!) : profileOutcomes.get(key);
        if (o) replay(w, o, variant);
        else {
          walked.push(fi);
          codeKey.set(fi, key);
        }
      }
      // From the unpatched form, only the groups of the functions walked (every group with an
      // entry to apply, with paravirt) are patched again: what they write is all that is decoded.
      const states = new Map<number, SectionState>();
      for (const [sec, b] of base) states.set(sec, new SectionState(sec, b.bytes.slice(), b.relocs));
      for (const fi of pv ? changed.keys() : walked) {
        for (const g of changed.get(fi)!) {
          const st = states.get(alts[g.entries[0]!]!.origSec)!;
          st.bytes.set(sectionBytes(st.index).subarray(g.lo, g.hi), g.lo);
          for (const e of g.entries) patcher.patchAlt(e, st, applies(e));
        }
      }
      if (pv) {
        patcher.patchParavirt((sec) => {
          let st = states.get(sec);
          if (!st) states.set(sec, (st = patcher.state(sec)));
          return st;
        });
      }
      walked.sort((a, b) => a - b);
      const hv = patchedHints(w.hints, alts, applies);
      const walkedIn = new Map<number, Func[]>();
      for (const fi of walked) {
        const fn = fns[fi]!;
        const l = walkedIn.get(fn.sec);
        if (l) l.push(fn);
        else walkedIn.set(fn.sec, [fn]);
      }
      const code = new Map<number, { ds: DecodedSection; rel: CodeRefs }>();
      for (const fi of walked) {
        const fn = fns[fi]!;
        let c = code.get(fn.sec);
        if (!c) {
          // Decoded only where the walks go: all of it when every function is walked.
          const st = states.get(fn.sec);
          const ref = base.has(fn.sec) ? decodedBase(fn.sec) : decoded(fn.sec);
          const ds = !st ? ref
            : pv ? spliceDecode(ref, st.bytes, mergeRanges(st.written), optsOf(fn.sec))
            : spliceWindows(ref, st.bytes, mergeRanges(st.written), windowsOf(walkedIn.get(fn.sec)!), optsOf(fn.sec));
          code.set(fn.sec, (c = { ds, rel: st ? viewOf(fn.sec, st) : relocsOf(fn.sec) }));
        }
        const inc = pv ? undefined : { original: originals.get(fi)!, ranges: [...changed.get(fi)!].sort((a, b) => a.lo - b.lo).flatMap((g) => [g.lo, g.hi]) };
        profileOutcomes.set(codeKey.get(fi)!, outcomeOf(r, () => walkWhole(c.ds, c.rel, fn, w, variant, hv, originalCode, undefined, inc)));
      }
    }
  }
  phase('boot profiles');
  if (theirs) {
    // The worker's walks, merged as if made here in function order; or, without them, made here.
    const got = helper!.result();
    if (got) {
      mergeWorker(w, got, tags);
      r.helperFunctions = theirs.size;
    } else {
      const later = r.mismatches.splice(tags.length);
      for (const fi of theirs) walkOriginal(c, fi, tags);
      inFunctionOrder(w, tags);
      for (const m of later) r.mismatches.push(m);
    }
    phase('worker');
  }
  for (let k = 0; k < t.count; k++) if (w.used[k]) r.usedEntries.add(k);
  return r;
}
