// SPDX-License-Identifier: GPL-2.0-only
// Everything the kernel build leaves in an object for objtool, read on demand: the special
// sections (alternatives, jump labels, exception table), .parainstructions, unwind hints, the
// .discard.* annotations and the noreturn-by-name predicate. Each part is read on first use
// (an object without the section costs one name look-up), or all at once, in objtool's order,
// with load().
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout } from './versions.js';
import {
  type AltOptions, type AltSite, type ParaSite, type SpecialAlt, type SpecialKind, altSites, readParainstructions, specialGetAlts,
} from './alternatives.js';
import {
  ANNOTATE_INSN, type AnnotationTarget, type Annotations, mergeAnnotations, readAnnotations,
} from './annotations.js';
import { type UnwindHint, readUnwindHints } from './unwind-hints.js';
import { type NoreturnByName, noreturnByName } from './noreturns.js';

export type KernelMetadataOptions = AltOptions;

const D = '.discard.';
/** decode_sections(): the annotations read before add_special_section_alts() ... */
const EARLY = new Set([`${D}func_stack_frame_non_standard`, `${D}ignore_alts`, `${D}noendbr`, ANNOTATE_INSN]);
/** ... between it and read_unwind_hints() ... */
const MIDDLE = new Set([`${D}intra_function_calls`, `${D}unreachable`, `${D}reachable`]);
/** ... and after. */
const LATE = new Set([`${D}retpoline_safe`, `${D}instr_end`, `${D}instr_begin`, `${D}validate_unret`]);

export class KernelMetadata {
  private special?: SpecialAlt[];
  private sites?: AltSite[];
  private para?: ParaSite[];
  private hints?: UnwindHint[];
  private annots?: Annotations;

  constructor(readonly elf: ElfFile, readonly layout: KernelLayout, readonly options: KernelMetadataOptions = {}) {}

  /** special_get_alts(): .altinstructions, then __jump_table, then __ex_table entries. */
  get specialAlts(): readonly SpecialAlt[] {
    if (!this.special) {
      const alts = specialGetAlts(this.elf, this.layout, this.options);
      this.sites = altSites(alts);
      this.special = alts;
    }
    return this.special;
  }

  get alternatives(): readonly SpecialAlt[] {
    return this.ofKind('alternative');
  }

  get jumpLabels(): readonly SpecialAlt[] {
    return this.ofKind('jump_label');
  }

  get exTable(): readonly SpecialAlt[] {
    return this.ofKind('ex_table');
  }

  private byKind = new Map<SpecialKind, SpecialAlt[]>();

  private ofKind(kind: SpecialKind): readonly SpecialAlt[] {
    let l = this.byKind.get(kind);
    if (!l) {
      l = this.specialAlts.filter((a) => a.kind === kind);
      this.byKind.set(kind, l);
    }
    return l;
  }

  /** The original sites of the .altinstructions entries (entries' `site` index into this). */
  get altSites(): readonly AltSite[] {
    void this.specialAlts;
    return this.sites!;
  }

  /** .parainstructions (6.1–6.7 layouts); empty elsewhere. */
  get paraSites(): readonly ParaSite[] {
    return (this.para ??= readParainstructions(this.elf, this.layout));
  }

  get unwindHints(): readonly UnwindHint[] {
    return (this.hints ??= readUnwindHints(this.elf, this.layout));
  }

  get annotations(): Annotations {
    return (this.annots ??= readAnnotations(this.elf, this.layout));
  }

  /** .discard.ignore_alts (and ANNOTYPE_IGNORE_ALTS): original instructions whose alternatives objtool ignores. */
  get ignoreAlts(): readonly AnnotationTarget[] {
    return this.annotations.byKind.ignore_alts;
  }

  /** The name-based part of objtool's noreturn test for a function symbol. */
  noreturnByName(name: string, bind: number): NoreturnByName {
    return noreturnByName(this.layout, name, bind);
  }

  /**
   * Read everything now, in the order of objtool's decode_sections(), so that the error thrown
   * (KernelMetadataError) is the one objtool would stop on.
   */
  load(): this {
    if (!this.annots) {
      const early = readAnnotations(this.elf, this.layout, EARLY);
      void this.specialAlts;
      const middle = readAnnotations(this.elf, this.layout, MIDDLE);
      void this.unwindHints;
      const late = readAnnotations(this.elf, this.layout, LATE);
      this.annots = mergeAnnotations([early, middle, late]);
    } else {
      void this.specialAlts;
      void this.unwindHints;
    }
    void this.paraSites;
    return this;
  }
}

/** The kernel metadata of an object, for the given layout (see detectLayout()). Nothing is read yet. */
export function readKernelMetadata(elf: ElfFile, layout: KernelLayout, options: KernelMetadataOptions = {}): KernelMetadata {
  return new KernelMetadata(elf, layout, options);
}

export type { SpecialAlt, AltSite, ParaSite, AltOptions, SpecialKind } from './alternatives.js';
export type { UnwindHint, HintKind } from './unwind-hints.js';
export type {
  AnnotationKind, AnnotationTarget, Annotations, IgnoredFunc, OtherAnnotation, AnnotationEncodingCheck,
} from './annotations.js';
export type { NoreturnByName } from './noreturns.js';
export { KernelMetadataError } from './common.js';
export { missingInsnMessage } from './annotations.js';
export { hintMissingInsnMessage } from './unwind-hints.js';
export { isNoreturnByName, isRustNoreturn } from './noreturns.js';
export { X86_FEATURE_POPCNT, X86_FEATURE_SMAP, specialGetAlts, altSites, readParainstructions, readIgnoreAlts } from './alternatives.js';
export { readUnwindHints } from './unwind-hints.js';
export { readAnnotations } from './annotations.js';
