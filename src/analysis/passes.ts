// SPDX-License-Identifier: GPL-2.0-only
// The passes that run between decoding and validation (objtool decode_sections()): annotations,
// branch and call destinations, dead ends and noreturn functions, switch jump tables, unwind
// hints. Each follows objtool's rules and messages; fatal problems stop the check.
import { R_X86_64_PC32, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_SECTION } from '../elf/constants.js';
import type { RelocTable } from '../elf/relocations.js';
import { InsnType } from '../x86/index.js';
import { CFI_BP_INDIRECT, CFI_SP_INDIRECT, CFI_UNDEFINED, UnwindType } from './cfi.js';
import { ORC_REG_NAMES, type OrcRegName, orcRegFromRaw } from '../orc/entry.js';
import type { KernelLayout } from '../kernel/versions.js';
import { undefinedCfi, copyCfi } from './cfi-state.js';
import { Insn, JUMP_ELSEWHERE } from './insn.js';
import type { ObjFile, RelocRef } from './objfile.js';
import type { Sym } from './symbols.js';
import { isNoreturnByName } from '../kernel/noreturns.js';
import { addAlternative } from './special-alts.js';
import { relocRef } from '../kernel/common.js';
import { resolveAnnotationTarget } from '../kernel/annotations.js';
import { hintMissingInsnMessage, openUnwindHints } from '../kernel/unwind-hints.js';
import { PvOps } from './pv-ops.js';
import { type AnnotationSite, annotationSites, checkAnnotateEntries } from './annotate.js';

const JUMP_CONDITIONAL = InsnType.JUMP_CONDITIONAL;
const JUMP_UNCONDITIONAL = InsnType.JUMP_UNCONDITIONAL;
const JUMP_DYNAMIC = InsnType.JUMP_DYNAMIC;
const CALL = InsnType.CALL;
const CALL_DYNAMIC = InsnType.CALL_DYNAMIC;
const RETURN = InsnType.RETURN;
const NOP = InsnType.NOP;
const ENDBR = InsnType.ENDBR;
const JUMP_DYNAMIC_CONDITIONAL = InsnType.JUMP_DYNAMIC_CONDITIONAL;

function isStaticJump(insn: Insn): boolean {
  return insn.type === JUMP_CONDITIONAL || insn.type === JUMP_UNCONDITIONAL;
}

function jumpDestination(insn: Insn): number {
  return insn.offset + insn.len + insn.immediate;
}

/** An annotation section's relocations (`.rela<section>`, found by name as objtool does). */
interface AnnotationRelocs {
  section: string;
  table: RelocTable;
  name: string;
}

function annotationRelocs(file: ObjFile, section: string): AnnotationRelocs | undefined {
  const rsec = file.elf.sectionByName(`.rela${section}`);
  return rsec ? { section, table: file.elf.relocTable(rsec), name: rsec.name } : undefined;
}

function* relocs(table: RelocTable): Generator<number> {
  for (let i = 0; i < table.count; i++) yield i;
}

/**
 * Where annotation relocation i points, by the layout's rule for its section (the kernel
 * layer's resolveAnnotationTarget(), which the other readers use too); a symbol the rule
 * rejects is fatal, as in objtool.
 */
function annotationTarget(file: ObjFile, a: AnnotationRelocs, i: number): { sec: number; offset: number } {
  const rule = file.layout.annotationTargets[a.section] ?? 'section';
  const t = file.kernelRead(() => resolveAnnotationTarget(file.elf, rule, relocRef(a.table, i), a.name));
  return { sec: t.sec, offset: t.off };
}

/**
 * Answers of deadEndFunction() while call destinations are added: nothing it looks at changes
 * during that pass, and popular callees would otherwise be walked once per call.
 */
let deadEndMemo: Map<Sym, boolean> | undefined;

/** Whether a call to `func` never returns (objtool dead_end_function()). */
export function deadEndFunction(file: ObjFile, func: Sym | undefined, recursion = 0): boolean {
  if (!func) return false;
  if (recursion === 0 && deadEndMemo) {
    let v = deadEndMemo.get(func);
    if (v === undefined) {
      v = deadEndUncached(file, func, 0);
      deadEndMemo.set(func, v);
    }
    return v;
  }
  return deadEndUncached(file, func, recursion);
}

function deadEndUncached(file: ObjFile, func: Sym, recursion: number): boolean {
  if (isNoreturnByName(file.layout, func.name, func.bind)) return true;
  if (func.bind === STB_WEAK) return false;
  if (!func.len) return false;
  const first = file.findInsn(func.sec, func.offset);
  if (!first || !first.func) return false;
  let ret = false;
  file.forEachFuncRun(func.sec, func.offset, (cs, start, end) => {
    const type = cs.a.type;
    for (let pos = start; pos < end && !ret; pos++) ret = type[pos] === RETURN;
    return ret;
  });
  if (ret) return false;
  // A sibling call instead of a return: dead end only if the callee is.
  let sibling: Insn | undefined;
  file.forEachFuncPos(func.sec, func.offset, (cs, pos) => {
    const t = cs.a.type[pos];
    if (t !== JUMP_CONDITIONAL && t !== JUMP_UNCONDITIONAL && t !== JUMP_DYNAMIC) return false;
    const insn = new Insn(cs, pos);
    if (isSiblingCall(file, insn)) sibling = insn;
    return sibling !== undefined;
  });
  if (!sibling) return true;
  const dest = sibling.jumpDest;
  if (!dest || recursion === 5) return false;
  return deadEndFunction(file, dest.func, recursion + 1);
}

/** objtool is_jump_table_jump() and is_sibling_call(). */
export function isSiblingCall(file: ObjFile, insn: Insn): boolean {
  // Up to 6.1 only functions make sibling calls.
  if (!insn.func && !file.layout.check.notypeSiblingCalls) return false;
  if (insn.func && insn.type === JUMP_DYNAMIC) {
    const g = insn.altGroup;
    const table = insn.jumpTable !== undefined || (g?.origGroup !== undefined && g.origGroup.firstInsn.jumpTable !== undefined);
    return !table;
  }
  return isStaticJump(insn) && insn.callDest !== undefined;
}

export function runPasses(file: ObjFile): void {
  markRodata(file);
  file.pvOps = PvOps.init(file);
  file.syms.classify(file.layout.symbols);
  file.decode();
  addIgnores(file);
  if (file.opts.uaccess) for (const n of file.layout.uaccessSafe) {
    const s = file.syms.byName(n);
    if (s) s.uaccessSafe = true;
  }
  checkAnnotateEntries(file, 'early');
  addIgnoreAlternatives(file);
  readNoendbrHints(file);
}

export function markRodata(file: ObjFile): void {
  for (const s of file.elf.sections) {
    if ((s.name.startsWith('.rodata') && !s.name.includes('.str1.')) || s.name.startsWith('.data.rel.ro')) {
      file.rodataSections.add(s.index);
      file.rodata = true;
    }
  }
}

function addIgnores(file: ObjFile): void {
  const a = annotationRelocs(file, '.discard.func_stack_frame_non_standard');
  if (!a) return;
  for (const i of relocs(a.table)) {
    const sym = file.syms.all[a.table.sym(i)]!;
    let func: Sym | undefined;
    if (sym.type === STT_FUNC) func = sym;
    else if (sym.type === STT_SECTION) {
      func = file.syms.findFuncByOffset(sym.sec, a.table.addend(i));
      if (!func) continue;
    } else {
      const msg = `unexpected relocation symbol type in ${a.name}: ${sym.type}`;
      if (file.layout.severity.nowFatal.nonStandardSymbolType) file.fatal(msg);
      file.warn(msg);
      continue;
    }
    for (const insn of file.funcInsns(func)) insn.ignore = true;
  }
}

/** The sites of an annotation kind (annotate.ts), a legacy relocation read by the section's rule. */
function sitesOf(file: ObjFile, section: string, missing: string): AnnotationSite[] {
  return annotationSites(file, section, (table, i) => {
    const t = annotationTarget(file, { section, table, name: table.section.name }, i);
    return { sec: t.sec, offset: t.offset, missing };
  }) ?? [];
}

/** A site's instruction; none is fatal with objtool's message. */
function siteInsn(file: ObjFile, site: AnnotationSite): Insn {
  return site.insn ?? file.fatal(site.missing);
}

function addIgnoreAlternatives(file: ObjFile): void {
  for (const site of sitesOf(file, '.discard.ignore_alts', 'bad .discard.ignore_alts entry')) siteInsn(file, site).ignoreAlts = true;
}

function readNoendbrHints(file: ObjFile): void {
  for (const site of sitesOf(file, '.discard.noendbr', 'bad .discard.noendbr entry')) siteInsn(file, site).noendbr = true;
}

function addRetpolineCall(file: ObjFile, insn: Insn): void {
  switch (insn.type) {
    case CALL: insn.type = CALL_DYNAMIC; break;
    case JUMP_UNCONDITIONAL: insn.type = JUMP_DYNAMIC; break;
    case JUMP_CONDITIONAL: insn.type = JUMP_DYNAMIC_CONDITIONAL; break;
    default: return;
  }
  insn.retpolineSafe = true;
  insn.removeOps();
  annotateCallSite(file, insn, false);
}

function addReturnCall(file: ObjFile, insn: Insn, add: boolean): void {
  insn.type = RETURN;
  insn.retpolineSafe = true;
  if (add) file.returnThunkSites.push(insn);
}

function annotateCallSite(file: ObjFile, insn: Insn, sibling: boolean): void {
  const reloc = file.insnReloc(insn);
  const sym = insn.callDest ?? (reloc ? file.relocSym(reloc) : undefined);
  if (!sym) return;
  if (insn.sec.name === '.altinstr_replacement' && !file.layout.check.altReplacementCalls) return;
  if (sym.staticCallTramp) {
    file.staticCallSites.push(insn);
    return;
  }
  if (sym.retpolineThunk) {
    file.retpolineSites.push(insn);
    return;
  }
  if (file.opts.hackNoinstr && insn.sec.noinstr && sym.profilingFunc) {
    file.noinstrHackSites.push({ insn, sibling, reloc });
    insn.type = sibling ? RETURN : NOP;
    if (sibling) insn.retpolineSafe = true;
    return;
  }
  if (file.opts.mcount && sym.fentry) {
    if (sibling) file.warnInsn(insn, 'tail call to __fentry__ !?!?');
    if (file.opts.mnop) {
      file.mnopSites.push({ insn, reloc });
      insn.type = NOP;
    }
    file.mcountSites.push(insn);
    return;
  }
  if (insn.type === CALL && !insn.sec.init && !(file.layout.check.callSitesSkipEmbedded && insn.callDest?.embeddedInsn)) file.callSites.push(insn);
  if (!sibling && deadEndFunction(file, sym)) insn.deadEnd = true;
}

function addCallDest(file: ObjFile, insn: Insn, dest: Sym | undefined, sibling: boolean): void {
  insn.callDest = dest;
  if (!dest) return;
  // A call's stack effect is undone by the callee's return.
  insn.removeOps();
  annotateCallSite(file, insn, sibling);
}

function isFirstFuncInsn(file: ObjFile, insn: Insn, sym: Sym): boolean {
  if (insn.offset === sym.offset) return true;
  if (file.opts.ibt) {
    const prev = file.prevInsnSameSym(insn);
    if (prev && prev.type === ENDBR && insn.offset === sym.offset + prev.len) return true;
  }
  return false;
}

function jumpIsSiblingCall(file: ObjFile, from: Insn, to: Insn): boolean {
  if (!file.layout.check.notypeSiblingCalls) {
    // 6.1: a jump from one function to the start of another (not its own .cold part).
    const ff = from.func;
    const tf = to.func;
    return ff !== undefined && tf !== undefined && ff !== tf && ff.pfunc !== tf.pfunc && isFirstFuncInsn(file, to, tf);
  }
  const fs = from.sym;
  const ts = to.sym;
  if (!fs || !ts) return false;
  if (!isFirstFuncInsn(file, to, ts)) return false;
  if (ts.type === STT_NOTYPE) return false;
  return fs.pfunc !== ts.pfunc;
}

export function addJumpDestinations(file: ObjFile): void {
  for (const cs of file.codeSections) {
    const { type, jumpDest, sym } = cs.a;
    const { offset, len, immediate } = cs.ds;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      const t = type[pos]!;
      if ((t !== JUMP_CONDITIONAL && t !== JUMP_UNCONDITIONAL) || jumpDest[pos] !== -1) continue;
      // Most jumps stay inside their symbol, away from its first instruction, with no
      // relocation: none of the cases below applies (no thunk, no .cold link, no sibling call),
      // so the destination is set on the arrays without handles.
      const s = sym[pos]!;
      if (s >= 0 && file.noRelocAt(cs, pos)) {
        const to = cs.posAt(offset[pos]! + len[pos]! + immediate[pos]!);
        if (to >= 0 && sym[to] === s && offset[to] !== cs.syms[s]!.offset) {
          jumpDest[pos] = to;
          continue;
        }
      }
      const insn = new Insn(cs, pos);
      const func = insn.func;
      const reloc = file.insnReloc(insn);
      let destSec: number;
      let destOff: number;
      if (!reloc) {
        destSec = insn.sec.index;
        destOff = jumpDestination(insn);
      } else {
        const sym = file.relocSym(reloc);
        if (sym.type === STT_SECTION) {
          destSec = sym.sec;
          destOff = reloc.table.addend(reloc.i) + 4;
        } else if (sym.retpolineThunk) {
          addRetpolineCall(file, insn);
          continue;
        } else if (sym.returnThunk) {
          addReturnCall(file, insn, true);
          continue;
        } else if (func) {
          addCallDest(file, insn, sym, true);
          continue;
        } else if (sym.sec) {
          destSec = sym.sec;
          destOff = sym.offset + reloc.table.addend(reloc.i) + 4;
        } else {
          continue;
        }
      }
      const dest = file.findInsn(destSec, destOff);
      if (!dest) {
        const sym = file.syms.findSymbolByOffset(destSec, destOff);
        if (sym?.embeddedInsn) {
          addReturnCall(file, insn, false);
          continue;
        }
        if (file.layout.check.jumpPastFunctionEndIgnored && file.ignoreUnreachables && func && destSec === insn.sec.index && destOff === func.offset + func.len) continue;
        const at = file.layout.messages.jumpDest === 'offstr' ? file.offstr(destSec, destOff).text : `${file.elf.section(destSec)!.name}+0x${destOff.toString(16)}`;
        file.fatalInsn(insn, `can't find jump dest instruction at ${at}`);
      }
      if (dest.sym && dest.offset === dest.sym.offset) {
        if (dest.sym.retpolineThunk) {
          addRetpolineCall(file, insn);
          continue;
        }
        if (dest.sym.returnThunk) {
          addReturnCall(file, insn, true);
          continue;
        }
      }
      const dfunc = dest.func;
      // Up to 6.12 a jump into a .cold part makes the jumping function its parent; 7.x dropped that.
      if (file.layout.check.coldParent === 'jump' && func && dfunc && func !== dfunc && !func.name.includes('.cold') && dfunc.name.includes('.cold')) {
        func.cfunc = dfunc;
        dfunc.pfunc = func;
      }
      if (jumpIsSiblingCall(file, insn, dest)) {
        addCallDest(file, insn, dest.func, true);
        continue;
      }
      insn.jumpDest = dest;
    }
  }
}

export function readIntraFunctionCalls(file: ObjFile): void {
  for (const site of sitesOf(file, '.discard.intra_function_calls', 'bad .discard.intra_function_call entry')) {
    const insn = siteInsn(file, site);
    if (insn.type !== CALL) file.fatalInsn(insn, 'intra_function_call not a direct call');
    // Followed as a jump that keeps its stack operation (the pushed return address).
    insn.type = JUMP_UNCONDITIONAL;
    const off = jumpDestination(insn);
    insn.jumpDest = file.findInsn(insn.sec.index, off);
    if (!insn.jumpDest) file.fatalInsn(insn, `can't find call dest at ${insn.sec.name}+0x${off.toString(16)}`);
  }
}

function findCallDestination(file: ObjFile, sec: number, offset: number): Sym | undefined {
  return file.syms.findFuncByOffset(sec, offset) ?? file.syms.findSymbolByOffset(sec, offset);
}

export function addCallDestinations(file: ObjFile): void {
  deadEndMemo = new Map();
  try {
    addCallDestinationsOf(file);
  } finally {
    deadEndMemo = undefined;
  }
}

function addCallDestinationsOf(file: ObjFile): void {
  for (const cs of file.codeSections) {
    const type = cs.a.type;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if (type[pos] !== CALL) continue;
      const insn = new Insn(cs, pos);
      const reloc = file.insnReloc(insn);
      if (!reloc) {
        const dest = findCallDestination(file, insn.sec.index, jumpDestination(insn));
        addCallDest(file, insn, dest, false);
        if (insn.ignore) continue;
        if (!insn.callDest) file.fatalInsn(insn, 'unannotated intra-function call');
        if (insn.func && insn.callDest.type !== STT_FUNC) file.fatalInsn(insn, 'unsupported call to non-function');
        continue;
      }
      const sym = file.relocSym(reloc);
      if (sym.type === STT_SECTION) {
        const off = reloc.table.addend(reloc.i) + 4;
        const dest = findCallDestination(file, sym.sec, off);
        if (!dest) file.fatalInsn(insn, `can't find call dest symbol at ${file.elf.section(sym.sec)!.name}+0x${off.toString(16)}`);
        addCallDest(file, insn, dest, false);
      } else if (sym.retpolineThunk) {
        addRetpolineCall(file, insn);
      } else {
        addCallDest(file, insn, sym, false);
      }
    }
  }
}

function findLastInsn(file: ObjFile, sec: number): Insn | undefined {
  const size = file.elf.section(sec)!.size;
  const end = size > 10 ? size - 10 : 0;
  for (let off = size - 1; off >= end; off--) {
    const insn = file.findInsn(sec, off);
    if (insn) return insn;
  }
  return undefined;
}

/**
 * ud2 after WARN() is reachable: `.discard.reachable` names the instruction after it; 7.x's
 * REACHABLE annotation names the ud2 itself (see readLateAnnotations()).
 */
export function addDeadEnds(file: ObjFile): void {
  if (file.layout.annotateInsn) return;
  for (const [name, deadEnd] of [['.discard.unreachable', true], ['.discard.reachable', false]] as const) {
    if (deadEnd && !file.layout.hasUnreachableAnnotations) continue;
    const a = annotationRelocs(file, name);
    if (!a) continue;
    for (const i of relocs(a.table)) {
      const { sec, offset } = annotationTarget(file, a, i);
      const what = deadEnd ? 'unreachable' : 'reachable';
      let insn = file.findInsn(sec, offset);
      if (insn) insn = file.prevInsnSameSec(insn);
      else if (offset === file.elf.section(sec)!.size) {
        insn = findLastInsn(file, sec);
        if (!insn) file.fatal(`can't find ${what} insn at ${file.elf.section(sec)!.name}+0x${offset.toString(16)}`);
      } else file.fatal(`can't find ${what} insn at ${file.elf.section(sec)!.name}+0x${offset.toString(16)}`);
      if (insn) insn.deadEnd = deadEnd;
    }
  }
}

/** objtool arch_find_switch_table(): the first entry of a table this instruction loads. */
function findSwitchTable(file: ObjFile, insn: Insn): RelocRef | undefined {
  const text = file.insnReloc(insn);
  if (!text) return undefined;
  const sym = file.relocSym(text);
  if (sym.type !== STT_SECTION || !file.rodataSections.has(sym.sec)) return undefined;
  let tableOffset = text.table.addend(text.i);
  const pcrel = text.table.type(text.i) === R_X86_64_PC32;
  if (pcrel) tableOffset += 4;
  const tableSec = file.elf.section(sym.sec)!;
  if (file.syms.findSymbolContaining(sym.sec, tableOffset) && tableSec.name !== file.layout.cJumpTableSection) return undefined;
  const table = file.elf.relocationsFor(tableSec);
  const i = table ? table.at(tableOffset) : -1;
  if (!table || i < 0) return undefined;
  if (pcrel) file.ignoreUnreachables = true;
  return { table, i };
}

function findJumpTable(file: ObjFile, func: Sym, orig: Insn): RelocRef | undefined {
  for (let insn: Insn | undefined = orig; insn && insn.func && insn.func.pfunc === func; insn = insn.firstJumpSrc ?? file.prevInsnSameSym(insn)) {
    if (!insn.is(orig) && insn.type === JUMP_DYNAMIC) break;
    if (insn.type === JUMP_UNCONDITIONAL && insn.jumpDest && (insn.jumpDest.offset <= insn.offset || insn.jumpDest.offset > orig.offset)) break;
    const r = findSwitchTable(file, insn);
    if (!r) continue;
    const s = file.relocSym(r);
    const dest = file.findInsn(s.sec, r.table.addend(r.i));
    if (!dest || !dest.func || dest.func.pfunc !== func) continue;
    return r;
  }
  return undefined;
}

function addJumpTable(file: ObjFile, insn: Insn, next: { sec: number; reloc: number } | undefined): void {
  const pfunc = insn.func!.pfunc;
  const jt = insn.jumpTable!;
  const table = file.elf.relocationsFor(file.elf.section(jt.sec)!)!;
  let prevOffset = 0;
  for (let k = table.lowerBound(table.offset(jt.reloc)); k < table.count; k++) {
    const r = table.nth(k);
    if (r !== jt.reloc && next && next.sec === jt.sec && r === next.reloc) break;
    if (prevOffset && table.offset(r) !== prevOffset + 8) break;
    const sym = file.syms.all[table.sym(r)]!;
    const addend = table.addend(r);
    if (sym.sec === pfunc.sec && addend === pfunc.offset) break;
    if (!(file.layout.check.jumpTableSkipsFunctionEnd && sym.sec === pfunc.sec && addend === pfunc.offset + pfunc.len)) {
      const dest = file.findInsn(sym.sec, addend);
      if (!dest) break;
      if (!dest.func || dest.func.pfunc !== pfunc) break;
      addAlternative(file, insn, { insn: dest, skipOrig: false });
    }
    prevOffset = table.offset(r);
  }
  if (!prevOffset) file.fatalInsn(insn, "can't find switch jump table");
}

export function addJumpTableAlts(file: ObjFile): void {
  if (file.rodata) findJumpTables(file);
  // (no pass follows first jump sources again: vmlinux.o's ~20 MB of them can go)
  for (const cs of file.codeSections) cs.releaseFirstJumpSrcs();
}

function findJumpTables(file: ObjFile): void {
  for (const func of file.syms.all) {
    if (func.type !== STT_FUNC || !file.code[func.sec]) continue;
    // Mark table heads, keeping back-pointers for forward jumps.
    let tables = false;
    file.forEachFuncRun(func.sec, func.offset, (cs, start, end) => {
      // Jumps within the section (nearly all) on the arrays; the rest with handles.
      for (let pos = cs.markForwardJumps(start, end); pos < end; pos = cs.markForwardJumps(pos + 1, end)) {
        const insn = new Insn(cs, pos);
        if (cs.a.jumpDest[pos] === JUMP_ELSEWHERE) {
          const d = insn.jumpDest!;
          if (d.offset > insn.offset && !d.firstJumpSrc) d.firstJumpSrc = insn;
        }
        if (insn.type !== JUMP_DYNAMIC) continue;
        const r = findJumpTable(file, func, insn);
        if (r) {
          insn.jumpTable = { sec: r.table.section.info, reloc: r.i };
          tables = true;
        }
      }
    });
    if (!tables) continue;
    let t1: Insn | undefined;
    for (let insn = file.findInsn(func.sec, func.offset); insn; insn = file.nextInsnSameFunc(insn)) {
      if (!insn.jumpTable) continue;
      if (!t1) {
        t1 = insn;
        continue;
      }
      addJumpTable(file, t1, insn.jumpTable);
      t1 = insn;
    }
    if (t1) addJumpTable(file, t1, undefined);
  }
}

/** The unwind hints: each sets or resets the CFI state at its instruction. */
export function readUnwindHints(file: ObjFile): void {
  const hints = file.kernelRead(() => openUnwindHints(file.elf, file.layout));
  if (!hints) return;
  file.hints = true;
  const types = file.layout.hint.types;
  let cfi = undefinedCfi();
  for (let i = 0; i < hints.count; i++) {
    // Each entry is read, then acted on, before the next: objtool reports problems in that order.
    const h = file.kernelRead(() => hints.entry(i));
    const insn = file.findInsn(h.sec, h.off);
    if (!insn) file.fatal(hintMissingInsnMessage(h));
    insn.hint = true;
    const type = h.type;
    if (types.UNDEFINED !== undefined && type === types.UNDEFINED) {
      insn.cfi = file.forceUndefinedCfi;
      continue;
    }
    if (type === types.SAVE) {
      insn.hint = false;
      insn.save = true;
      continue;
    }
    if (type === types.RESTORE) {
      insn.restore = true;
      continue;
    }
    if (type === types.REGS_PARTIAL) {
      const s = file.syms.findSymbolByOffset(insn.sec.index, insn.offset);
      if (s && s.bind === STB_GLOBAL && file.opts.ibt && insn.type !== ENDBR && !insn.noendbr) {
        if (file.layout.severity.nowFatal.iretRegsWithoutEndbr) file.fatalInsn(insn, 'UNWIND_HINT_IRET_REGS without ENDBR');
        file.warnInsn(insn, 'UNWIND_HINT_IRET_REGS without ENDBR');
      }
    }
    if (type === types.FUNC) {
      insn.cfi = file.funcCfi;
      continue;
    }
    if (types.ENTRY !== undefined && type === types.ENTRY) insn.unret = true;
    if (insn.cfi) cfi = copyCfi(insn.cfi);
    const base = hintBase(file.layout, h.spReg);
    if (base === undefined) file.fatalInsn(insn, `unsupported unwind_hint sp base reg ${h.spReg}`);
    cfi.cfa.base = base;
    cfi.cfa.offset = h.spOffset;
    // (6.1's ENTRY is a CALL; an unknown number is kept for the ORC writer to report.)
    cfi.type = h.unwindType ?? (h.type as UnwindType);
    if (file.layout.hint.signalOffset !== undefined) cfi.signal = h.signal !== 0;
    if (file.layout.hint.endOffset !== undefined) cfi.end = h.end !== 0;
    insn.cfi = file.cfis.intern(cfi);
  }
}

/** The CFI base of each register a hint may name (objtool's register numbers). */
const HINT_REG_TO_CFI: Partial<Record<OrcRegName, number>> = {
  UNDEFINED: CFI_UNDEFINED, AX: 0, DX: 2, SP: 4, BP: 5, DI: 7, R10: 10, R13: 13, SP_INDIRECT: CFI_SP_INDIRECT,
  BP_INDIRECT: CFI_BP_INDIRECT,
};

/** arch_decode_hint_reg(): a hint's sp_reg, in the era's ORC numbering, as a CFI base. */
function hintBase(layout: KernelLayout, spReg: number): number | undefined {
  const name = ORC_REG_NAMES[orcRegFromRaw(spReg, layout.orc)];
  return name !== undefined && layout.hint.regs.includes(name) ? HINT_REG_TO_CFI[name] : undefined;
}

export function readRetpolineHints(file: ObjFile): void {
  for (const site of sitesOf(file, '.discard.retpoline_safe', 'bad .discard.retpoline_safe entry')) {
    const insn = siteInsn(file, site);
    if (insn.type !== JUMP_DYNAMIC && insn.type !== CALL_DYNAMIC && insn.type !== RETURN && insn.type !== NOP) {
      file.fatalInsn(insn, 'retpoline_safe hint not an indirect jump/call/ret/nop');
    }
    insn.retpolineSafe = true;
  }
}

export function readInstrHints(file: ObjFile): void {
  for (const [name, delta] of [['.discard.instr_end', -1], ['.discard.instr_begin', 1]] as const) {
    const sites = sitesOf(file, name, `bad ${name} entry`);
    // read_instr_hints() returns when there is no instr_end section (7.x reads each entry).
    if (!sites.length && !file.layout.annotateInsn) return;
    for (const site of sites) siteInsn(file, site).instr += delta;
  }
}

export function readValidateUnretHints(file: ObjFile): void {
  // sic: read_validate_unret_hints() reuses read_instr_hints()' text.
  for (const site of sitesOf(file, '.discard.validate_unret', 'bad .discard.instr_end entry')) siteInsn(file, site).unret = true;
}

/** 7.x ANNOTATE_NOCFI_SYM: the named function's retpoline calls need no kCFI check. */
export function readNocfiAnnotations(file: ObjFile): void {
  if (!file.layout.annotateInsn) return;
  for (const site of sitesOf(file, '.discard.nocfi', '')) {
    const insn = siteInsn(file, site);
    const sym = insn.sym;
    if (!sym) file.fatalInsn(insn, 'dodgy NOCFI annotation');
    sym.nocfi = true;
  }
}

/** 7.x REACHABLE: the dead end (a WARN's ud2) the annotation names is not one. */
export function readReachableAnnotations(file: ObjFile): void {
  if (!file.layout.annotateInsn) return;
  for (const site of sitesOf(file, '.discard.reachable', '')) siteInsn(file, site).deadEnd = false;
}

