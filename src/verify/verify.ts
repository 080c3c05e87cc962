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
// Here: the variants. The walk of a function is walk.ts, what the walks share context.ts, the
// report report.ts, the second thread walk-helper.ts. What they read: orc-table.ts (the table
// and its lookup), functions.ts, code-refs.ts (where jumps and calls go), hints.ts, traps.ts
// (WARN, __ex_table, jump labels); the frame interpreter is frame.ts, patched code's decoding
// splice.ts.
import { availableParallelism } from 'node:os';
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout } from '../kernel/versions.js';
import { parseFeatures, type Patcher, SectionState } from '../patch/apply.js';
import { UsageError } from '../errors.js';
import type { DecodedSection } from '../x86/index.js';
import { startSplitDecode } from '../x86/split-decode.js';
import type { Frame } from './frame.js';
import { spliceDecode, spliceWindows } from './splice.js';
import { buildTable, type Table } from './orc-table.js';
import type { Func } from './functions.js';
import type { CodeRefs } from './code-refs.js';
import { patchedHints, ORIGINAL_HINTS } from './hints.js';
import { phase } from '../phases.js';
import { firstAtOrAfter } from '../elf/offset-index.js';
import { inFunctionOrder, mergeWorker, WalkHelper } from './walk-helper.js';
import { walkContext, walkOriginal, workerFunctions } from './context.js';
import { type CoverageMap, emptyReport, type Outcome, outcomeOf, replay, type VerifyReport } from './report.js';
import { countOutside, ESCAPED, type OriginalWalk, type Walk, walkFunction, walkWhole } from './walk.js';
import { opaqueFrame } from './frame.js';

// (what the command line and the tests take from here)
export { CHECKED, type CoverageMap, type Mismatch, type VerifyReport, usedEntries } from './report.js';
export { HINT_LOST, OUTSIDE_FUNCTIONS } from './walk.js';

/** Whole-object boot profiles: CPU features the kernel would see. */
export const BOOT_PROFILES: Record<string, string> = {
  'bare metal': 'SMAP,SMEP,ERMS,FSRM,POPCNT,XSAVE,XSAVES,PCID,INVPCID,RDTSCP,CX16,BMI1,BMI2,AVX,AVX2,NOPL',
  'KVM guest': 'HYPERVISOR,SMAP,SMEP,ERMS,POPCNT,XSAVE,PCID,RDTSCP,CX16,NOPL',
  'Xen PV': 'HYPERVISOR,XENPV,POPCNT,CX16,NOPL',
};

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
 * The decoding worker's share of the big section: verify reads more than check before it
 * decodes (the table, functions, hints, traps, alternatives: ~0.5 s on vmlinux.o), time in
 * which the worker decodes more, and this thread less after.
 */
const VERIFY_SPLIT_SHARE = 0.85;

/** How far past a site a one-site variant is decoded first (see Incremental.bounds). */
const AROUND_SITE = 128;

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
/** m's list at k, an empty one put there when there is none. */
function listAt<K, V>(m: Map<K, V[]>, k: K): V[] {
  let l = m.get(k);
  if (!l) m.set(k, (l = []));
  return l;
}

/** What verify() is asked for: see verify(). */
export interface VerifyWants {
  coverage?: CoverageMap;
  profiles?: Record<string, string>;
  /**
   * The second thread for the walks (WalkHelper): none, its functions shared out between the
   * threads, or all of them walked by it (none taken back here). Every way gives the same
   * report; by default, shared out where there are more than 2 cores (see HELPER_MIN_CORES).
   */
  helper?: 'none' | 'share' | 'all';
}

/**
 * The cores from which verify walks on a second thread. On 2, the second core is already busy
 * with the decoding worker, V8's collector and compiler: vmlinux.o 7.3 took as long with the
 * helper (3.54-3.71 s) as without (3.53-3.75 s), for 0.8 s more CPU (its set-up is its own).
 */
const HELPER_MIN_CORES = 3;

export function verify(elf: ElfFile, layout: KernelLayout, want: VerifyWants = {}): VerifyReport {
  phase('start');
  const r = emptyReport();
  const t = buildTable(elf);
  if (!t) return r;
  // vmlinux.o's big .text: its end decoded by a worker while this thread reads the rest; and,
  // from 3 cores, its functions without a site walked in the original code by another too (WalkHelper).
  const split = startSplitDecode(elf, layout.decoder, VERIFY_SPLIT_SHARE);
  // (started once the section is decoded: before, its set-up would compete for the cores with
  // this thread's and the decoding worker's)
  const helper = { started: undefined as WalkHelper | undefined };
  try {
    return verifyWith(elf, layout, want, r, t, split, helper);
  } finally {
    split?.job.cancel();
    helper.started?.stop();
  }
}

function verifyWith(elf: ElfFile, layout: KernelLayout, want: VerifyWants, r: VerifyReport, t: Table,
  split: ReturnType<typeof startSplitDecode>, started: { started: WalkHelper | undefined }): VerifyReport {
  const c = walkContext(elf, layout, t, r, want.coverage, split);
  const { linked, fns, w, patcher, optsOf, viewOf, decoded, relocsOf, originalCode, fnOf } = c;
  const alts = patcher.alts;
  phase('functions, hints, traps, alternatives');
  for (const sec of new Set(fns.map((fn) => fn.sec))) decoded(sec);
  phase('decode');
  r.variants++;
  const index = w.index;
  // The original walks of the functions with a site, kept for their variants: each function's
  // own frames, over its body and .cold parts only (one store of a whole section cost ~80 MB
  // of fresh memory on vmlinux.o, where these functions hold a third of the code).
  const originals = new Map<number, OriginalWalk>();
  for (const fi of new Set(fnOf)) {
    if (fi < 0) continue;
    const fn = fns[fi]!;
    const ds = decoded(fn.sec);
    const parts = [fn, ...fn.cold];
    const ranges = new Int32Array(3 * parts.length);
    let n = 0;
    parts.forEach((p, k) => {
      const first = firstAtOrAfter(ds.offset, p.start);
      const end = Math.max(first, firstAtOrAfter(ds.offset, p.end));
      ranges[3 * k] = first;
      ranges[3 * k + 1] = end;
      ranges[3 * k + 2] = n;
      n += end - first;
    });
    originals.set(fi, { at: { ds, ranges, frames: new Array<Frame | undefined>(n), pred: new Int32Array(n) }, jumps: [] });
  }
  // The worker's functions (see workerFunctions()), once it has the decoding; the rest here.
  const mode = want.helper ?? (availableParallelism() >= HELPER_MIN_CORES ? 'share' : 'none');
  const helper = (started.started = split && mode !== 'none' ? WalkHelper.start(elf, layout, split.sec, want.coverage !== undefined) : undefined);
  const theirList = helper?.hand(decoded(helper.sec)) ? workerFunctions(c, helper.sec) : undefined;
  const theirs = theirList && new Set(theirList);
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
    listAt(outside, h.sec).push(h.off);
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
  const bySection = (fis: Iterable<number>): Map<number, Func[]> => {
    const m = new Map<number, Func[]>();
    for (const fi of fis) if (fi >= 0) listAt(m, fns[fi]!.sec).push(fns[fi]!);
    return m;
  };
  const siteFunctions = bySection(new Set(fnOf));
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
      const probe: Walk = { ...w, r: emptyReport(), reported: new Set() };
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
    // One copy of each section's unpatched form for all profiles: each patches it, and what it
    // wrote is put back after its walks (a copy per profile of vmlinux.o's .text cost ~50 ms).
    const scratch = new Map<number, Uint8Array>();
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
          listAt(changed, fi).push(g);
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
      for (const [sec, b] of base) {
        let bytes = scratch.get(sec);
        if (!bytes) scratch.set(sec, (bytes = b.bytes.slice()));
        states.set(sec, new SectionState(sec, bytes, b.relocs));
      }
      /** The ranges written besides the patcher's (SectionState.written): [state, start, end]. */
      const reset: [SectionState, number, number][] = [];
      for (const fi of pv ? changed.keys() : walked) {
        for (const g of changed.get(fi)!) {
          const st = states.get(alts[g.entries[0]!]!.origSec)!;
          st.bytes.set(sectionBytes(st.index).subarray(g.lo, g.hi), g.lo);
          reset.push([st, g.lo, g.hi]);
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
      const walkedIn = bySection(walked);
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
      // The copies back to the unpatched form.
      for (const st of states.values()) for (let k = 0; k < st.written.length; k += 2) reset.push([st, st.written[k]!, st.written[k + 1]!]);
      for (const [st, lo, hi] of reset) {
        const b = base.get(st.index);
        if (b && st.bytes === scratch.get(st.index)) st.bytes.set(b.bytes.subarray(lo, hi), lo);
      }
    }
  }
  phase('boot profiles');
  if (theirList) {
    // The worker's functions it has not reached yet walked here, then its walks merged, all as
    // if made here in function order (inFunctionOrder() drops a location reported twice, so
    // these walks do not see what the variants reported); without its walks, all made here.
    const later = r.mismatches.splice(tags.length);
    const reported = w.reported;
    w.reported = new Set();
    const walkHere = (fi: number): void => walkOriginal(c, fi, tags);
    const here = mode === 'all' ? [] : helper!.walkUnclaimed(theirList, walkHere);
    const got = helper!.result();
    if (got) {
      w.reported = reported;
      mergeWorker(w, got, tags);
      r.helperFunctions = got.functions;
    } else {
      const done = new Set(here);
      theirList.forEach((fi, j) => done.has(j) || walkHere(fi));
      w.reported = reported;
      inFunctionOrder(w, tags);
    }
    for (const m of later) r.mismatches.push(m);
    phase('worker');
  }
  r.used = w.used;
  return r;
}
