// SPDX-License-Identifier: GPL-2.0-only
// The ORC table as numbers alone, for a second thread (table-worker.ts): each text section's
// instruction offsets and state numbers (a big section's in shared memory), each state's entry
// key, each alternative site's per-byte keys. From these the table comes out as OrcBuilder
// makes it from the analysis' points (actions/orc.ts), point for point.
import type { OrcEntryLayout } from '../kernel/versions.js';
import { OrcBuilder, type OrcTable } from './generate.js';

/** A byte of an alternative site without a state: no point there. */
export const NO_POINT = -1;

export interface OrcJobSection {
  index: number;
  /** sh_size: where the terminator goes. */
  size: number;
  count: number;
  offset: Uint32Array;
  /** Each instruction's state number (-1: none). */
  cfi: Int32Array;
  /**
   * The alternative sites, five numbers each: the position of the site's first instruction,
   * of its last, its offset, where its keys start in `siteKeys`, and how many bytes it has.
   */
  sites: Int32Array;
  /** Each site byte's key (NO_POINT: no state; NaN: a state ORC cannot express). */
  siteKeys: Float64Array;
}

export interface OrcTableJob {
  layout: OrcEntryLayout;
  capacity: number;
  /** Each state number's key; NaN: a state ORC cannot express. */
  keysById: Float64Array;
  /** The key of an instruction without a state (NaN if ORC cannot express that). */
  noStateKey: number;
  sections: OrcJobSection[];
}

/** The table; undefined at a point ORC cannot express (the caller makes it itself, and reports that). */
export function tableFromJob(job: OrcTableJob): OrcTable | undefined {
  const b = new OrcBuilder(job.layout, job.capacity);
  const { keysById, noStateKey } = job;
  for (const s of job.sections) {
    const { offset, cfi, sites, siteKeys, index } = s;
    let g = 0;
    let nextSite = sites.length ? sites[0]! : -1;
    for (let k = 0; k < s.count; k++) {
      if (k === nextSite) {
        const start = sites[g + 2]!;
        const from = sites[g + 3]!;
        const len = sites[g + 4]!;
        for (let i = 0; i < len; i++) {
          const key = siteKeys[from + i]!;
          if (key === NO_POINT) continue;
          if (Number.isNaN(key)) return undefined;
          b.addKey(index, start + i, key);
        }
        k = sites[g + 1]!;
        g += 5;
        nextSite = g < sites.length ? sites[g]! : -1;
        continue;
      }
      const id = cfi[k]!;
      const key = id >= 0 ? keysById[id]! : noStateKey;
      if (Number.isNaN(key)) return undefined;
      b.addKey(index, offset[k]!, key);
    }
    b.endSection(index, s.size);
  }
  return b.finish();
}
