// SPDX-License-Identifier: GPL-2.0-only
// What verify reports: the mismatches, how many boundaries were checked and why others were
// not, coverage; and a walk's part of it kept, to be added again where another variant's code
// is the same (Outcome, replay).
import type { Walk } from './walk.js';

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
  /** Per table entry, 1 where at least one check relied on it (a list of indices would cost a Set of a million on vmlinux.o). */
  used: Uint8Array;
  /** Why boundaries were unverified. */
  reasons: Record<string, number>;
  /** Functions walked (in the original code) by verify's second thread (walk-helper.ts). */
  helperFunctions?: number;
}

export function emptyReport(): VerifyReport {
  return { variants: 0, functions: 0, checked: 0, unverified: 0, mismatches: [], used: new Uint8Array(0), reasons: {} };
}

/** The entries some check relied on (VerifyReport.used), in order. */
export function usedEntries(r: VerifyReport): number[] {
  const out: number[] = [];
  r.used.forEach((u, k) => u && out.push(k));
  return out;
}

export function unverified(r: VerifyReport, why: string): void {
  r.unverified++;
  r.reasons[why] = (r.reasons[why] ?? 0) + 1;
}

/** The status recorded for a boundary that was compared with the table (CoverageMap). */
export const CHECKED = 'checked';

/**
 * Per section, per instruction offset: CHECKED when some variant compared it with the table,
 * else why it was unverified (patched bytes count at their offset in the original section).
 */
export type CoverageMap = Map<number, Map<number, string>>;

/** What one walk added to the report (replayed where a boot profile's code is a one-site variant's). */
export interface Outcome {
  checked: number;
  unverified: [string, number][];
  mismatches: Mismatch[];
}

export function outcomeOf(r: VerifyReport, walk: () => void): Outcome {
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
export function replay(w: Walk, o: Outcome, variant: string): void {
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

