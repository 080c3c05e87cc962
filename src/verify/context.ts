// SPDX-License-Identifier: GPL-2.0-only
// What the walks of one object share (WalkContext), built alike by verify and by its second
// thread (walk-worker.ts): the functions, each section's decoding and references, the table,
// the hints and traps.
import type { ElfFile } from '../elf/reader.js';
import { ET_EXEC } from '../elf/constants.js';
import type { KernelLayout } from '../kernel/versions.js';
import { LinkedImage, sectionSymbols } from '../elf/linked.js';
import { Patcher, type SectionState, sortedAdded } from '../patch/apply.js';
import { specialGetAlts } from '../kernel/alternatives.js';
import { readUnwindHints } from '../kernel/unwind-hints.js';
import { objtoolIsInFunc } from '../x86/in-func.js';
import { decodeSection, type DecodedSection, type DecodeOptions } from '../x86/index.js';
import { decodeSectionSplit } from '../x86/decoder.js';
import type { startSplitDecode } from '../x86/split-decode.js';
import type { Table } from './orc-table.js';
import { Traps } from './traps.js';
import { type Func, FuncIndex, functions, nonStandardFunctions } from './functions.js';
import { type CodeRefs, LinkedRefs, RelocView } from './code-refs.js';
import { Hints, ORIGINAL_HINTS } from './hints.js';
import { phase } from '../phases.js';
import type { CoverageMap, VerifyReport } from './report.js';
import { auxSnippetExits, HINT_LOST, nonStandardOf, type OriginalWalk, type Walk, walkWhole } from './walk.js';

/**
 * Everything the walks of an object share: its functions, each section's decoding and
 * references, and the Walk. Built alike by verify and by its worker (walk-worker.ts); `given`
 * holds sections decoded elsewhere.
 */
export interface WalkContext {
  elf: ElfFile;
  layout: KernelLayout;
  t: Table;
  linked: LinkedImage | undefined;
  fns: Func[];
  w: Walk;
  patcher: Patcher;
  optsOf: (sec: number) => DecodeOptions;
  viewOf: (sec: number, st?: SectionState) => CodeRefs;
  decoded: (sec: number) => DecodedSection;
  relocsOf: (sec: number) => CodeRefs;
  /** Other parts of a function are walked in their original code, whatever the variant. */
  originalCode: (sec: number) => { ds: DecodedSection; rel: CodeRefs };
  /** The functions with an alternative site (indices into fns), by .altinstructions entry (-1: none). */
  fnOf: number[];
}

export function walkContext(elf: ElfFile, layout: KernelLayout, t: Table, r: VerifyReport, coverage: CoverageMap | undefined,
  split?: ReturnType<typeof startSplitDecode>, given?: Map<number, DecodedSection>): WalkContext {
  // (a linked image's symbols by section offset, as an object's)
  const linked = LinkedImage.of(elf);
  const syms = sectionSymbols(elf)!;
  phase('table');
  const fns = functions(elf, syms);
  r.functions = fns.length;
  if (linked) {
    const lost = new Set(layout.hintedFunctions);
    for (const fn of fns) if (lost.has(fn.name)) fn.opaque = HINT_LOST;
  }
  // (iret inside a function is sync_core()'s IRET-to-self, which pops its own frame: objtool's rule)
  const optsBySec = new Map<number, DecodeOptions>();
  const optsOf = (sec: number): DecodeOptions => {
    let o = optsBySec.get(sec);
    if (!o) optsBySec.set(sec, (o = { onInvalid: 'skip', variant: layout.decoder, isInFunc: objtoolIsInFunc(syms, sec) }));
    return o;
  };
  const createdSymbols = new Map<number, number>();
  const linkedRefs = linked ? new LinkedRefs(linked, syms) : undefined;
  const viewOf = (sec: number, st?: SectionState): CodeRefs => linkedRefs
    ?? new RelocView(elf.relocationsFor(elf.section(sec)!), st ? sortedAdded(st) : [], st ? st.dropped : new Set(), syms, createdSymbols);

  const original = given ?? new Map<number, DecodedSection>();
  const decoded = (sec: number): DecodedSection => {
    let ds = original.get(sec);
    if (!ds) {
      const s = elf.section(sec)!;
      const job = split?.sec === sec ? split.job : undefined;
      ds = job ? decodeSectionSplit(s.data, s.name, optsOf(sec), job.mid, () => job.wait(), job.shared) : decodeSection(s.data, s.name, optsOf(sec));
      job?.cancel();
      original.set(sec, ds);
    }
    return ds;
  };
  const originalRelocs = new Map<number, CodeRefs>();
  const relocsOf = (sec: number): CodeRefs => {
    let v = originalRelocs.get(sec);
    if (!v) originalRelocs.set(sec, (v = viewOf(sec)));
    return v;
  };
  // (the special sections read once, for the patcher and the traps)
  const special = specialGetAlts(elf, layout);
  const patcher = new Patcher(elf, layout, special);
  const w: Walk = {
    t, hints: new Hints(readUnwindHints(elf, layout), patcher), traps: new Traps(elf, layout, special), layout, r, used: new Uint8Array(t.count),
    cover: coverage, reported: new Set(), index: new FuncIndex(fns), auxExits: () => undefined,
    // (a module linked by modpost, or a linked image: no .discard.* section is left)
    hintsLost: !elf.sections.some((s) => s.name.startsWith('.discard.')) &&
      (elf.header.type === ET_EXEC || elf.sectionByName('.gnu.linkonce.this_module') !== undefined),
    nonStandard: nonStandardOf(fns, nonStandardFunctions(elf, layout)),
  };
  const aux = elf.sectionByName('.altinstr_aux');
  if (aux) {
    const exits = new Map<number, { sec: number; off: number }[]>();
    w.auxExits = (sec, off) => {
      if (sec !== aux.index) return undefined;
      let l = exits.get(off);
      if (!l) exits.set(off, (l = auxSnippetExits(decoded(sec), relocsOf(sec), sec, off)));
      return l;
    };
  }
  const originalCode = (sec: number) => ({ ds: decoded(sec), rel: relocsOf(sec) });
  const fnOf = patcher.alts.map((a) => w.index.of(a.origSec, a.origOff));
  return { elf, layout, t, linked, fns, w, patcher, optsOf, viewOf, decoded, relocsOf, originalCode, fnOf };
}

/**
 * The functions the worker walks in the original code (walk-worker.ts): those of the big
 * section without an alternative site (their walks are kept here for the variants).
 */
export function workerFunctions(c: WalkContext, sec: number): number[] {
  const sites = new Set(c.fnOf);
  const out: number[] = [];
  c.fns.forEach((fn, fi) => {
    if (fn.sec === sec && !sites.has(fi)) out.push(fi);
  });
  return out;
}

/** Walk function fi in the original code; the mismatches it adds are tagged with fi in `tags`. */
export function walkOriginal(c: WalkContext, fi: number, tags: number[], keep?: OriginalWalk): void {
  const fn = c.fns[fi]!;
  walkWhole(c.decoded(fn.sec), c.relocsOf(fn.sec), fn, c.w, 'original', ORIGINAL_HINTS, c.originalCode, keep);
  while (tags.length < c.w.r.mismatches.length) tags.push(fi);
}

