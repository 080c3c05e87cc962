// SPDX-License-Identifier: GPL-2.0-only
// The check driver (objtool check()): the passes in objtool's order, the walks, and the points
// the ORC table is built from. A fatal problem stops the check with no ORC, as in objtool.
import type { ElfFile } from '../elf/reader.js';
import { SHT_REL, SHT_RELA } from '../elf/constants.js';
import { InsnType } from '../x86/index.js';
import { specialGetAlts } from '../kernel/alternatives.js';
import type { KernelLayout } from '../kernel/versions.js';
import type { CfiState } from './cfi.js';
import { groupLength, Insn, InsnBit, type CodeSection } from './insn.js';
import { FatalCheckError, ObjFile } from './objfile.js';
import type { CheckOptions } from './options.js';
import {
  addCallDestinations, addDeadEnds, addJumpDestinations, addJumpTableAlts, readInstrHints, readIntraFunctionCalls,
  readNocfiAnnotations, readReachableAnnotations, readRetpolineHints, readUnwindHints, readValidateUnretHints, runPasses,
} from './passes.js';
import { checkAnnotateEntries } from './annotate.js';
import { validateRetpoline, validateSls } from './validate-mitigations.js';
import { validateIbt } from './validate-ibt.js';
import { validateUnrets } from './validate-unret.js';
import { addSpecialSectionAlts } from './special-alts.js';
import { releaseWalkFrames, validateFunctions, validateNoinstrSections, validateReachableInstructions, validateUnwindHints } from './validate.js';
import type { Warning } from './warnings.js';
import { phase } from '../phases.js';
import { collectGarbage } from '../gc.js';

export interface CheckResult {
  file: ObjFile;
  /** Problems found (objtool's warning count). */
  warnings: number;
  /** A fatal error stopped the check: no sections may be written. */
  fatal: boolean;
}

/**
 * `decoded`: called once the code is decoded, when the decoding's worker thread (if any) is done
 * and its core free for another job of the caller's.
 */
export function check(elf: ElfFile, layout: KernelLayout, opts: CheckOptions, objname: string, emit?: (line: string, w: Warning) => void,
  decoded?: () => void): CheckResult {
  phase('start');
  const file = new ObjFile(elf, layout, opts, objname, emit);
  file.ignoreUnreachables = opts.noUnreachable;
  let warnings = 0;
  try {
    // objtool's read_relocs(): every relocation names a symbol of the table; without one, none can.
    if (!elf.symbols) {
      for (const s of elf.sections) {
        if ((s.type === SHT_RELA || s.type === SHT_REL) && s.size) file.fatal(`can't find reloc entry symbol ${elf.relocTable(s).sym(0)} for ${s.name}`);
      }
    }
    file.syms.linkColdFunctions(objname);
    phase('symbols');
    runPasses(file);
    // (a split decode's second half has been copied in: its ~30 MB can go before the walk grows)
    if (file.big) collectGarbage();
    phase('decode');
    decoded?.();
    if (opts.stackval || opts.orc || opts.uaccess || opts.noinstr || opts.hackJumpLabel) {
      addSpecialSectionAlts(file, file.kernelRead(() => specialGetAlts(elf, layout, { uaccess: opts.uaccess })));
    }
    phase('alternatives');
    addJumpDestinations(file);
    phase('jump destinations');
    readIntraFunctionCalls(file);
    addCallDestinations(file);
    phase('call destinations');
    addDeadEnds(file);
    addJumpTableAlts(file);
    if (file.big) {
      // (no pass reads immediates after the branch destinations: vmlinux.o's ~20 MB of them go)
      for (const cs of file.codeSections) cs.releaseImmediates();
      collectGarbage();
    }
    readUnwindHints(file);
    checkAnnotateEntries(file, 'late');
    readRetpolineHints(file);
    readInstrHints(file);
    readValidateUnretHints(file);
    readReachableAnnotations(file);
    readNocfiAnnotations(file);
    phase('tables and annotations');
    if (file.nrInsns === 0) return { file, warnings, fatal: false };
    if (opts.retpoline) {
      const w = validateRetpoline(file);
      if (layout.check.retpolineWarningsHideUnreachable) warnings += w;
    }
    if (opts.stackval || opts.orc || opts.uaccess) {
      warnings += validateFunctions(file);
      phase('validate functions');
      warnings += validateUnwindHints(file);
      if (!warnings) warnings += validateReachableInstructions(file);
    } else if (opts.noinstr) {
      warnings += validateNoinstrSections(file);
    }
    // (after the function walks: it plays its own games with the visited bits)
    if (opts.unret) warnings += validateUnrets(file);
    if (opts.ibt) warnings += validateIbt(file);
    if (opts.sls) warnings += validateSls(file);
    // (7.x --cfi grows the __cfi_ symbols over the padding instead: no __pfx_, no state there)
    if (opts.prefix && !(opts.cfi && layout.cfi === 'grow')) addPrefixCfi(file);
    phase('hints, unreachable, prefix');
  } catch (e) {
    if (e instanceof FatalCheckError) return { file, warnings, fatal: true };
    throw e;
  } finally {
    releaseWalkFrames();
  }
  return { file, warnings, fatal: false };
}

/** The longest name objtool makes a `__pfx_` symbol for (SYM_NAME_LEN 512, less "__pfx_" and NUL). */
const PFX_NAME_MAX = 512 - 7;

/** --prefix: the NOP padding before each function gets the function's entry state. */
function addPrefixCfi(file: ObjFile): void {
  if (file.layout.check.prefixSymbols === 'patchable-entries') return addPatchableEntryPrefixes(file);
  const n = file.opts.prefix;
  // (by position in the columns: vmlinux.o has ~60,000 prefixes of 16 NOPs, and an Insn handle
  // for each instruction looked at cost ~90 MB)
  for (const cs of file.codeSections) {
    const type = cs.a.type;
    const offset = cs.ds.offset;
    for (const func of file.syms.inSection(cs.index)) {
      if (func.type !== 2) continue;
      const pos = cs.posAt(func.offset);
      if (pos < 0) continue;
      let prev = pos - 1;
      let found = false;
      for (; prev >= 0; prev--) {
        if (type[prev] !== InsnType.NOP) break;
        const off = func.offset - offset[prev]!;
        if (off > n) break;
        if (off < n) continue;
        found = true;
        break;
      }
      if (!found) continue;
      file.prefixSymbols.push(func);
      padWithEntryState(cs, prev, pos);
    }
  }
}

/** Instructions [start, pos) take the state of instruction pos, the function's entry (the columns' interned state numbers). */
function padWithEntryState(cs: CodeSection, start: number, pos: number): void {
  const id = cs.a.cfi[pos]!;
  if (id >= 0) cs.a.cfi.fill(id, start, pos);
}

/**
 * 7.x create_prefix_symbols(): each function a `__patchable_function_entries` relocation names
 * (the padding's start plus --prefix), in relocation order, gets a `__pfx_` symbol and its entry
 * state over the padding instructions; no NOP check.
 */
function addPatchableEntryPrefixes(file: ObjFile): void {
  const n = file.opts.prefix;
  for (const pfe of file.elf.sections) {
    if (pfe.name !== '__patchable_function_entries') continue;
    const rel = file.elf.relocationsFor(pfe);
    if (!rel) continue;
    for (let i = 0; i < rel.count; i++) {
      const sym = file.syms.all[rel.sym(i)]!;
      const func = file.syms.findFuncByOffset(sym.sec, sym.offset + rel.addend(i) + n);
      if (!func) continue;
      if (func.name.length > PFX_NAME_MAX) {
        file.warn(`${func.name}: symbol name too long, can't create __pfx_ symbol`);
        continue;
      }
      file.prefixSymbols.push(func);
      const cs = file.code[func.sec];
      if (!cs) continue;
      const pos = cs.posAt(func.offset);
      const start = cs.posAt(func.offset - n);
      if (pos >= 0 && start >= 0) padWithEntryState(cs, start, pos);
    }
  }
}

/**
 * The points of one text section in objtool orc_create()'s order, given to `fn` (a callback, not
 * a generator: vmlinux.o has millions). An instruction's state comes as its number in
 * `cs.cfis` (`id`; -1: none, `cfi` null), so that callers work once per state rather than once
 * per instruction; a byte of an alternative site comes with `id` -2 and its state as `cfi`.
 * `fn` returns false to stop; the result says whether all points were given.
 */
export function forEachOrcPoint(
  cs: CodeSection,
  fn: (offset: number, id: number, cfi: CfiState | null, insnOffset: number) => boolean,
): boolean {
  const { offset, count } = cs.ds;
  const { flags, cfi: cfiId } = cs.a;
  for (let k = 0; k < count; k++) {
    if (!(flags[k]! & InsnBit.ALT_GROUP)) {
      if (!fn(offset[k]!, cfiId[k]!, null, offset[k]!)) return false;
      continue;
    }
    // An alternative site contributes its flattened per-byte array.
    const g = new Insn(cs, k).altGroup!;
    const start = offset[k]!;
    const len = groupLength(g);
    for (let i = 0; i < len; i++) {
      const c = g.cfi[i];
      if (c && !fn(start + i, -2, c, start)) return false;
    }
    k = g.lastInsn.pos;
  }
  return true;
}
