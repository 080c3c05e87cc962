// SPDX-License-Identifier: GPL-2.0-only
// The special sections whose code can be patched in or jumped to at run time, read as objtool's
// special_get_alts() reads them (special.c, arch/x86/special.c): .altinstructions (struct
// alt_instr, layout per kernel version), __jump_table (struct jump_entry) and __ex_table (struct
// exception_table_entry), in that order, one record per entry. Also .parainstructions (up to
// 6.7), which objtool never reads: listed for the patching feature, stack-neutral.
// In a relocatable object every field is read through its relocation, as objtool does; in a
// linked image (a vmlinux, for `verify`) there are none: the self-relative fields (`.long X - .`)
// and absolute pointers are resolved by address (src/elf/linked.ts).
import { R_X86_64_64 } from '../elf/constants.js';
import type { ElfFile } from '../elf/reader.js';
import { LinkedImage } from '../elf/linked.js';
import type { Section } from '../elf/section.js';
import type { AltInstrLayout, KernelLayout, ParaInstrLayout } from './versions.js';
import { KernelMetadataError, offstr, relocAt, type RelocRef, relocRef, relocsOf, relocTarget } from './common.js';
import type { RelocTable } from '../elf/relocations.js';
import { ANNOTATE_INSN, type AnnotationTarget, readAnnotations } from './annotations.js';

export type SpecialKind = 'alternative' | 'jump_label' | 'ex_table';

/** objtool's struct special_alt, plus what it read the entry from. */
export interface SpecialAlt {
  kind: SpecialKind;
  /** .altinstructions entries: the original and replacement are instruction groups. */
  group: boolean;
  /** __jump_table entries: the original is a JMP or a NOP. */
  jumpOrNop: boolean;
  /** Validate only the replacement (X86_FEATURE_POPCNT; X86_FEATURE_SMAP with --uaccess). */
  skipOrig: boolean;
  /** Ignore the replacement (X86_FEATURE_SMAP without --uaccess). */
  skipAlt: boolean;
  /** __jump_table: the key relocation's addend as objtool keeps it (a u8). 0 otherwise. */
  keyAddend: number;
  /** Section index (0: objtool's null section, the symbol was undefined) and offset of the original. */
  origSec: number;
  origOff: number;
  /** Group only: the original's length, after the nested-alternative fixup (6.11+). */
  origLen: number;
  /** Section index and offset of the replacement / jump target / fixup; 0 and 0 when not read. */
  newSec: number;
  newOff: number;
  /** Group only: the replacement's length. */
  newLen: number;
  /** The u16 objtool passes to arch_handle_alternative(): the low half of the feature word. */
  feature: number;
  /** Group only: the CPU feature number, flag bits removed. */
  cpuid: number;
  /** Group only: the feature word as stored (u16 in 6.1, u32 ft_flags from 6.3). */
  featureWord: number;
  /** ALT_NOT / ALTINSTR_FLAG_INV: patch when the feature is absent. */
  not: boolean;
  /** ALT_FLAG_DIRECT_CALL (6.8+): the original is an indirect call turned into a direct one. */
  directCall: boolean;
  /** Group only: the original length as stored in the entry, before the nested fixup. */
  entryOrigLen: number;
  /** __jump_table: the key relocation's symbol and full addend (key + branch bits). */
  keySym: number;
  keyAddendFull: number;
  /** __jump_table: key addend bit 0, the entry's branch (JUMP_TYPE_TRUE). */
  branch: boolean;
  /** __jump_table: key addend bit 1, the build-time JMP-to-NOP request (--hacks=jump_label). */
  jumpLabelHack: boolean;
  /** __ex_table: the entry's third word (handler type and data). */
  exData: number;
  /** Where the entry is: section name and index, entry number, byte offset in the section. */
  section: string;
  sectionIndex: number;
  index: number;
  offset: number;
  /** Group only: index into `AltSites.sites` of the site this entry patches. */
  site: number;
}

/** Entries of .altinstructions that patch the same original address. */
export interface AltSite {
  origSec: number;
  origOff: number;
  /** The longest original length among the entries (after any nested fixup). */
  origLen: number;
  /** Indices into the alternatives list, in section order. */
  entries: number[];
  /** The entries are one consecutive run of .altinstructions (what the nested fixup relies on). */
  consecutive: boolean;
  /**
   * The entries still disagree on origLen after the fixup: objtool 6.12 then warns
   * "weirdly overlapping alternative! %ld != %d" on the second group it builds for the site.
   */
  lengthsDiffer: boolean;
}

export interface AltOptions {
  /** objtool --uaccess. */
  uaccess?: boolean;
}

/** arch/x86/include/asm/cpufeatures.h, the same in 6.1 and 6.12. */
export const X86_FEATURE_POPCNT = 4 * 32 + 23;
export const X86_FEATURE_SMAP = 9 * 32 + 20;

/** tools/objtool/arch/x86/include/arch/special.h: the same in every version. */
const JUMP_ENTRY = { size: 16, orig: 0, new: 4, key: 8 } as const;
const EX_ENTRY = { size: 12, orig: 0, new: 4, data: 8 } as const;

/** _ASM_EXTABLE_EX hack in get_alt_entry(). */
const EXTABLE_EX_BIAS = 0x7ffffff0;

function fail(elf: ElfFile, sec: Section, offset: number, message: string): never {
  throw new KernelMetadataError(elf.path, sec.name, offset, `${offstr(elf, sec, offset)}: ${message}`);
}

/** The relocation of an entry's field at `offset`, or objtool's "can't find <what> reloc". */
function needReloc(elf: ElfFile, sec: Section, rel: RelocTable | undefined, offset: number, what: string): RelocRef {
  const i = relocAt(rel, offset);
  if (i < 0) fail(elf, sec, offset, `can't find ${what} reloc`);
  return relocRef(rel!, i);
}

/**
 * Where the self-relative field at `offset` of an entry points: its relocation's target, or, in a
 * linked image, the field's address plus its value.
 */
function fieldTarget(elf: ElfFile, sec: Section, rel: RelocTable | undefined, linked: LinkedImage | undefined, offset: number, what: string): { sec: number; off: number } {
  if (!linked) return relocTarget(elf.symbols, needReloc(elf, sec, rel, offset, what));
  return linked.selfRel32(sec, offset) ?? fail(elf, sec, offset, `${what} points outside the image's sections`);
}

function checkSize(elf: ElfFile, sec: Section, size: number): number {
  elf.contents(sec);
  if (sec.size % size !== 0) throw new KernelMetadataError(elf.path, sec.name, undefined, `${sec.name} size not a multiple of ${size}`);
  return sec.size / size;
}

function blank(kind: SpecialKind, sec: Section, index: number, offset: number): SpecialAlt {
  return {
    kind, group: kind === 'alternative', jumpOrNop: kind === 'jump_label', skipOrig: false, skipAlt: false,
    keyAddend: 0, origSec: 0, origOff: 0, origLen: 0, newSec: 0, newOff: 0, newLen: 0, feature: 0, cpuid: 0,
    featureWord: 0, not: false, directCall: false, entryOrigLen: 0, keySym: 0, keyAddendFull: 0, branch: false,
    jumpLabelHack: false, exData: 0, section: sec.name, sectionIndex: sec.index, index, offset, site: -1,
  };
}

/** The feature word's fields in a layout: cpuid in the low bits, flags above. */
function decodeFeature(layout: AltInstrLayout, view: DataView, at: number): Pick<SpecialAlt, 'featureWord' | 'cpuid' | 'not' | 'directCall' | 'feature'> {
  const word = layout.featureSize === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
  const flagBits = layout.notFlag | (layout.directCallFlag ?? 0);
  return {
    featureWord: word,
    cpuid: word & 0xffff & ~flagBits,
    not: (word & layout.notFlag) !== 0,
    directCall: layout.directCallFlag !== undefined && (word & layout.directCallFlag) !== 0,
    // special.c reads an unsigned short at the feature offset whatever the layout.
    feature: view.getUint16(at, true),
  };
}

/** arch/x86/special.c arch_handle_alternative(): the feature special cases. */
function handleFeature(alt: SpecialAlt, opts: AltOptions): void {
  if (alt.feature === X86_FEATURE_SMAP) {
    // Never both the STAC/CLAC and the NOP paths at once.
    if (opts.uaccess) alt.skipOrig = true;
    else alt.skipAlt = true;
  } else if (alt.feature === X86_FEATURE_POPCNT) {
    alt.skipOrig = true;
  }
}

/**
 * The nested-alternative fixup of 6.11+ arch_handle_alternative(): an entry patching the same
 * address as the run of entries just before it makes the whole run take the longest orig_len.
 */
class NestedFixup {
  private group = -1;
  private prev = -1;

  apply(alts: SpecialAlt[], cur: number): void {
    const alt = alts[cur]!;
    const g = this.group >= 0 ? alts[this.group]! : undefined;
    if (g && g.origSec === alt.origSec && g.origOff === alt.origOff) {
      for (let k = this.group; ; k++) {
        const it = alts[k]!;
        const len = Math.max(it.origLen, alt.origLen);
        it.origLen = alt.origLen = len;
        if (k === this.prev) break;
      }
    } else {
      this.group = cur;
    }
    this.prev = cur;
  }
}

function readAltinstructions(elf: ElfFile, layout: KernelLayout, opts: AltOptions, out: SpecialAlt[]): void {
  const sec = elf.sectionByName('.altinstructions');
  if (!sec) return;
  const a = layout.alt;
  const n = checkSize(elf, sec, a.entrySize);
  if (n === 0) return;
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const linked = LinkedImage.of(elf);
  const rel = linked ? undefined : relocsOf(elf, sec);
  const nested = a.nestedSites ? new NestedFixup() : undefined;
  for (let idx = 0; idx < n; idx++) {
    const offset = idx * a.entrySize;
    const alt = blank('alternative', sec, idx, offset);
    alt.origLen = alt.entryOrigLen = view.getUint8(offset + a.origLenOffset);
    alt.newLen = view.getUint8(offset + a.newLenOffset);
    Object.assign(alt, decodeFeature(a, view, offset + a.featureOffset));
    const t = fieldTarget(elf, sec, rel, linked, offset + a.origOffset, 'orig');
    alt.origSec = t.sec;
    alt.origOff = t.off;
    out.push(alt);
    nested?.apply(out, out.length - 1);
    handleFeature(alt, opts);
    if (alt.newLen) setNew(alt, fieldTarget(elf, sec, rel, linked, offset + a.newOffset, 'new'));
  }
}

function setNew(alt: SpecialAlt, t: { sec: number; off: number }): void {
  alt.newSec = t.sec;
  // objtool's offsets are unsigned: only a real offset can carry the bias.
  alt.newOff = t.off >= EXTABLE_EX_BIAS ? t.off - EXTABLE_EX_BIAS : t.off;
}

function readJumpTable(elf: ElfFile, out: SpecialAlt[]): void {
  // (a linked image keeps the table in .rodata, between __start___jump_table and __stop___jump_table)
  const linked = LinkedImage.of(elf);
  const range = linked?.table('__jump_table');
  const sec = linked ? range?.sec : elf.sectionByName('__jump_table');
  if (!sec) return;
  const base = range ? range.start : 0;
  if (range && (range.end - range.start) % JUMP_ENTRY.size !== 0) throw new KernelMetadataError(elf.path, sec.name, undefined, `__jump_table size not a multiple of ${JUMP_ENTRY.size}`);
  const n = range ? (range.end - range.start) / JUMP_ENTRY.size : checkSize(elf, sec, JUMP_ENTRY.size);
  const rel = n && !linked ? relocsOf(elf, sec) : undefined;
  for (let idx = 0; idx < n; idx++) {
    const offset = base + idx * JUMP_ENTRY.size;
    const alt = blank('jump_label', sec, idx, offset);
    const t = fieldTarget(elf, sec, rel, linked, offset + JUMP_ENTRY.orig, 'orig');
    alt.origSec = t.sec;
    alt.origOff = t.off;
    setNew(alt, fieldTarget(elf, sec, rel, linked, offset + JUMP_ENTRY.new, 'new'));
    if (linked) {
      // `.quad key - . + flags`: key and field are 8-aligned, so the low bits are the flags.
      alt.keyAddendFull = alt.keyAddend = Number(linked.selfRel64Value(sec, offset + JUMP_ENTRY.key) & 3n);
      alt.branch = (alt.keyAddend & 1) !== 0;
      alt.jumpLabelHack = (alt.keyAddend & 2) !== 0;
      out.push(alt);
      continue;
    }
    const key = needReloc(elf, sec, rel, offset + JUMP_ENTRY.key, 'key');
    alt.keySym = key.sym;
    alt.keyAddendFull = key.addend;
    // struct special_alt keeps key_addend in a u8.
    alt.keyAddend = key.addend & 0xff;
    alt.branch = (alt.keyAddend & 1) !== 0;
    alt.jumpLabelHack = (alt.keyAddend & 2) !== 0;
    out.push(alt);
  }
}

function readExTable(elf: ElfFile, out: SpecialAlt[]): void {
  const sec = elf.sectionByName('__ex_table');
  if (!sec) return;
  const n = checkSize(elf, sec, EX_ENTRY.size);
  const linked = LinkedImage.of(elf);
  const rel = n && !linked ? relocsOf(elf, sec) : undefined;
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  for (let idx = 0; idx < n; idx++) {
    const offset = idx * EX_ENTRY.size;
    const alt = blank('ex_table', sec, idx, offset);
    const t = fieldTarget(elf, sec, rel, linked, offset + EX_ENTRY.orig, 'orig');
    alt.origSec = t.sec;
    alt.origOff = t.off;
    setNew(alt, fieldTarget(elf, sec, rel, linked, offset + EX_ENTRY.new, 'new'));
    alt.exData = view.getInt32(offset + EX_ENTRY.data, true);
    out.push(alt);
  }
}

/**
 * special_get_alts(): every entry of .altinstructions, __jump_table and __ex_table, in that
 * order. Throws KernelMetadataError with objtool's message where objtool gives up.
 */
export function specialGetAlts(elf: ElfFile, layout: KernelLayout, opts: AltOptions = {}): SpecialAlt[] {
  const out: SpecialAlt[] = [];
  readAltinstructions(elf, layout, opts, out);
  readJumpTable(elf, out);
  readExTable(elf, out);
  return out;
}

/**
 * The sites of the .altinstructions entries (ALTERNATIVE_2/3 put several entries on one site);
 * sets each entry's `site`.
 */
export function altSites(alts: SpecialAlt[]): AltSite[] {
  const sites: AltSite[] = [];
  const byAddr = new Map<string, number>();
  for (let i = 0; i < alts.length; i++) {
    const a = alts[i]!;
    if (!a.group) continue;
    const key = `${a.origSec}:${a.origOff}`;
    let s = byAddr.get(key);
    if (s === undefined) {
      s = sites.length;
      byAddr.set(key, s);
      sites.push({ origSec: a.origSec, origOff: a.origOff, origLen: a.origLen, entries: [], consecutive: true, lengthsDiffer: false });
    }
    const site = sites[s]!;
    const last = site.entries[site.entries.length - 1];
    if (last !== undefined && last !== i - 1) site.consecutive = false;
    if (site.entries.length && a.origLen !== site.origLen) site.lengthsDiffer = true;
    site.origLen = Math.max(site.origLen, a.origLen);
    site.entries.push(i);
    a.site = s;
  }
  return sites;
}

/** One .parainstructions entry (struct paravirt_patch_site). */
export interface ParaSite {
  /** Section index and offset of the patchable instruction (an indirect pv_ops call). */
  instrSec: number;
  instrOff: number;
  /** PARAVIRT_PATCH type: the pv_ops slot index. */
  type: number;
  /** Length of the patchable site. */
  len: number;
  /** Clobber mask (6.1 only). */
  clobbers?: number;
  index: number;
  offset: number;
}

/** .parainstructions, when the layout has it (6.1–6.7). objtool itself never reads it. */
export function readParainstructions(elf: ElfFile, layout: KernelLayout): ParaSite[] {
  const p: ParaInstrLayout | undefined = layout.parainstr;
  const sec = layout.hasParainstructions && p ? elf.sectionByName('.parainstructions') : undefined;
  if (!sec || !p) return [];
  const n = checkSize(elf, sec, p.entrySize);
  const linked = LinkedImage.of(elf);
  const rel = n && !linked ? relocsOf(elf, sec) : undefined;
  const syms = elf.symbols;
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const out: ParaSite[] = [];
  const instr = (offset: number): { sec: number; off: number } => {
    // (an absolute pointer: `.quad 661b`)
    if (linked) {
      const t = linked.pointer(sec, offset);
      return t && t !== 'null' ? t : fail(elf, sec, offset, 'instr points outside the image\'s sections');
    }
    const ref = needReloc(elf, sec, rel, offset, 'instr');
    if (ref.type !== R_X86_64_64) fail(elf, sec, offset, `unexpected relocation type ${ref.type} for the instruction pointer`);
    return relocTarget(syms, ref);
  };
  for (let idx = 0; idx < n; idx++) {
    const offset = idx * p.entrySize;
    const t = instr(offset + p.instrOffset);
    const site: ParaSite = {
      instrSec: t.sec, instrOff: t.off, type: view.getUint8(offset + p.typeOffset), len: view.getUint8(offset + p.lenOffset),
      index: idx, offset,
    };
    if (p.clobbersOffset !== undefined) site.clobbers = view.getUint16(offset + p.clobbersOffset, true);
    out.push(site);
  }
  return out;
}

/**
 * .discard.ignore_alts (add_ignore_alternatives(); ANNOTYPE_IGNORE_ALTS in 6.14): original
 * instructions whose alternatives objtool ignores.
 */
export function readIgnoreAlts(elf: ElfFile, layout: KernelLayout): AnnotationTarget[] {
  return readAnnotations(elf, layout, new Set(['.discard.ignore_alts', ANNOTATE_INSN])).byKind.ignore_alts;
}
