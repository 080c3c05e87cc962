// SPDX-License-Identifier: GPL-2.0-only
// The ORC table as verify reads it: each section's entries sorted by offset, the kernel's
// lookup (the rightmost entry at or below an address, as orc_find()), and what an entry says.
import { firstAtOrAfter } from '../elf/offset-index.js';
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout } from '../kernel/versions.js';
import { readOrcTable } from '../orc/read.js';
import { type OrcEntry, unpackOrcEntry, ORC_TYPE_CALL, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL, ORC_REG_BP, ORC_REG_PREV_SP, ORC_REG_SP, ORC_REG_UNDEFINED } from '../orc/entry.js';

/** One section's ORC entries sorted by offset, terminators first at equal offsets. */
export interface SectionEntries {
  index: Int32Array;
  offset: Float64Array;
}

export interface Table {
  bySection: Map<number, SectionEntries>;
  count: number;
  entries: Uint8Array;
}

export function buildTable(elf: ElfFile): Table | undefined {
  const t = readOrcTable(elf);
  if (!t) return undefined;
  // Entry indices by section, counted first (vmlinux.o: millions of entries, one section).
  const counts = new Map<number, number>();
  for (let k = 0; k < t.count; k++) counts.set(t.sections[k]!, (counts.get(t.sections[k]!) ?? 0) + 1);
  const per = new Map<number, { list: Int32Array; n: number }>();
  for (const [s, n] of counts) per.set(s, { list: new Int32Array(n), n: 0 });
  for (let k = 0; k < t.count; k++) {
    const p = per.get(t.sections[k]!)!;
    p.list[p.n++] = k;
  }
  const nonZero = new Uint8Array(t.count);
  const e = t.entries;
  for (let k = 0, b = 0; k < t.count; k++, b += 6) nonZero[k] = e[b]! | e[b + 1]! | e[b + 2]! | e[b + 3]! | e[b + 4]! | e[b + 5]! ? 1 : 0;
  const bySection = new Map<number, SectionEntries>();
  // Sorted by offset, terminator first, then index: as written, mostly (objtool and orctool
  // write a section's entries in address order), else sorted here.
  const before = (a: number, b: number): boolean => t.offsets[a]! < t.offsets[b]! || (t.offsets[a] === t.offsets[b] && (nonZero[a]! < nonZero[b]! || (nonZero[a] === nonZero[b] && a < b)));
  const scale = 2 ** Math.ceil(Math.log2(t.count + 1));
  let packable: boolean | undefined;
  for (const [s, { list }] of per) {
    let index = list;
    let sorted = true;
    for (let j = 1; j < list.length && sorted; j++) sorted = before(list[j - 1]!, list[j]!);
    if (!sorted) packable ??= t.offsets.every((o) => Number.isInteger(o) && o >= 0 && o * 2 * scale < 2 ** 53);
    if (!sorted && packable) {
      const keys = Float64Array.from(list, (k) => (t.offsets[k]! * 2 + nonZero[k]!) * scale + k).sort();
      index = Int32Array.from(keys, (x) => x % scale);
    } else if (!sorted) {
      index = Int32Array.from([...list].sort((a, b) => t.offsets[a]! - t.offsets[b]! || nonZero[a]! - nonZero[b]! || a - b));
    }
    const offset = new Float64Array(index.length);
    for (let j = 0; j < index.length; j++) offset[j] = t.offsets[index[j]!]!;
    bySection.set(s, { index, offset });
  }
  return { bySection, count: t.count, entries: t.entries };
}

/** orc_find(): the rightmost entry at or below `off` in its section, or -1. */
export function orcFind(e: SectionEntries | undefined, off: number): number {
  if (!e) return -1;
  const p = lastAtOrBelow(e.offset, off);
  return p >= 0 ? e.index[p]! : -1;
}

/** The last position of the sorted offsets at or below `off`, or -1 (offsets are whole numbers). */
function lastAtOrBelow(o: Float64Array, off: number): number {
  return firstAtOrAfter(o, Math.floor(off) + 1) - 1;
}

/** orcFind() for a walk, which mostly moves forward: the entry found last, or the next, first. */
export function orcCursor(e: SectionEntries | undefined): (off: number) => number {
  if (!e) return () => -1;
  const o = e.offset;
  const n = o.length;
  let p = -1;
  return (off) => {
    if (p >= 0 && o[p]! <= off) {
      if (p + 1 >= n || o[p + 1]! > off) return e.index[p]!;
      if (p + 2 >= n || o[p + 2]! > off) return e.index[++p]!;
    }
    p = lastAtOrBelow(o, off);
    return p >= 0 ? e.index[p]! : -1;
  };
}

export function describeEntry(e: OrcEntry, layout: KernelLayout): string {
  const reg = (r: number, o: number) => (r === ORC_REG_SP ? `sp${o < 0 ? o : `+${o}`}` : r === ORC_REG_BP ? `bp${o < 0 ? o : `+${o}`}` : r === ORC_REG_PREV_SP ? `prevsp${o < 0 ? o : `+${o}`}` : r === ORC_REG_UNDEFINED ? '(und)' : `reg${r}${o}`);
  return `type:${e.type} sp:${reg(e.spReg, e.spOffset)} bp:${reg(e.bpReg, e.bpOffset)}${layout.orc.mapping === 'v3' ? '' : ` end:${+e.end}`}`;
}

/** Whether an entry says where the frame is (CALL, REGS, REGS_PARTIAL with a CFA). */
export function definedEntry(t: Table, k: number, layout: KernelLayout, e: OrcEntry): boolean {
  unpackOrcEntry(t.entries, k * 6, layout.orc, e);
  const v3 = layout.orc.mapping === 'v3';
  if (v3) return (e.type === ORC_TYPE_CALL || e.type === ORC_TYPE_REGS || e.type === ORC_TYPE_REGS_PARTIAL) && e.spReg !== ORC_REG_UNDEFINED;
  return e.spReg !== ORC_REG_UNDEFINED && !e.end;
}

/** Whether any entry covering [start, end) of a section is defined: objtool validated that code. */
export function anyDefinedEntry(t: Table, entries: SectionEntries | undefined, start: number, end: number, layout: KernelLayout): boolean {
  if (!entries) return false;
  const e: OrcEntry = { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, signal: false, end: false };
  const first = orcFind(entries, start);
  if (first >= 0 && definedEntry(t, first, layout, e)) return true;
  for (let j = firstAtOrAfter(entries.offset, start); j < entries.offset.length && entries.offset[j]! < end; j++) if (definedEntry(t, entries.index[j]!, layout, e)) return true;
  return false;
}
