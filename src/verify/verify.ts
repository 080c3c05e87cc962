// SPDX-License-Identifier: GPL-2.0-only
// `orctool verify`: check an object's ORC table against the code the kernel can really run.
// Variants: the original bytes; each replacement of each alternative site patched in on its own;
// whole-object boot profiles. For each variant the frame interpreter follows every function from
// its entry and, at every instruction boundary it reaches, compares its frame with the ORC entry
// the kernel's lookup picks there (the rightmost entry at or below the address, as orc_find()).
import type { ElfFile } from '../elf/reader.js';
import { ElfFile as Elf } from '../elf/reader.js';
import { STT_FUNC } from '../elf/constants.js';
import type { KernelLayout } from '../kernel/versions.js';
import { specialGetAlts, type SpecialAlt } from '../kernel/alternatives.js';
import { readOrcTable } from '../orc/read.js';
import { type OrcEntry, unpackOrcEntry, ORC_REG_BP, ORC_REG_BP_INDIRECT, ORC_REG_PREV_SP, ORC_REG_R10, ORC_REG_R13, ORC_REG_SP, ORC_REG_UNDEFINED } from '../orc/entry.js';
import { applyPatches, parseFeatures } from '../patch/apply.js';
import { isNoreturnByName } from '../kernel/noreturns.js';
import { decodeSection, InsnType, InsnFlag, type DecodedSection, indexAt } from '../x86/index.js';
import { entryFrame, type Frame, sameFrame, step } from './frame.js';

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

interface Table {
  /** Entry indices of a section sorted by offset, terminators first at equal offsets. */
  order: Map<number, Int32Array>;
  offsets: Float64Array;
  entries: Uint8Array;
}

function buildTable(elf: ElfFile): Table | undefined {
  const t = readOrcTable(elf);
  if (!t) return undefined;
  const per = new Map<number, number[]>();
  for (let k = 0; k < t.count; k++) {
    const l = per.get(t.sections[k]!);
    if (l) l.push(k);
    else per.set(t.sections[k]!, [k]);
  }
  const order = new Map<number, Int32Array>();
  const isZero = (k: number) => t.entries.subarray(k * 6, k * 6 + 6).every((b) => b === 0);
  for (const [s, l] of per) {
    l.sort((a, b) => t.offsets[a]! - t.offsets[b]! || Number(!isZero(a)) - Number(!isZero(b)) || a - b);
    order.set(s, Int32Array.from(l));
  }
  return { order, offsets: t.offsets, entries: t.entries };
}

/** orc_find(): the rightmost entry at or below `off` in its section, or -1. */
function orcFind(t: Table, sec: number, off: number): number {
  const o = t.order.get(sec);
  if (!o) return -1;
  let lo = 0;
  let hi = o.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.offsets[o[mid]!]! <= off) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? o[lo - 1]! : -1;
}

function describeEntry(e: OrcEntry, layout: KernelLayout): string {
  const reg = (r: number, o: number) => (r === ORC_REG_SP ? `sp${o < 0 ? o : `+${o}`}` : r === ORC_REG_BP ? `bp${o < 0 ? o : `+${o}`}` : r === ORC_REG_PREV_SP ? `prevsp${o < 0 ? o : `+${o}`}` : r === ORC_REG_UNDEFINED ? '(und)' : `reg${r}${o}`);
  return `type:${e.type} sp:${reg(e.spReg, e.spOffset)} bp:${reg(e.bpReg, e.bpOffset)}${layout.orc.mapping === 'v3' ? '' : ` end:${+e.end}`}`;
}

function describeFrame(f: Frame): string {
  const bp = f.savedBp === 'live' ? '(und)' : f.savedBp !== undefined ? `prevsp${f.savedBp}` : f.slotFromBp !== undefined ? `bp${f.slotFromBp < 0 ? '' : '+'}${f.slotFromBp}` : '?';
  const cfa = f.sp !== undefined ? `sp+${f.sp}` : f.bp !== undefined ? `bp+${f.bp}`
    : f.drapReg !== undefined && f.drapOff !== undefined ? `r${f.drapReg}+${f.drapOff}`
    : f.drapSlotFromBp !== undefined ? `(bp${f.drapSlotFromBp})` : '?';
  return `sp:${cfa} bp:${bp}`;
}

type Verdict = 'match' | 'mismatch' | 'entry type' | 'entry base' | 'frame unknown' | 'caller bp unknown';

/** Compare a frame with the entry the unwinder would use. */
function judge(f: Frame, e: OrcEntry, layout: KernelLayout): Verdict {
  const callType = layout.orc.mapping === 'v3' ? 2 : 0;
  if (e.type !== callType) return 'entry type';
  if (layout.orc.mapping === 'v1' && (e.spReg === ORC_REG_UNDEFINED || e.end)) return 'entry type';
  let cfaOk: boolean;
  if (e.spReg === ORC_REG_SP) {
    if (f.sp === undefined) return 'frame unknown';
    cfaOk = e.spOffset === f.sp;
  } else if (e.spReg === ORC_REG_BP) {
    if (f.bp === undefined) return 'frame unknown';
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
  if (f.savedBp === undefined && e.bpReg === ORC_REG_BP && f.slotFromBp !== undefined) return e.bpOffset === f.slotFromBp ? 'match' : 'mismatch';
  if (f.savedBp === undefined) return 'caller bp unknown';
  if (f.savedBp === 'live') return e.bpReg === ORC_REG_UNDEFINED ? 'match' : 'mismatch';
  if (e.bpReg === ORC_REG_PREV_SP) return e.bpOffset === f.savedBp ? 'match' : 'mismatch';
  if (e.bpReg === ORC_REG_BP && f.slotFromBp !== undefined) return e.bpOffset === f.slotFromBp ? 'match' : 'mismatch';
  return e.bpReg === ORC_REG_UNDEFINED ? 'mismatch' : 'entry base';
}

interface Func {
  name: string;
  sec: number;
  start: number;
  end: number;
  /** The function's .cold part(s): reached only from the function, with its frame. */
  cold: { start: number; end: number }[];
}

function functions(elf: ElfFile): Func[] {
  const syms = elf.symbols;
  const out: Func[] = [];
  const seen = new Map<string, Func>();
  const byName = new Map<string, Func>();
  if (!syms) return out;
  for (let i = 1; i < syms.count; i++) {
    if (syms.type(i) !== STT_FUNC || !syms.isDefined(i) || !syms.size[i]) continue;
    const sec = syms.shndx[i]!;
    const s = elf.section(sec);
    if (!s || !s.isExec) continue;
    const key = `${sec}:${syms.value[i]}`;
    // Aliases share one walk; every name still finds it (a .cold part is named after one of them).
    const known = seen.get(key);
    if (known) {
      byName.set(syms.name(i), known);
      continue;
    }
    const f: Func = { name: syms.name(i), sec, start: syms.value[i]!, end: syms.value[i]! + syms.size[i]!, cold: [] };
    seen.set(key, f);
    byName.set(f.name, f);
    out.push(f);
  }
  // A .cold part is entered from its parent, never called: walk it as part of the parent.
  const parents: Func[] = [];
  for (const f of out) {
    const at = f.name.indexOf('.cold');
    const parent = at > 0 ? byName.get(f.name.slice(0, at)) : undefined;
    // (A .cold part in another section than its parent is not reached: the walk stays in one section.)
    if (parent && parent.sec === f.sec) parent.cold.push({ start: f.start, end: f.end });
    else if (!parent) parents.push(f);
  }
  return parents;
}

/** Walk every path of `fn` in `elf`'s bytes and judge each boundary. */
function walkFunction(elf: ElfFile, ds: DecodedSection, fn: Func, t: Table, layout: KernelLayout, variant: string, r: VerifyReport): void {
  const first = indexAt(ds, fn.start);
  if (first < 0) return;
  const rel = elf.relocationsFor(elf.section(fn.sec)!);
  const syms = elf.symbols!;
  const seen = new Map<number, Frame>();
  const work: [number, Frame][] = [[first, entryFrame()]];
  const entry: OrcEntry = { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, signal: false, end: false };
  while (work.length) {
    let [i, f] = work.pop()!;
    for (;;) {
      const off = ds.offset[i]!;
      if ((off < fn.start || off >= fn.end) && !fn.cold.some((c) => off >= c.start && off < c.end)) break;
      const prev = seen.get(i);
      if (prev) {
        // Paths meeting with different frames: the code may be fine, but it is not verified.
        if (!sameFrame(prev, f)) unverified(r, 'paths disagree');
        break;
      }
      seen.set(i, f);
      const k = orcFind(t, fn.sec, off);
      if (k < 0) unverified(r, 'no entry');
      else {
        unpackOrcEntry(t.entries, k * 6, layout.orc, entry);
        const v = judge(f, entry, layout);
        if (v !== 'match' && v !== 'mismatch') unverified(r, v);
        else {
          r.checked++;
          r.usedEntries.add(k);
          if (v === 'mismatch') {
            const where = off >= fn.start && off < fn.end ? `${fn.name}+0x${(off - fn.start).toString(16)}` : `${fn.name}.cold+0x${(off - fn.cold.find((c) => off >= c.start && off < c.end)!.start).toString(16)}`;
            r.mismatches.push({ location: where, variant, expected: describeFrame(f), found: describeEntry(entry, layout) });
          }
        }
      }
      const type = ds.type[i]!;
      if (type === InsnType.RETURN || type === InsnType.JUMP_DYNAMIC || type === InsnType.CONTEXT_SWITCH || type === InsnType.BUG || type === InsnType.TRAP) break;
      if (type === InsnType.CALL && rel) {
        // Nothing runs after a call to a function known never to return (the kernel's list).
        const rc = rel.firstInRange(off, off + ds.len[i]!);
        if (rc >= 0 && isNoreturnByName(layout, syms.name(rel.sym(rc)), syms.bind(rel.sym(rc)))) break;
      }
      const next = step(ds, i, f);
      if (type === InsnType.JUMP_CONDITIONAL || type === InsnType.JUMP_UNCONDITIONAL) {
        let target: number | undefined;
        const r0 = rel ? rel.firstInRange(off, off + ds.len[i]!) : -1;
        if (r0 >= 0) {
          const s = rel!.sym(r0);
          if (syms.isDefined(s) && syms.shndx[s] === fn.sec) target = syms.value[s]! + rel!.addend(r0) + 4;
        } else if (ds.flags[i]! & InsnFlag.REL_TARGET) target = ds.target[i]!;
        const ti = target !== undefined ? indexAt(ds, target) : -1;
        if (ti >= 0) work.push([ti, next]);
        if (type === InsnType.JUMP_UNCONDITIONAL) break;
      }
      f = next;
      i++;
      if (i >= ds.count) break;
    }
  }
}

function verifyVariant(elf: ElfFile, t: Table, layout: KernelLayout, variant: string, only: Set<number> | undefined, fns: Func[], r: VerifyReport): void {
  r.variants++;
  const decoded = new Map<number, DecodedSection>();
  // Only the named functions when given: a one-site variant differs from the original nowhere else.
  for (const k of only ?? fns.keys()) {
    const fn = fns[k]!;
    let ds = decoded.get(fn.sec);
    if (!ds) {
      ds = decodeSection(elf.section(fn.sec)!.data, elf.section(fn.sec)!.name, { onInvalid: 'skip', variant: layout.decoder });
      decoded.set(fn.sec, ds);
    }
    walkFunction(elf, ds, fn, t, layout, variant, r);
  }
}

function patchedVariant(elf: ElfFile, layout: KernelLayout, features: Set<number>, select?: (a: SpecialAlt) => boolean): ElfFile {
  const { editor } = applyPatches(elf, layout, features, select ? { select, paravirt: false } : {});
  return Elf.fromBytes(editor.serialize(), elf.path);
}

export function verify(elf: ElfFile, layout: KernelLayout): VerifyReport {
  const r: VerifyReport = { variants: 0, functions: 0, checked: 0, unverified: 0, mismatches: [], usedEntries: new Set(), reasons: {} };
  const t = buildTable(elf);
  if (!t) return r;
  const fns = functions(elf);
  r.functions = fns.length;
  verifyVariant(elf, t, layout, 'original', undefined, fns, r);
  const alts = specialGetAlts(elf, layout).filter((a) => a.kind === 'alternative');
  const fnOf = (sec: number, off: number) => fns.findIndex((f) => f.sec === sec && ((f.start <= off && off < f.end) || f.cold.some((c) => c.start <= off && off < c.end)));
  const none = new Set<number>();
  for (const a of alts) {
    const fi = fnOf(a.origSec, a.origOff);
    if (fi < 0) continue;
    const v = patchedVariant(elf, layout, none, (x) => x === a);
    verifyVariant(v, t, layout, `${a.section}[${a.index}] ${a.not ? '!' : ''}${a.cpuid}`, new Set([fi]), fns, r);
  }
  if (alts.length || layout.hasParainstructions) {
    const touched = new Set<number>();
    for (const a of alts) {
      const fi = fnOf(a.origSec, a.origOff);
      if (fi >= 0) touched.add(fi);
    }
    for (const [name, list] of Object.entries(BOOT_PROFILES)) {
      let features: Set<number>;
      try {
        features = parseFeatures(list, layout);
      } catch {
        continue;
      }
      const v = patchedVariant(elf, layout, features);
      verifyVariant(v, t, layout, `profile: ${name}`, layout.hasParainstructions ? undefined : touched, fns, r);
    }
  }
  return r;
}
