// SPDX-License-Identifier: GPL-2.0-only
// Planted errors: damage one ORC entry of an object the way a generator bug would, and see
// whether `verify` notices. Every kind of damage, in any entry of a defined type (CALL, REGS,
// REGS_PARTIAL) in any section: CFA offset or register, %rbp offset or register, the entry's
// type, an entry dropped (the one before it then covers its code) and an entry moved by one
// instruction. Damage that changes nothing the unwinder reads (a dropped entry equal to the one
// before it, say) is not planted. For `npm run verify:plant` and the tests.
import type { ElfFile } from '../elf/reader.js';
import { ElfEditor } from '../elf/writer.js';
import type { KernelLayout } from '../kernel/versions.js';
import { readOrcTable } from '../orc/read.js';
import {
  type OrcEntry, packOrcEntry, unpackOrcEntry, ORC_ENTRY_SIZE, ORC_IP_SIZE, ORC_REG_BP, ORC_REG_PREV_SP, ORC_REG_SP, ORC_REG_UNDEFINED,
  ORC_TYPE_CALL, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL, ORC_V1_TYPE_CALL, ORC_V1_TYPE_REGS, ORC_V1_TYPE_REGS_PARTIAL,
} from '../orc/entry.js';
import { decodeSection, indexAt } from '../x86/index.js';

export const PLANT_KINDS = ['sp offset', 'sp reg', 'bp offset', 'bp reg', 'type', 'drop', 'move'] as const;
export type PlantKind = (typeof PLANT_KINDS)[number];

export interface Plant {
  kind: PlantKind;
  /** The damaged entry and where it is. */
  entry: number;
  section: string;
  offset: number;
  /** What was done, e.g. "sp:sp+16 -> sp:sp+24". */
  what: string;
}

/** A small deterministic generator (mulberry32): the same seed plants the same errors. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function types(layout: KernelLayout): { call: number; regs: number; partial: number } {
  return layout.orc.mapping === 'v3'
    ? { call: ORC_TYPE_CALL, regs: ORC_TYPE_REGS, partial: ORC_TYPE_REGS_PARTIAL }
    : { call: ORC_V1_TYPE_CALL, regs: ORC_V1_TYPE_REGS, partial: ORC_V1_TYPE_REGS_PARTIAL };
}

function show(e: OrcEntry): string {
  const r = (reg: number, o: number) => (reg === ORC_REG_UNDEFINED ? '(und)' : `${reg === ORC_REG_SP ? 'sp' : reg === ORC_REG_BP ? 'bp' : reg === ORC_REG_PREV_SP ? 'prevsp' : `r${reg}`}${o < 0 ? o : `+${o}`}`);
  return `type:${e.type} sp:${r(e.spReg, e.spOffset)} bp:${r(e.bpReg, e.bpOffset)}`;
}

/**
 * Plant one error of `kind` in a copy of `elf` written to `out`, in an entry picked by `rand`
 * among those the kind can change; undefined when the object has none.
 */
export function plantOne(elf: ElfFile, layout: KernelLayout, kind: PlantKind, rand: () => number, out: string): Plant | undefined {
  const t = readOrcTable(elf);
  if (!t) return undefined;
  const ty = types(layout);
  const defined = (e: OrcEntry) => (e.type === ty.call || e.type === ty.regs || e.type === ty.partial) && e.spReg !== ORC_REG_UNDEFINED && !e.end;
  // Entries in table order per section: the one before another in its section.
  const order = Array.from({ length: t.count }, (_, k) => k).sort((a, b) => t.sections[a]! - t.sections[b]! || t.offsets[a]! - t.offsets[b]! || a - b);
  const before = new Int32Array(t.count).fill(-1);
  const after = new Int32Array(t.count).fill(-1);
  for (let j = 1; j < order.length; j++) {
    if (t.sections[order[j]!] === t.sections[order[j - 1]!]) {
      before[order[j]!] = order[j - 1]!;
      after[order[j - 1]!] = order[j]!;
    }
  }
  const entry = (k: number) => unpackOrcEntry(t.entries, k * ORC_ENTRY_SIZE, layout.orc);
  const same = (a: number, b: number) => t.entries.subarray(a * 6, a * 6 + 6).every((x, i) => x === t.entries[b * 6 + i]);
  const candidates: number[] = [];
  for (let k = 0; k < t.count; k++) {
    const e = entry(k);
    if (!defined(e)) continue;
    const ok =
      kind === 'sp offset' || kind === 'type' ? true
      : kind === 'sp reg' ? e.spReg === ORC_REG_SP || e.spReg === ORC_REG_BP
      : kind === 'bp offset' ? e.bpReg === ORC_REG_PREV_SP || e.bpReg === ORC_REG_BP
      : kind === 'bp reg' ? e.type === ty.call
      : kind === 'drop' ? before[k]! >= 0 && !same(k, before[k]!)
      : before[k]! >= 0 && !same(k, before[k]!); // move
    if (ok) candidates.push(k);
  }
  // (`move` needs an instruction boundary before the next entry: tried on a few candidates)
  for (let attempt = 0; attempt < 20 && candidates.length; attempt++) {
    const k = candidates[Math.floor(rand() * candidates.length)]!;
    const sec = elf.section(t.sections[k]!)!;
    const off = t.offsets[k]!;
    const e = entry(k);
    const was = show(e);
    const ed = new ElfEditor(elf);
    const orc = elf.sectionByName('.orc_unwind')!;
    let what = '';
    if (kind === 'drop') {
      ed.patchBytes(orc.index, k * 6, t.entries.slice(before[k]! * 6, before[k]! * 6 + 6));
      what = `${was} -> as the entry before (${show(entry(before[k]!))})`;
    } else if (kind === 'move') {
      const ds = decodeSection(sec.data, sec.name, { onInvalid: 'skip', variant: layout.decoder });
      const i = indexAt(ds, off);
      const next = i >= 0 && i + 1 < ds.count ? ds.offset[i + 1]! : -1;
      const limit = after[k]! >= 0 ? t.offsets[after[k]!]! : sec.size;
      if (next < 0 || next >= limit) continue;
      const ip = elf.sectionByName('.orc_unwind_ip')!;
      const relSec = elf.relocSectionFor(ip)!;
      const rel = elf.relocTable(relSec);
      const r = rel.at(k * ORC_IP_SIZE);
      const addend = new Uint8Array(8);
      new DataView(addend.buffer).setBigInt64(0, BigInt(rel.addend(r) + (next - off)), true);
      ed.patchBytes(relSec.index, r * 24 + 16, addend);
      what = `${was} moved to +0x${(next - off).toString(16)}`;
    } else {
      const n: OrcEntry = { ...e };
      const sign = rand() < 0.5 ? -8 : 8;
      if (kind === 'sp offset') n.spOffset += n.spOffset + sign > 0 ? sign : 8;
      else if (kind === 'sp reg') n.spReg = e.spReg === ORC_REG_SP ? ORC_REG_BP : ORC_REG_SP;
      else if (kind === 'bp offset') n.bpOffset += sign;
      else if (kind === 'bp reg') {
        if (e.bpReg === ORC_REG_UNDEFINED) {
          n.bpReg = ORC_REG_PREV_SP;
          n.bpOffset = -16;
        } else n.bpReg = ORC_REG_UNDEFINED;
      } else n.type = e.type === ty.call ? ty.partial : e.type === ty.regs ? ty.call : ty.regs;
      const bytes = new Uint8Array(6);
      packOrcEntry(n, layout.orc, bytes);
      ed.patchBytes(orc.index, k * 6, bytes);
      what = `${was} -> ${show(n)}`;
    }
    ed.write(out);
    return { kind, entry: k, section: sec.name, offset: off, what };
  }
  return undefined;
}
