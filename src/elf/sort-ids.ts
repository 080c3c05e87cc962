// SPDX-License-Identifier: GPL-2.0-only
// Sorting entry numbers by an offset-like key, as the reader does for relocations and
// symbols: vmlinux.o has half a million of one and 150,000 of the other.

/**
 * `ids` sorted by key(id), then by id (keys are non-negative integers). Each pair is packed
 * into one double (key above, id below) so that a native numeric sort does the work, as long as
 * that is exact; a comparator sort otherwise.
 */
export function sortIds(ids: ArrayLike<number>, key: (id: number) => number, maxId: number): Uint32Array {
  const n = ids.length;
  const scale = 2 ** Math.ceil(Math.log2(maxId + 1));
  let max = 0;
  for (let k = 0; k < n; k++) max = Math.max(max, key(ids[k]!));
  if (max * scale + scale > Number.MAX_SAFE_INTEGER) {
    return Uint32Array.from(Array.from(ids).sort((a, b) => key(a) - key(b) || a - b));
  }
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) keys[k] = key(ids[k]!) * scale + ids[k]!;
  keys.sort();
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = keys[k]! % scale;
  return out;
}
