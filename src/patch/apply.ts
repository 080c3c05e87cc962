// SPDX-License-Identifier: GPL-2.0-only
// Apply an object's alternatives (and, up to 6.7, its paravirt sites) for a CPU feature set the
// way the kernel does at boot (arch/x86/kernel/alternative.c apply_alternatives() and
// apply_paravirt() of the object's version), producing the bytes the kernel would run.
//
// The object is relocatable, so "re-targeting" a relative operand means moving its relocation to
// the patched place: the linker then computes it for the new address, as the kernel's fix-up
// does. Where the kernel shortens a JMP.d32 to JMP.d8, that is done when the target lies in the
// same section as the site (the distance is known); otherwise the long form and its relocation
// stay. A DIRECT_CALL site (6.8+) and a paravirt site become a direct call to the pv_ops target
// when that table is initialised in this object; otherwise the site is reported as unresolved.
//
// A linked image (vmlinux) has no relocations: its bytes are final, so the patching works by
// address as the kernel does (apply_relocation(): a relative operand pointing outside the
// replacement gets the distance between replacement and site added; a DIRECT_CALL site calls what
// its pv_ops slot holds), with the same choices as for the object (see retargetLinked()).
import type { ElfFile } from '../elf/reader.js';
import { LinkedImage } from '../elf/linked.js';
import type { RelocTable } from '../elf/relocations.js';
import { ElfEditor, type NewReloc } from '../elf/writer.js';
import { R_X86_64_64, R_X86_64_NONE, R_X86_64_PC32, R_X86_64_PLT32, SHT_NOBITS, SHT_RELA } from '../elf/constants.js';
import { KernelMetadataError } from '../kernel/common.js';
import { specialGetAlts, readParainstructions, type SpecialAlt } from '../kernel/alternatives.js';
import type { KernelLayout } from '../kernel/versions.js';
import { decodeSection, InsnFlag, type DecodedSection } from '../x86/index.js';
import { addNops, optimizeNops61, optimizeNops612 } from './nops.js';

const R_X86_64_PC8 = 15;

/** Which bytes of a buffer of `len` the relocations fill (1 each): 8 for R_X86_64_64, 1 for PC8, else 4. */
function relocMask(len: number, relocs: readonly { offset: number; type: number }[]): Uint8Array {
  const mask = new Uint8Array(len);
  for (const r of relocs) {
    const size = r.type === R_X86_64_64 ? 8 : r.type === R_X86_64_PC8 ? 1 : 4;
    mask.fill(1, r.offset, Math.min(len, r.offset + size));
  }
  return mask;
}

export interface PatchedSite {
  kind: 'alternative' | 'paravirt';
  sectionIndex: number;
  section: string;
  offset: number;
  len: number;
  /** Feature name (or number) and flags, e.g. `!XENPV`, `ALWAYS (direct call)`. */
  condition: string;
  applied: boolean;
  before: Uint8Array;
  after: Uint8Array;
  note?: string;
}

export interface PatchResult {
  editor: ElfEditor;
  sites: PatchedSite[];
}

/** Parse `--features`: names (XENPV, SMAP, BUG_SPECTRE_V2, X86_FEATURE_SMAP) or numbers; ALWAYS is implied. */
export function parseFeatures(list: string, layout: KernelLayout): Set<number> {
  const table = layout.patching.cpufeatures;
  // The kernel forces X86_FEATURE_ALWAYS on every CPU.
  const out = new Set<number>([table['ALWAYS']!]);
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (/^\d+$/.test(raw)) {
      out.add(Number(raw));
      continue;
    }
    const m = /^(\d+)\s*\*\s*32\s*\+\s*(\d+)$/.exec(raw);
    if (m) {
      out.add(Number(m[1]) * 32 + Number(m[2]));
      continue;
    }
    const name = raw.toUpperCase().replace(/^X86_FEATURE_/, '').replace(/^X86_BUG_/, 'BUG_');
    const n = table[name];
    if (n === undefined) throw new Error(`unknown CPU feature '${raw}' for the ${layout.name} layout`);
    out.add(n);
  }
  return out;
}

/** Feature number -> name, built once per layout (a patch run names every site). */
const featureNames = new WeakMap<KernelLayout, Map<number, string>>();

export function featureName(n: number, layout: KernelLayout): string {
  let names = featureNames.get(layout);
  if (!names) {
    names = new Map();
    // The first name of a number wins, as a scan of the table in order would find it.
    for (const [k, v] of Object.entries(layout.patching.cpufeatures)) if (!names.has(v)) names.set(v, k);
    featureNames.set(layout, names);
  }
  return names.get(n) ?? `${n >> 5}*32+${n & 31}`;
}

/** A relocation while patching: section index of its symbol's definition is kept for distances. */
export interface PendingReloc {
  /** Offset in the section being patched. */
  offset: number;
  type: number;
  /** Symbol index, or -1 when the relocation is against `secSym`'s section symbol. */
  sym: number;
  secSym?: number;
  addend: number;
}

/** One section while it is patched: its bytes (patched in place) and relocation changes. */
export class SectionState {
  /** Original relocation indices dropped because their bytes were replaced. */
  readonly dropped = new Set<number>();
  /**
   * Relocations the patching added, by offset (those at one offset in the order added): kept
   * sorted as they come, since vmlinux.o's thousands of sites each look up and clear their range.
   */
  readonly added: PendingReloc[] = [];
  /** Byte ranges [start, end) the patching wrote (pairs), in the order written. */
  readonly written: number[] = [];
  /** `bytes` is patched in place: pass a copy to keep the original. */
  constructor(readonly index: number, readonly bytes: Uint8Array, readonly relocs: RelocTable | undefined) {}

  /** The first added relocation at or after `offset` (`after`: past `offset`). */
  private addedFrom(offset: number, after = false): number {
    const a = this.added;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.offset < offset || (after && a[mid]!.offset === offset)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(r: PendingReloc): void {
    this.added.splice(this.addedFrom(r.offset, true), 0, r);
  }

  /** The relocations (original and not dropped, or added) inside [start, end), at offsets from `start`. */
  relocsIn(start: number, end: number): { offset: number; type: number }[] {
    const out: { offset: number; type: number }[] = [];
    if (this.relocs) {
      for (const i of this.relocs.inRange(start, end)) if (!this.dropped.has(i)) out.push({ offset: this.relocs.offset(i) - start, type: this.relocs.type(i) });
    }
    for (let k = this.addedFrom(start); k < this.added.length && this.added[k]!.offset < end; k++) out.push({ offset: this.added[k]!.offset - start, type: this.added[k]!.type });
    return out;
  }

  /** Forget every relocation (original or added) inside [start, end). */
  clear(start: number, end: number): void {
    if (this.relocs) for (const i of this.relocs.inRange(start, end)) this.dropped.add(i);
    const from = this.addedFrom(start);
    this.added.splice(from, this.addedFrom(end) - from);
  }
}

export interface PatchSelection {
  /** Decide each alternative entry instead of the feature test (verify's one-replacement variants). */
  select?: (alt: SpecialAlt) => boolean;
  /** Patch the paravirt sites (6.1) too; default true. */
  paravirt?: boolean;
}

/**
 * The patching of one object, entry by entry: what apply_alternatives() does to each site, on
 * section states the caller owns. Reads the special sections once, so that `verify` can patch
 * one site at a time without redoing the whole object.
 */
export class Patcher {
  /** The .altinstructions entries, in section order (the order the kernel applies them). */
  readonly alts: SpecialAlt[];
  /** Bytes each entry patches: its site's longest length (nested ALTERNATIVE()s share a site). */
  readonly siteLen: Int32Array;
  private readonly p: KernelLayout['patching'];
  /** The address layer of a linked image; undefined for a relocatable object. */
  private readonly linked: LinkedImage | undefined;

  /** `special`: the object's special section entries, when the caller has read them already. */
  constructor(readonly elf: ElfFile, readonly layout: KernelLayout, special: readonly SpecialAlt[] = specialGetAlts(elf, layout)) {
    this.linked = LinkedImage.of(elf);
    this.alts = special.filter((a) => a.kind === 'alternative');
    const longest = new Map<string, number>();
    for (const a of this.alts) {
      const k = `${a.origSec}:${a.origOff}`;
      longest.set(k, Math.max(longest.get(k) ?? 0, a.entryOrigLen, a.origLen));
    }
    this.siteLen = Int32Array.from(this.alts, (a) => longest.get(`${a.origSec}:${a.origOff}`)!);
    this.p = layout.patching;
    // (a damaged entry would have the patching write outside its section: refused, never done)
    this.alts.forEach((a, k) => {
      inside(elf, a, 'original', a.origSec, a.origOff, this.siteLen[k]!);
      if (a.newLen) inside(elf, a, 'replacement', a.newSec, a.newOff, a.newLen);
    });
  }

  /** A state over a copy of a section's bytes. */
  state(sec: number): SectionState {
    const section = this.elf.section(sec)!;
    // (a linked image's relocation sections, if kept, hold addresses: never read here)
    return new SectionState(sec, new Uint8Array(section.data), this.linked ? undefined : this.elf.relocationsFor(section));
  }

  /** optimize_nops() results by site bytes: the same few byte patterns recur at thousands of sites. */
  private readonly optimized = new Map<string, Uint8Array>();
  /** Decoded replacement buffers by their bytes, for retarget(). */
  private readonly decodedBufs = new Map<string, DecodedSection>();

  /**
   * optimize_nops() on a site's buffer; `relocs` are the relocations that will fill its operands
   * (7.x's insn_is_nop() must not take those zero bytes for a `jmp +0` or `lea 0(%reg)`).
   */
  private optimize(buf: Uint8Array, relocs: readonly { offset: number; type: number }[] = []): void {
    const mask = this.p.optimizeNops === '7.3' ? relocMask(buf.length, relocs) : undefined;
    const key = String.fromCharCode(...buf) + (mask ? `|${String.fromCharCode(...mask)}` : '');
    const known = this.optimized.get(key);
    if (known) {
      buf.set(known);
      return;
    }
    if (this.p.optimizeNops === '6.1') optimizeNops61(buf, this.p.nopMax);
    else if (this.p.optimizeNops === '6.12') optimizeNops612(buf, this.p.nopMax);
    else optimizeNops612(buf, this.p.nopMax, '7.3', (off) => mask![off] === 1);
    this.optimized.set(key, buf.slice());
  }

  private readonly decodeBuf = (buf: Uint8Array): DecodedSection => {
    const key = String.fromCharCode(...buf);
    let ds = this.decodedBufs.get(key);
    if (!ds) this.decodedBufs.set(key, (ds = decodeSection(buf, 'patch buffer', { onInvalid: 'skip' })));
    return ds;
  };

  // The section-relative place a relocation points to, when its symbol is defined.
  private readonly relocTarget = (r: { sym: number; addend: number }): { sec: number; off: number } | undefined => {
    const syms = this.elf.symbols;
    if (!syms || !syms.isDefined(r.sym)) return undefined;
    return { sec: syms.shndx[r.sym]!, off: syms.value[r.sym]! + r.addend };
  };

  // What a pv_ops slot holds, when the table is initialised in this object.
  private pvTarget(ptr: { sec: number; off: number } | undefined): { sym: number; addend: number } | 'null' | undefined {
    if (!ptr) return undefined;
    const table = this.elf.relocationsFor(this.elf.section(ptr.sec)!);
    const i = table ? table.at(ptr.off) : -1;
    if (i >= 0 && table!.type(i) === R_X86_64_64) return { sym: table!.sym(i), addend: table!.addend(i) };
    // The slot is in this object but nothing is stored there: a NULL pointer.
    return 'null';
  }

  /**
   * Entry `k` of `alts` on its site in `st` (the state of its section): the replacement when
   * `patch`, else the original with its NOPs optimized. Describes the site into `sites` if given.
   */
  patchAlt(k: number, st: SectionState, patch: boolean, sites?: PatchedSite[]): void {
    const a = this.alts[k]!;
    const elf = this.elf;
    const len = this.siteLen[k]!;
    let site: PatchedSite | undefined;
    if (sites) {
      const before = st.bytes.slice(a.origOff, a.origOff + len);
      const condition = `${a.not ? '!' : ''}${featureName(a.cpuid, this.layout)}${a.directCall ? ' (direct call)' : ''}`;
      site = { kind: 'alternative', sectionIndex: a.origSec, section: elf.section(a.origSec)!.name, offset: a.origOff, len, condition, applied: false, before, after: before };
      sites.push(site);
    }
    st.written.push(a.origOff, a.origOff + len);
    if (!patch) {
      const buf = st.bytes.subarray(a.origOff, a.origOff + len);
      this.optimize(buf, st.relocsIn(a.origOff, a.origOff + len));
      if (site) site.after = buf.slice();
      return;
    }
    const repl = elf.section(a.newSec);
    const replBytes = a.newLen && repl ? repl.data.subarray(a.newOff, a.newOff + a.newLen) : new Uint8Array(0);
    const buf = new Uint8Array(len);
    buf.set(replBytes.subarray(0, Math.min(a.newLen, len)));
    // The replacement's own relocations, positioned within the buffer.
    const relocs: PendingReloc[] = [];
    const linked = this.linked;
    const rt = repl && !linked ? elf.relocationsFor(repl) : undefined;
    if (rt) for (const i of rt.inRange(a.newOff, a.newOff + a.newLen)) relocs.push({ offset: rt.offset(i) - a.newOff, type: rt.type(i), sym: rt.sym(i), addend: rt.addend(i) });
    let size = a.newLen;
    // Linked: where a DIRECT_CALL site's call goes, once its pv_ops slot is read.
    let direct: { sec: number; off: number } | undefined;

    if (a.directCall && linked) {
      // `call *disp(%rip)`: the slot is at the next instruction + disp.
      const disp = new DataView(st.bytes.buffer, st.bytes.byteOffset).getInt32(a.origOff + 2, true);
      const slot = linked.target(a.origSec, a.origOff + 6, disp);
      const slotSec = slot ? elf.section(slot.sec) : undefined;
      const target = slotSec && slotSec.size >= slot!.off + 8 ? linked.pointer(slotSec, slot!.off) : undefined;
      if (target && target !== 'null') {
        if (linked.symbolsAt(target.sec, target.off).some((i) => linked.symbols!.name(i) === 'nop_func')) size = 0;
        else direct = target;
      } else if (target === undefined && site) {
        site.note = 'pv_ops target not initialised in this image: left as the replacement (call BUG_func)';
      }
    } else if (a.directCall) {
      // alt_replace_call(): `call *ptr(%rip)` becomes `call <what ptr holds>`.
      const orig = st.relocs ? st.relocs.at(a.origOff + 2) : -1;
      const ptr = orig >= 0 && !st.dropped.has(orig) ? this.relocTarget({ sym: st.relocs!.sym(orig), addend: st.relocs!.addend(orig) + 4 }) : undefined;
      const target = this.pvTarget(ptr);
      if (target && target !== 'null') {
        const name = elf.symbols!.name(target.sym);
        relocs.length = 0;
        if (name === 'nop_func') size = 0;
        else relocs.push({ offset: 1, type: R_X86_64_PLT32, sym: target.sym, addend: target.addend - 4 });
      } else if (target === undefined && site) {
        site.note = 'pv_ops target not initialised in this object: left as the replacement (call BUG_func)';
      }
    }
    buf.fill(0x90, size);
    if (size === 0) relocs.length = 0;
    if (linked) {
      if (size) retargetLinked(buf, a, this.layout, st.index, linked, site, this.decodeBuf);
      if (direct) setRel32(buf, 1, linked.rel(direct.sec, direct.off) - linked.rel(a.origSec, a.origOff + 5));
    } else retarget(buf, relocs, a, this.layout, st.index, this.relocTarget, site, this.decodeBuf);
    this.optimize(buf, relocs);
    st.clear(a.origOff, a.origOff + len);
    st.bytes.set(buf, a.origOff);
    for (const r of relocs) st.add({ ...r, offset: a.origOff + r.offset });
    if (site) {
      site.applied = true;
      site.after = buf.slice();
    }
  }

  /** 6.1 paravirt sites: a direct call to the slot's function, NOPs for _paravirt_nop. */
  patchParavirt(state: (sec: number) => SectionState, sites?: PatchedSite[]): void {
    const elf = this.elf;
    const syms = elf.symbols;
    for (const ps of readParainstructions(elf, this.layout)) {
      const sec = elf.section(ps.instrSec);
      if (!sec || sec.type === SHT_NOBITS || ps.instrOff < 0 || ps.instrOff + ps.len > sec.size) {
        throw new KernelMetadataError(elf.path, '.parainstructions', ps.offset, `.parainstructions[${ps.index}]: the site (${ps.len} bytes at ${sec?.name ?? `section ${ps.instrSec}`}+0x${ps.instrOff.toString(16)}) is not inside its section`);
      }
      const st = state(ps.instrSec);
      const before = st.bytes.slice(ps.instrOff, ps.instrOff + ps.len);
      const site: PatchedSite = { kind: 'paravirt', sectionIndex: ps.instrSec, section: elf.section(ps.instrSec)!.name, offset: ps.instrOff, len: ps.len, condition: `pv_ops[${ps.type}]`, applied: false, before, after: before };
      sites?.push(site);
      if (this.linked) {
        this.paravirtLinked(this.linked, ps, st, site);
        continue;
      }
      const pvOps = syms ? syms.byNameIndex('pv_ops') : -1;
      const target = pvOps >= 0 && syms!.isDefined(pvOps) ? this.pvTarget({ sec: syms!.shndx[pvOps]!, off: syms!.value[pvOps]! + ps.type * 8 }) : undefined;
      if (target === undefined) {
        site.note = 'pv_ops is not initialised in this object: site left as the indirect call';
        continue;
      }
      const buf = new Uint8Array(ps.len);
      const relocs: PendingReloc[] = [];
      let used = 0;
      const callTo = (sym: number, addend: number): void => {
        buf[0] = 0xe8;
        relocs.push({ offset: 1, type: R_X86_64_PLT32, sym, addend: addend - 4 });
        used = 5;
      };
      if (target === 'null') {
        const bug = syms!.byNameIndex('paravirt_BUG');
        if (bug >= 0) callTo(bug, 0);
        else site.note = 'paravirt_BUG is not in this object';
      } else if (syms!.name(target.sym) !== '_paravirt_nop') {
        callTo(target.sym, target.addend);
      }
      if (used > ps.len) continue;
      addNops(buf, used, ps.len - used, this.p.nopMax);
      st.clear(ps.instrOff, ps.instrOff + ps.len);
      st.bytes.set(buf, ps.instrOff);
      st.written.push(ps.instrOff, ps.instrOff + ps.len);
      for (const r of relocs) st.add({ ...r, offset: ps.instrOff + r.offset });
      site.applied = true;
      site.after = buf.slice();
    }
  }

  /** patchParavirt() on one site of a linked image: the call's distance computed by address. */
  private paravirtLinked(linked: LinkedImage, ps: ReturnType<typeof readParainstructions>[number], st: SectionState, site: PatchedSite): void {
    const syms = linked.symbols;
    const sym = (name: string): { sec: number; off: number } | undefined => {
      const i = syms ? syms.byNameIndex(name) : -1;
      return i >= 0 && syms!.isDefined(i) && linked.placed(syms!.shndx[i]!) ? { sec: syms!.shndx[i]!, off: syms!.value[i]! } : undefined;
    };
    const pvOps = sym('pv_ops');
    const slotSec = pvOps ? this.elf.section(pvOps.sec) : undefined;
    const target = slotSec && slotSec.size >= pvOps!.off + ps.type * 8 + 8 ? linked.pointer(slotSec, pvOps!.off + ps.type * 8) : undefined;
    if (target === undefined) {
      site.note = 'pv_ops is not in this image: site left as the indirect call';
      return;
    }
    const buf = new Uint8Array(ps.len);
    let used = 0;
    const callTo = (t: { sec: number; off: number }): void => {
      buf[0] = 0xe8;
      setRel32(buf, 1, linked.rel(t.sec, t.off) - linked.rel(ps.instrSec, ps.instrOff + 5));
      used = 5;
    };
    if (target === 'null') {
      const bug = sym('paravirt_BUG');
      if (bug) callTo(bug);
      else site.note = 'paravirt_BUG is not in this image';
    } else if (!linked.symbolsAt(target.sec, target.off).some((i) => syms!.name(i) === '_paravirt_nop')) {
      callTo(target);
    }
    if (used > ps.len) return;
    addNops(buf, used, ps.len - used, this.p.nopMax);
    st.clear(ps.instrOff, ps.instrOff + ps.len);
    st.bytes.set(buf, ps.instrOff);
    st.written.push(ps.instrOff, ps.instrOff + ps.len);
    site.applied = true;
    site.after = buf.slice();
  }

  /** Every site for a feature set (or a selection), as the kernel patches them at boot. */
  run(features: Set<number>, selection: PatchSelection = {}, sites?: PatchedSite[]): Map<number, SectionState> {
    const states = new Map<number, SectionState>();
    const state = (sec: number): SectionState => {
      let s = states.get(sec);
      if (!s) states.set(sec, (s = this.state(sec)));
      return s;
    };
    this.alts.forEach((a, k) => this.patchAlt(k, state(a.origSec), selection.select ? selection.select(a) : features.has(a.cpuid) !== a.not, sites));
    if (this.layout.hasParainstructions && selection.paravirt !== false) this.patchParavirt(state, sites);
    return states;
  }
}

export function applyPatches(elf: ElfFile, layout: KernelLayout, features: Set<number>, selection: PatchSelection = {}): PatchResult {
  const editor = new ElfEditor(elf);
  const sites: PatchedSite[] = [];
  const states = new Patcher(elf, layout).run(features, selection, sites);
  for (const st of states.values()) {
    editor.setSectionData(st.index, st.bytes);
    const relSec = elf.relocSectionFor(elf.section(st.index)!);
    if (relSec) for (const i of st.dropped) editor.setRelocType(relSec.index, i, R_X86_64_NONE);
    const added: NewReloc[] = sortedAdded(st).map((r) => ({
      offset: r.offset, type: r.type, sym: r.secSym !== undefined ? editor.sectionSymbol(r.secSym) : r.sym, addend: r.addend,
    }));
    if (added.length === 0) continue;
    if (relSec && relSec.type === SHT_RELA) editor.appendRelocs(relSec.index, added);
    else editor.addRelaSection(st.index, added);
  }
  return { editor, sites };
}

/** A state's added relocations in the order they are written out: by offset, stable (as SectionState keeps them). */
export function sortedAdded(st: SectionState): PendingReloc[] {
  return st.added;
}

/**
 * The operands of a copied replacement the kernel's fix-up looks at: relative ones, and with
 * `all` (6.12+) RIP-relative ones too; where each is, its width, and whether 6.1 fixes it (a
 * 5-byte CALL replacement, a leading JMP).
 */
function* relativeOperands(ds: DecodedSection, buf: Uint8Array, newLen: number, all: boolean):
  Generator<{ at: number; len: number; op: number; pos: number; width: number; fixed61: boolean }> {
  for (let k = 0; k < ds.count; k++) {
    const at = ds.offset[k]!;
    const len = ds.len[k]!;
    if (at >= newLen) break;
    const rel = (ds.flags[k]! & InsnFlag.REL_TARGET) !== 0;
    const rip = (ds.flags[k]! & InsnFlag.RIP) !== 0;
    if (!rel && !(rip && all)) continue;
    const op = buf[at]!;
    const fixed61 = (newLen === 5 && at === 0 && op === 0xe8) || (at === 0 && (op === 0xe9 || op === 0xeb) && newLen === 5);
    yield { at, len, op, pos: rel ? ds.immPos[k]! : ds.dispPos[k]!, width: rel ? ds.fieldSizes[k]! >>> 4 : ds.fieldSizes[k]! & 0xf, fixed61 };
  }
}

/**
 * The kernel's fix-up of relative operands in the copied bytes. Relocated operands keep their
 * relocation (it moves with the bytes); an unrelocated operand pointing outside the replacement
 * gets a relocation to that place in the replacement section.
 */
function retarget(
  buf: Uint8Array, relocs: PendingReloc[], a: SpecialAlt, layout: KernelLayout, siteSec: number,
  relocTarget: (r: { sym: number; addend: number }) => { sec: number; off: number } | undefined, site: PatchedSite | undefined,
  decode: (buf: Uint8Array) => DecodedSection,
): void {
  if (a.newLen === 0) return;
  const ds = decode(buf);
  const all = layout.patching.retarget === 'all';
  for (const { at, len, op, pos, width, fixed61 } of relativeOperands(ds, buf, a.newLen, all)) {
    const ri = relocs.findIndex((r) => r.offset === at + pos);
    if (ri < 0) {
      // Unrelocated: relative to the replacement itself unless it points outside it.
      const view = new DataView(buf.buffer, buf.byteOffset);
      const disp = width === 1 ? view.getInt8(at + pos) : width === 2 ? view.getInt16(at + pos, true) : view.getInt32(at + pos, true);
      const target = at + len + disp;
      if (target >= 0 && target <= a.newLen) continue;
      if (!all && !fixed61) {
        if (site) site.note = 'relative operand outside the replacement that this kernel version does not re-target';
        continue;
      }
      const type = width === 1 ? R_X86_64_PC8 : R_X86_64_PC32;
      buf.fill(0, at + pos, at + pos + width);
      relocs.push({ offset: at + pos, type, sym: -1, secSym: a.newSec, addend: a.newOff + target - (len - pos) });
      continue;
    }
    if (!all && !fixed61 && site) site.note = 'relocated operand that 6.1 would not re-target (kept relocated)';
    // A JMP.d32 whose target is in the site's section: the kernel shortens it when it fits.
    const r = relocs[ri]!;
    const isJmp32 = op === 0xe9 && at === 0 || (all && op === 0xe9);
    if (!isJmp32 || (r.type !== R_X86_64_PC32 && r.type !== R_X86_64_PLT32)) continue;
    const t = r.sym >= 0 ? relocTarget({ sym: r.sym, addend: r.addend + 4 }) : undefined;
    if (!t || t.sec !== siteSec) continue;
    const imm = t.off - (a.origOff + at + 2);
    if (imm < -128 || imm > 127) continue;
    buf[at] = 0xeb;
    buf[at + 1] = imm & 0xff;
    if (all) buf.fill(0xcc, at + 2, at + len);
    else addNops(buf, at + 2, 3, layout.patching.nopMax);
    relocs.splice(ri, 1);
  }
}


/** Refuse an entry whose bytes (original or replacement) are not all inside their section. */
function inside(elf: ElfFile, a: SpecialAlt, what: string, sec: number, off: number, len: number): void {
  const s = elf.section(sec);
  if (s && sec !== 0 && s.type !== SHT_NOBITS && off >= 0 && off + len <= s.size) return;
  const where = s && sec !== 0 ? `${s.name}+0x${off.toString(16)}` : `section ${sec}`;
  throw new KernelMetadataError(elf.path, a.section, a.offset, `${a.section}[${a.index}]: the ${what} (${len} bytes at ${where}) is not inside its section`);
}

function setRel32(buf: Uint8Array, at: number, v: number): void {
  new DataView(buf.buffer, buf.byteOffset).setInt32(at, v, true);
}

/**
 * retarget() for a linked image, by address: a relative operand pointing outside the replacement
 * gets the distance from the replacement to the site added (apply_reloc()), so that it still
 * points where it did. The object's choices are kept: there, an operand pointing into another
 * section is relocated (it moves with the bytes, whatever the version re-targets, and a JMP.d32
 * to the site's section becomes JMP.d8 where it fits), while one pointing elsewhere in the
 * replacement section is re-targeted only by versions that do so.
 */
function retargetLinked(
  buf: Uint8Array, a: SpecialAlt, layout: KernelLayout, siteSec: number, linked: LinkedImage, site: PatchedSite | undefined,
  decode: (buf: Uint8Array) => DecodedSection,
): void {
  if (a.newLen === 0) return;
  const ds = decode(buf);
  const all = layout.patching.retarget === 'all';
  const view = new DataView(buf.buffer, buf.byteOffset);
  const replAt = linked.rel(a.newSec, a.newOff);
  // repl - instr
  const shift = replAt - linked.rel(siteSec, a.origOff);
  for (const { at, len, op, pos, width, fixed61 } of relativeOperands(ds, buf, a.newLen, all)) {
    const disp = width === 1 ? view.getInt8(at + pos) : width === 2 ? view.getInt16(at + pos, true) : view.getInt32(at + pos, true);
    const target = at + len + disp;
    if (target >= 0 && target <= a.newLen) continue;
    const to = linked.locate(replAt + target);
    // (in the object: no relocation, the assembler resolved it in the replacement section)
    const inReplSection = to !== undefined && to.sec === a.newSec;
    if (inReplSection && !all && !fixed61) {
      if (site) site.note = 'relative operand outside the replacement that this kernel version does not re-target';
      continue;
    }
    if (!inReplSection && !all && !fixed61 && site) site.note = 'relocated operand that 6.1 would not re-target (kept relocated)';
    const v = disp + shift;
    if (width === 1 ? v < -128 || v > 127 : width === 2 ? v < -32768 || v > 32767 : false) {
      if (site) site.note = 'relative operand out of reach of the site: left as it was';
      continue;
    }
    if (width === 1) view.setInt8(at + pos, v);
    else if (width === 2) view.setInt16(at + pos, v, true);
    else view.setInt32(at + pos, v, true);
    // A JMP.d32 whose target is in the site's section: the kernel shortens it when it fits.
    const isJmp32 = op === 0xe9 && at === 0 || (all && op === 0xe9);
    if (!isJmp32 || inReplSection || !to || to.sec !== siteSec) continue;
    const imm = to.off - (a.origOff + at + 2);
    if (imm < -128 || imm > 127) continue;
    buf[at] = 0xeb;
    buf[at + 1] = imm & 0xff;
    if (all) buf.fill(0xcc, at + 2, at + len);
    else addNops(buf, at + 2, 3, layout.patching.nopMax);
  }
}
