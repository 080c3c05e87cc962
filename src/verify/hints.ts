// SPDX-License-Identifier: GPL-2.0-only
// The object's unwind hints by section and offset, and what a patched variant makes of those
// in alternative sites and replacements.
import { firstAtOrAfter } from '../elf/offset-index.js';
import type { Patcher } from '../patch/apply.js';
import type { UnwindHint } from '../kernel/unwind-hints.js';

/** The object's unwind hints, by section and offset, and where patching can move them. */
export class Hints {
  private readonly bySec = new Map<number, { off: Float64Array; hint: UnwindHint[] }>();
  /** Hints on bytes of an alternative site: in patched code their instruction may be gone. */
  readonly inSite = new Set<UnwindHint>();
  /** Alternative entries whose replacement carries hints: the hints' offsets from its start. */
  readonly inReplacement = new Map<number, number[]>();

  constructor(hints: readonly UnwindHint[], p: Patcher) {
    const per = new Map<number, UnwindHint[]>();
    for (const h of hints) {
      const l = per.get(h.sec);
      if (l) l.push(h);
      else per.set(h.sec, [h]);
    }
    for (const [sec, l] of per) {
      // Of several hints at one offset the last is kept (in objtool each overwrites the state).
      l.sort((a, b) => a.off - b.off || a.index - b.index);
      const kept = l.filter((h, k) => k + 1 === l.length || l[k + 1]!.off !== h.off);
      this.bySec.set(sec, { off: Float64Array.from(kept, (h) => h.off), hint: kept });
    }
    p.alts.forEach((a, k) => {
      for (const h of this.inRange(a.origSec, a.origOff, a.origOff + p.siteLen[k]!)) this.inSite.add(h);
      const d = this.inRange(a.newSec, a.newOff, a.newOff + a.newLen).map((h) => h.off - a.newOff);
      if (d.length && a.newLen) this.inReplacement.set(k, d);
    });
  }

  /** Every hint kept (the last of those at one offset). */
  *all(): Iterable<UnwindHint> {
    for (const e of this.bySec.values()) yield* e.hint;
  }

  /** The hints in [start, end) of a section, by offset. */
  inRange(sec: number, start: number, end: number): UnwindHint[] {
    const e = this.bySec.get(sec);
    if (!e) return NO_HINTS;
    const lo = firstAtOrAfter(e.off, start);
    const hi = firstAtOrAfter(e.off, end);
    return lo < hi ? e.hint.slice(lo, hi) : NO_HINTS;
  }

  at(sec: number, off: number): UnwindHint | undefined {
    const e = this.bySec.get(sec);
    if (!e) return undefined;
    const k = firstAtOrAfter(e.off, off);
    return e.off[k] === off ? e.hint[k] : undefined;
  }

  /** objtool's search for a RESTORE's SAVE: the nearest one before it, not before `start`. */
  saveBefore(sec: number, off: number, start: number): number | undefined {
    const e = this.bySec.get(sec)!;
    for (let k = firstAtOrAfter(e.off, off) - 1; k >= 0 && e.off[k]! >= start; k--) if (e.hint[k]!.kind === 'SAVE') return e.off[k]!;
    return undefined;
  }
}

/** A variant's view of the hints. */
export interface HintView {
  /** Whether alternative sites were patched (NOPs optimized counts): hints in them are not applied. */
  patched: boolean;
  /** Offsets, per section, where a patched-in replacement carries a hint; undefined when none. */
  replacement: Map<number, Set<number>> | undefined;
}

/** (what inRange() gives where there are none: most functions; never written to) */
const NO_HINTS: UnwindHint[] = [];

export const ORIGINAL_HINTS: HintView = { patched: false, replacement: undefined };

/** The view of a patched variant running the replacements of the entries `applied` picks. */
export function patchedHints(hints: Hints, alts: Patcher['alts'], applied: (k: number) => boolean): HintView {
  let replacement: Map<number, Set<number>> | undefined;
  for (const [k, d] of hints.inReplacement) {
    if (!applied(k)) continue;
    const a = alts[k]!;
    replacement ??= new Map();
    let set = replacement.get(a.origSec);
    if (!set) replacement.set(a.origSec, (set = new Set()));
    for (const x of d) set.add(a.origOff + x);
  }
  return { patched: true, replacement };
}
