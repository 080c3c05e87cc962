// SPDX-License-Identifier: GPL-2.0-only
// Searches in a long sorted list of section offsets (vmlinux.o: 5 million instruction offsets,
// half a million relocation offsets), which the analysis makes millions of. A plain binary
// search spends most of its ~20 steps missing the cache; here the first entry of each 64-byte
// page of the section is looked up first, then the few entries of that page are searched.

const PAGE_SHIFT = 6;
const PAGE = 1 << PAGE_SHIFT;

export class OffsetIndex {
  /** pages[k]: the first entry at or after byte k * PAGE; the last is `count`. Undefined: too sparse to pay. */
  private readonly pages: Uint32Array | undefined;

  constructor(private readonly values: ArrayLike<number>, private readonly count: number) {
    const max = count > 0 ? values[count - 1]! : 0;
    const n = Math.floor(max / PAGE) + 2;
    // A page table far bigger than the list (offsets spread over a huge range) is not worth it.
    if (n > 4 * count + 1024) return;
    const pages = new Uint32Array(n);
    let i = 0;
    for (let k = 0; k < n; k++) {
      const start = k * PAGE;
      while (i < count && values[i]! < start) i++;
      pages[k] = i;
    }
    this.pages = pages;
  }

  /** The first entry whose offset is >= `offset` (count if none). */
  lowerBound(offset: number): number {
    const values = this.values;
    let lo = 0;
    let hi = this.count;
    const pages = this.pages;
    if (pages !== undefined) {
      const k = Math.floor(offset / PAGE);
      if (k < 0) return 0;
      if (k + 1 >= pages.length) return this.count;
      lo = pages[k]!;
      hi = pages[k + 1]!;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entry whose offset is exactly `offset`, or -1 (the first of equal ones). */
  indexOf(offset: number): number {
    const i = this.lowerBound(offset);
    return i < this.count && this.values[i] === offset ? i : -1;
  }
}

/** The first position of the sorted `values` at or after `x` (their length if none): a plain binary search, for lists searched too rarely to index. */
export function firstAtOrAfter(values: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
