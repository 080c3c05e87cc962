// SPDX-License-Identifier: GPL-2.0-only
// The .discard.* annotation sections objtool reads, turned into the places they name. objtool
// walks each `.rela.discard.<name>` section relocation by relocation (the data section's bytes
// are never looked at, except for .discard.annotate_insn's type word) and computes the target
// by a per-section rule that changed between versions: the layout's `annotationTargets`.
// Finding the instruction at the target, and what to do with it, is the analysis' job; the
// messages it prints when there is none are here (missingInsnMessage).
import { R_X86_64_32, R_X86_64_64, R_X86_64_PC32, STT_FUNC, STT_SECTION } from '../elf/constants.js';
import type { ElfFile } from '../elf/reader.js';
import type { RelocTable } from '../elf/relocations.js';
import {
  type AnnotateInsnLayout, type AnnotationEncoding, type AnnotationTargetRule, type KernelLayout, ANNOTATE_INSN_6_14,
} from './versions.js';
import {
  KernelMetadataError, type RelocRef, hex, isLocalLabel, relocRef, relocsOf, symSection, symType, symValue,
} from './common.js';

export type AnnotationKind =
  | 'reachable' | 'unreachable' | 'intra_function_calls' | 'retpoline_safe' | 'noendbr'
  | 'instr_begin' | 'instr_end' | 'validate_unret' | 'ignore_alts';

/** Every instruction annotation kind, in the order objtool's decode_sections() reads them. */
export const ANNOTATION_KINDS: readonly AnnotationKind[] = [
  'ignore_alts', 'noendbr', 'intra_function_calls', 'unreachable', 'reachable', 'retpoline_safe',
  'instr_end', 'instr_begin', 'validate_unret',
];

const PREFIX = '.discard.';
export const ANNOTATE_INSN = '.discard.annotate_insn';

export interface AnnotationTarget {
  kind: AnnotationKind;
  /** The section the entry came from: '.discard.<kind>' or '.discard.annotate_insn'. */
  source: string;
  /** The relocation's index in its relocation section (objtool's reloc_idx()) and type. */
  reloc: number;
  relocType: number;
  /** The relocation's symbol. */
  sym: number;
  /** The annotated place: section index and offset. */
  sec: number;
  off: number;
  /** .discard.annotate_insn: the ANNOTYPE_* number. */
  annotype?: number;
}

/** A .discard.annotate_insn entry of a type with no meaning in the layout (objtool skips it). */
export type OtherAnnotation = Omit<AnnotationTarget, 'kind'> & { annotype: number };

/** A function named by STACK_FRAME_NON_STANDARD (add_ignores()). */
export interface IgnoredFunc {
  /** The STT_FUNC symbol. */
  sym: number;
  reloc: number;
}

export interface AnnotationEncodingCheck {
  /** What the layout says the section's relocations are. */
  expected: AnnotationEncoding;
  /** The distinct relocation types found. */
  relocTypes: number[];
  matches: boolean;
}

export interface Annotations {
  byKind: Record<AnnotationKind, AnnotationTarget[]>;
  /** STACK_FRAME_NON_STANDARD functions, in relocation order (repeats kept, as objtool meets them). */
  ignoredFuncs: IgnoredFunc[];
  /** .discard.annotate_insn entries of a type the layout names no section for (objtool ignores them). */
  otherAnnotations: OtherAnnotation[];
  /** Non-fatal warnings in objtool's words, in the order objtool prints them. */
  warnings: string[];
  /** Warnings objtool prints only with --verbose. */
  verboseWarnings: string[];
  /** Per annotation section present: does its relocation encoding match the layout? */
  encodings: Record<string, AnnotationEncodingCheck>;
}

const ENCODING_TYPE: Record<AnnotationEncoding, number> = { pc32: R_X86_64_PC32, abs32: R_X86_64_32, abs64: R_X86_64_64 };

/**
 * One relocation to (section, offset) by a target rule; throws objtool's "unexpected relocation
 * symbol type in <relocation section>" where the rule rejects the symbol.
 */
export function resolveAnnotationTarget(elf: ElfFile, rule: AnnotationTargetRule, r: RelocRef, relocSection: string): { sec: number; off: number } {
  const syms = elf.symbols;
  const sec = symSection(syms, r.sym);
  switch (rule) {
    case 'addend':
      return { sec, off: r.addend };
    case 'symbol-offset':
    case 'function':
      return { sec, off: symValue(syms, r.sym) + r.addend };
    case 'section':
    case 'section-or-label':
      if (symType(syms, r.sym) === STT_SECTION) return { sec, off: r.addend };
      if (rule === 'section-or-label' && isLocalLabel(syms, r.sym)) return { sec, off: symValue(syms, r.sym) };
      throw new KernelMetadataError(elf.path, relocSection, undefined, `unexpected relocation symbol type in ${relocSection}`);
  }
}

/**
 * find_func_by_offset() for each (section, offset) asked: the first STT_FUNC symbol (in value,
 * then index order: of those at one offset, the lowest index) of the section starting exactly
 * there, by section and offset; offsets without one are left out.
 */
function funcsStartingAt(elf: ElfFile, asked: readonly { sec: number; off: number }[]): Map<number, Map<number, number>> {
  const found = new Map<number, Map<number, number>>();
  const syms = elf.symbols;
  if (!syms || !asked.length) return found;
  const want = new Map<number, Set<number>>();
  for (const a of asked) {
    const s = want.get(a.sec);
    if (s) s.add(a.off);
    else want.set(a.sec, new Set([a.off]));
  }
  for (let i = 1; i < syms.count; i++) {
    const offs = want.get(syms.shndx[i]!);
    const v = syms.value[i]!;
    if (!offs?.has(v) || !syms.isDefined(i) || syms.type(i) !== STT_FUNC) continue;
    // objtool's interval tree ends a symbol at offset + len - 1 (unsigned): a zero-length symbol
    // covers nothing, except at offset 0 where the end wraps around.
    if (syms.size[i]! === 0 && v !== 0) continue;
    let m = found.get(syms.shndx[i]!);
    if (!m) found.set(syms.shndx[i]!, (m = new Map()));
    if (!m.has(v)) m.set(v, i);
  }
  return found;
}

function encodingCheck(expected: AnnotationEncoding, rel: RelocTable): AnnotationEncodingCheck {
  const types = new Set<number>();
  for (let i = 0; i < rel.count; i++) types.add(rel.type(i));
  const relocTypes = [...types].sort((a, b) => a - b);
  return { expected, relocTypes, matches: relocTypes.every((t) => t === ENCODING_TYPE[expected]) };
}

function emptyByKind(): Record<AnnotationKind, AnnotationTarget[]> {
  const o = {} as Record<AnnotationKind, AnnotationTarget[]>;
  for (const k of ANNOTATION_KINDS) o[k] = [];
  return o;
}

/** The annotation sections this layout's objtool reads (without unwind hints, see unwind-hints.ts). */
export function annotationSections(layout: KernelLayout): string[] {
  return Object.keys(layout.annotations).filter((name) =>
    name !== '.discard.unwind_hints' && (name !== '.discard.unreachable' || layout.hasUnreachableAnnotations));
}

/**
 * Every annotation the layout's objtool reads: add_ignores(), add_ignore_alternatives(),
 * read_noendbr_hints(), read_intra_function_calls(), add_dead_ends(), read_retpoline_hints(),
 * read_instr_hints(), read_validate_unret_hints(), and 6.14's read_annotate() when the object has
 * `.discard.annotate_insn`. `only` limits the reading to these section names (to read in
 * objtool's order around the special sections). Throws KernelMetadataError where objtool gives up.
 */
export function readAnnotations(elf: ElfFile, layout: KernelLayout, only?: ReadonlySet<string>): Annotations {
  const out: Annotations = {
    byKind: emptyByKind(), ignoredFuncs: [], otherAnnotations: [], warnings: [], verboseWarnings: [], encodings: {},
  };
  const wanted = new Set(annotationSections(layout).filter((n) => !only || only.has(n)));

  const fn = PREFIX + 'func_stack_frame_non_standard';
  if (wanted.has(fn)) readIgnores(elf, layout, fn, out);

  for (const kind of ANNOTATION_KINDS) {
    const name = PREFIX + kind;
    if (!wanted.has(name)) continue;
    // read_instr_hints() returns early when there are no instr_end annotations.
    if (kind === 'instr_begin' && !elf.sectionByName(`.rela${PREFIX}instr_end`)) continue;
    const rsec = elf.sectionByName(`.rela${name}`);
    if (!rsec) continue;
    const rel = elf.relocTable(rsec);
    out.encodings[name] = encodingCheck(layout.annotations[name]!, rel);
    const rule = layout.annotationTargets[name] ?? 'section';
    const list = out.byKind[kind];
    for (let i = 0; i < rel.count; i++) {
      const r = relocRef(rel, i);
      const t = resolveAnnotationTarget(elf, rule, r, rsec.name);
      list.push({ kind, source: name, reloc: i, relocType: r.type, sym: r.sym, sec: t.sec, off: t.off });
    }
  }

  if (!only || only.has(ANNOTATE_INSN)) readAnnotateInsn(elf, layout.annotateInsn ?? ANNOTATE_INSN_6_14, out);
  return out;
}

/** Several partial readings as one (in the order given). */
export function mergeAnnotations(parts: readonly Annotations[]): Annotations {
  const out: Annotations = {
    byKind: emptyByKind(), ignoredFuncs: [], otherAnnotations: [], warnings: [], verboseWarnings: [], encodings: {},
  };
  for (const p of parts) {
    for (const k of ANNOTATION_KINDS) out.byKind[k].push(...p.byKind[k]);
    out.ignoredFuncs.push(...p.ignoredFuncs);
    out.otherAnnotations.push(...p.otherAnnotations);
    out.warnings.push(...p.warnings);
    out.verboseWarnings.push(...p.verboseWarnings);
    Object.assign(out.encodings, p.encodings);
  }
  return out;
}

/** add_ignores(): STACK_FRAME_NON_STANDARD. */
function readIgnores(elf: ElfFile, layout: KernelLayout, name: string, out: Annotations): void {
  const rsec = elf.sectionByName(`.rela${name}`);
  if (!rsec) return;
  const rel = elf.relocTable(rsec);
  out.encodings[name] = encodingCheck(layout.annotations[name]!, rel);
  const syms = elf.symbols;
  const refs = Array.from({ length: rel.count }, (_, i) => relocRef(rel, i));
  const types = refs.map((r) => symType(syms, r.sym));
  // (section symbols resolved together: one pass over the symbols, not one per entry)
  const starting = funcsStartingAt(elf, refs.filter((_, i) => types[i] === STT_SECTION).map((r) => ({ sec: symSection(syms, r.sym), off: r.addend })));
  refs.forEach((r, i) => {
    const type = types[i];
    if (type === STT_FUNC) {
      out.ignoredFuncs.push({ sym: r.sym, reloc: i });
    } else if (type === STT_SECTION) {
      const f = starting.get(symSection(syms, r.sym))?.get(r.addend) ?? -1;
      if (f >= 0) out.ignoredFuncs.push({ sym: f, reloc: i });
    } else {
      out.warnings.push(`unexpected relocation symbol type in ${rsec.name}: ${type}`);
    }
  });
}

/** 6.14 read_annotate(): {s32 insn; u32 type} entries, target = symbol offset + addend. */
function readAnnotateInsn(elf: ElfFile, a: AnnotateInsnLayout, out: Annotations): void {
  const sec = elf.sectionByName(ANNOTATE_INSN);
  if (!sec) return;
  const rel = relocsOf(elf, sec);
  if (!rel) return;
  if (sec.entsize !== a.entrySize) out.verboseWarnings.push(`${sec.name}: dodgy linker, sh_entsize != ${a.entrySize}`);
  const bytes = elf.contents(sec);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < rel.count; i++) {
    // The type is read at the relocation's index, not at its offset.
    const at = i * a.entrySize + a.typeOffset;
    if (at + 4 > sec.size) {
      throw new KernelMetadataError(elf.path, sec.name, at, `relocation ${i} has no entry (section is ${sec.size} bytes)`);
    }
    const annotype = view.getUint32(at, true);
    const r = relocRef(rel, i);
    const t = resolveAnnotationTarget(elf, 'symbol-offset', r, rel.section.name);
    const section = a.types[annotype];
    const kind = section?.startsWith(PREFIX) ? section.slice(PREFIX.length) as AnnotationKind : undefined;
    const entry = { source: sec.name, reloc: i, relocType: r.type, sym: r.sym, sec: t.sec, off: t.off, annotype };
    const list = kind ? out.byKind[kind] : undefined;
    if (kind && list) list.push({ kind, ...entry });
    else out.otherAnnotations.push(entry);
  }
}

/**
 * What objtool prints when no instruction starts at an annotation's target (for reachable and
 * unreachable: when the target is not the section's end either).
 */
export function missingInsnMessage(elf: ElfFile, t: AnnotationTarget): string {
  if (t.annotype !== undefined) return `bad .discard.annotate_insn entry: ${t.reloc} of type ${t.annotype}`;
  switch (t.kind) {
    case 'reachable':
    case 'unreachable':
      return `can't find ${t.kind} insn at ${elf.section(t.sec)?.name ?? ''}+0x${hex(t.off)}`;
    case 'intra_function_calls':
      return 'bad .discard.intra_function_call entry';
    case 'validate_unret':
      // sic: read_validate_unret_hints() reuses read_instr_hints()' text.
      return 'bad .discard.instr_end entry';
    default:
      return `bad ${PREFIX}${t.kind} entry`;
  }
}
