// SPDX-License-Identifier: GPL-2.0-only
// The path walk (objtool validate_branch() and its callers): follow every path from every
// function entry and every unwind hint, carrying the CFI state along, comparing it where paths
// meet, and recording it in each alternative site's shared byte-offset array.
//
// objtool recurses into each branch target and each alternative before continuing; a warning on
// any sub-path ends the whole walk from that entry. Deep functions would overflow a JS stack, so
// the same order is kept with an explicit stack of frames.
import { STT_FUNC } from '../elf/constants.js';
import { InsnType } from '../x86/index.js';
import { OpDestType, OpSrcType, readStackOp, type StackOp } from '../x86/index.js';
import { CFI_UNDEFINED, type CfiState } from './cfi.js';
import { cfiEqual, undefinedCfi } from './cfi-state.js';
import { CfiSteps, CTX_IN_FUNC, CTX_NEXT_HAS_HINT, CTX_STACKVAL, hasModifiedStackFrame, hasValidStackFrame } from './cfi-update.js';
import { Insn, InsnBit, JUMP_ELSEWHERE, VISITED_BRANCH, VISITED_BRANCH_MASK, type CodeSection } from './insn.js';
import type { ObjFile } from './objfile.js';
import { deadEndFunction, isSiblingCall } from './passes.js';
import type { Sym } from './symbols.js';


const enum Phase { START, ALTS, OPS, AFTER_JUMP }

/**
 * One path of the walk (a level of objtool's recursion). The instruction is a position, not a
 * handle, and the state is numbers (the CFI state is an interned state's number, stack
 * operations step from number to number through CfiSteps): following an instruction allocates
 * nothing, and a branch copies a few fields into a frame kept from earlier walks.
 */
class Frame {
  /** The instruction: position `pos` of `cs`, or the filler NOP `fill` (pos -1). */
  cs: CodeSection;
  pos = 0;
  fill: Insn | undefined = undefined;
  /** The section of the instruction this walk started at (objtool validate_branch()'s `sec`). */
  sec = 0;
  /** The interned CFI state's number. */
  cfi = 0;
  uaccessStack = 0;
  uaccess = false;
  df = false;
  instr = 0;
  /** Not the path's first instruction (objtool's prev_insn is set). */
  hasPrev = false;
  /** The symbol number visit() last found no fall-through into (-2: none yet). */
  symOk = -2;
  phase = Phase.START;
  altIdx = 0;
  skipOrig = false;

  constructor(cs: CodeSection) {
    this.cs = cs;
  }

  /** Start a path at `insn` with the state of `from`. */
  init(insn: Insn, from: Frame): void {
    this.initAt(insn.sec, insn.pos, insn.pos >= 0 ? undefined : insn, from);
  }

  /** Start a path at position `pos` of `cs` (or the filler NOP `fill`) with the state of `from`. */
  initAt(cs: CodeSection, pos: number, fill: Insn | undefined, from: Frame): void {
    this.cs = cs;
    this.pos = pos;
    this.fill = fill;
    this.begin(from.cfi, from.uaccessStack, from.uaccess, from.df, from.instr);
  }

  /** The start of a path at the frame's instruction, in the section it is in. */
  begin(cfi: number, uaccessStack: number, uaccess: boolean, df: boolean, instr: number): void {
    this.sec = this.cs.index;
    this.cfi = cfi;
    this.uaccessStack = uaccessStack;
    this.uaccess = uaccess;
    this.df = df;
    this.instr = instr;
    this.hasPrev = false;
    this.symOk = -2;
    this.phase = Phase.START;
    this.altIdx = 0;
    this.skipOrig = false;
  }

  at(insn: Insn): void {
    this.cs = insn.sec;
    this.pos = insn.pos;
    this.fill = insn.pos >= 0 ? undefined : insn;
  }

  /** A handle on the instruction (for the rare paths that need one). */
  insn(): Insn {
    return this.pos >= 0 ? new Insn(this.cs, this.pos) : this.fill!;
  }

  get flags(): number {
    return this.pos >= 0 ? this.cs.a.flags[this.pos]! : this.fill!.flags;
  }

  get type(): number {
    return this.pos >= 0 ? this.cs.a.type[this.pos]! : this.fill!.type;
  }

  get offset(): number {
    return this.pos >= 0 ? this.cs.ds.offset[this.pos]! : this.fill!.offset;
  }

  get sym(): Sym | undefined {
    if (this.pos < 0) return this.fill!.sym;
    const i = this.cs.a.sym[this.pos]!;
    return i >= 0 ? this.cs.syms[i] : undefined;
  }

  get callDest(): Sym | undefined {
    if (this.pos < 0) return this.fill!.callDest;
    const i = this.cs.a.callDest[this.pos]!;
    return i >= 0 ? this.cs.syms[i] : undefined;
  }

  /** The recorded state's number, -1 for none. */
  get recorded(): number {
    if (this.pos >= 0) return this.cs.a.cfi[this.pos]!;
    const c = this.fill!.cfi;
    return c ? this.cs.cfis.idOf(c) : -1;
  }

  set recorded(id: number) {
    if (this.pos >= 0) this.cs.a.cfi[this.pos] = id;
    else this.fill!.cfi = id >= 0 ? this.cs.cfis.byId(id) : undefined;
  }

  get visited(): number {
    return this.pos >= 0 ? this.cs.a.visited[this.pos]! : this.fill!.visited;
  }

  set visited(v: number) {
    if (this.pos >= 0) this.cs.a.visited[this.pos] = v;
    else this.fill!.visited = v;
  }
}

/** Frames kept between walks (walks never nest), the bottom one first. */
const frames: Frame[] = [];

/** Lets go of the last walk's instructions (its file's memory would stay reachable through them). */
export function releaseWalkFrames(): void {
  frames.length = 0;
  nx.cs = undefined;
  nx.fill = undefined;
}

/** Where the walk goes after the current instruction (objtool next_insn_to_validate()); cs undefined: nowhere. */
const nx = { cs: undefined as CodeSection | undefined, pos: 0, fill: undefined as Insn | undefined, flags: 0 };

function setNext(file: ObjFile, f: Frame, flags: number): void {
  if (f.pos >= 0 && !(flags & InsnBit.ALT_GROUP)) {
    const p = f.pos + 1;
    if (p < f.cs.ds.count) {
      nx.cs = f.cs;
      nx.pos = p;
      nx.fill = undefined;
      nx.flags = f.cs.a.flags[p]!;
    } else {
      nx.cs = undefined;
    }
    return;
  }
  const n = nextInsnToValidate(file, f.insn());
  if (!n) {
    nx.cs = undefined;
    return;
  }
  nx.cs = n.sec;
  nx.pos = n.pos;
  nx.fill = n.pos >= 0 ? undefined : n;
  nx.flags = n.flags;
}

/** The steps of each interner (that is, of each file). */
const stepsOf = new WeakMap<object, CfiSteps>();

function steps(file: ObjFile): CfiSteps {
  let s = stepsOf.get(file.cfis);
  if (!s) {
    s = new CfiSteps(file.cfis);
    stepsOf.set(file.cfis, s);
  }
  return s;
}

function funcUaccessSafe(func: Sym | undefined): boolean {
  return func ? func.uaccessSafe : false;
}

function callDestName(file: ObjFile, insn: Insn): string {
  if (insn.callDest) return insn.callDest.name;
  const r = file.layout.messages.pvSlotInCallName && insn.relocLookedUp ? file.insnReloc(insn) : undefined;
  if (r && file.relocSym(r).name === 'pv_ops') return `pv_ops[${Math.trunc(r.table.addend(r.i) / 8)}]`;
  return '{dynamic}';
}

/** objtool noinstr_call_dest(): calls allowed from noinstr code with instrumentation off. */
function noinstrCallDest(file: ObjFile, insn: Insn, func: Sym | undefined): boolean {
  // An indirect call is assumed instrumented unless it goes through a clean pv_ops[] slot.
  if (!func) return file.pvOps ? file.pvOps.callIsNoinstr(insn) : false;
  if (file.code[func.sec]?.noinstr) return true;
  if (func.staticCallTramp && file.layout.noinstr.staticCallTrampOk) return true;
  // __ubsan_handle_*() only run when something went wrong; let the report out.
  return func.name.startsWith('__ubsan_handle_');
}

function validateCall(file: ObjFile, f: Frame, noinstr: boolean): boolean {
  const dest = f.callDest;
  if (noinstr && f.instr <= 0 && !noinstrCallDest(file, f.insn(), dest)) {
    file.warnInsn(f.insn(), `call to ${callDestName(file, f.insn())}() leaves .noinstr.text section`);
    return true;
  }
  if (f.uaccess && !funcUaccessSafe(dest)) {
    file.warnInsn(f.insn(), `call to ${callDestName(file, f.insn())}() with UACCESS enabled`);
    return true;
  }
  if (f.df) {
    file.warnInsn(f.insn(), `call to ${callDestName(file, f.insn())}() with DF set`);
    return true;
  }
  return false;
}

function validateSiblingCall(file: ObjFile, f: Frame, noinstr: boolean): boolean {
  // From 6.2 code outside functions may tail-call with any stack (notypeSiblingCalls).
  if ((f.sym?.type === STT_FUNC || !file.layout.check.notypeSiblingCalls) && hasModifiedStackFrame(file.cfis.byId(f.cfi))) {
    file.warnInsn(f.insn(), 'sibling call from callable instruction with modified stack frame');
    return true;
  }
  return validateCall(file, f, noinstr);
}

function validateReturn(file: ObjFile, func: Sym | undefined, f: Frame, noinstr: boolean): boolean {
  const cfi = file.cfis.byId(f.cfi);
  const msg =
    noinstr && f.instr > 0 ? 'return with instrumentation enabled'
    : f.uaccess && !funcUaccessSafe(func) ? 'return with UACCESS enabled'
    : !f.uaccess && funcUaccessSafe(func) ? 'return with UACCESS disabled from a UACCESS-safe function'
    : f.df ? 'return with DF set'
    : func && hasModifiedStackFrame(cfi) ? 'return with modified stack frame'
    : cfi.bpScratch ? 'BP used as a scratch register'
    : undefined;
  if (msg) file.warnInsn(f.insn(), msg);
  return msg !== undefined;
}

/** objtool insn_cfi_match(): compare the recorded state with the arriving one, warn on a difference. */
function insnCfiMatch(file: ObjFile, insn: Insn, c2: CfiState): boolean {
  const c1 = insn.cfi;
  if (!c1) {
    file.warn('CFI missing');
    return false;
  }
  if (c1.cfa.base !== c2.cfa.base || c1.cfa.offset !== c2.cfa.offset) {
    file.warnInsn(insn, `stack state mismatch: cfa1=${c1.cfa.base}${sgn(c1.cfa.offset)} cfa2=${c2.cfa.base}${sgn(c2.cfa.offset)}`);
    return false;
  }
  for (let i = 0; i < c1.regs.length; i++) {
    const a = c1.regs[i]!;
    const b = c2.regs[i]!;
    if (a.base !== b.base || a.offset !== b.offset) {
      file.warnInsn(insn, `stack state mismatch: reg1[${i}]=${a.base}${sgn(a.offset)} reg2[${i}]=${b.base}${sgn(b.offset)}`);
      return false;
    }
  }
  if (c1.type !== c2.type) {
    file.warnInsn(insn, `stack state mismatch: type1=${hintNumber(file, c1.type)} type2=${hintNumber(file, c2.type)}`);
    return false;
  }
  if (c1.drap !== c2.drap || (c1.drap && c1.drapReg !== c2.drapReg) || (c1.drap && c1.drapOffset !== c2.drapOffset)) {
    file.warnInsn(insn, `stack state mismatch: drap1=${+c1.drap}(${c1.drapReg},${c1.drapOffset}) drap2=${+c2.drap}(${c2.drapReg},${c2.drapOffset})`);
    return false;
  }
  return true;
}

/** The era's hint number of an unwind type, as objtool prints cfi->type. */
function hintNumber(file: ObjFile, t: number): number {
  const h = file.layout.hint.types;
  const byType = [h.CALL, h.REGS, h.REGS_PARTIAL, h.UNDEFINED, h.END_OF_STACK];
  return byType[t] ?? t;
}

/** printf's %+d. */
function sgn(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** objtool propagate_alt_cfi(): record the state in the site's shared array, or find a conflict. */
function propagateAltCfi(file: ObjFile, insn: Insn): boolean {
  const g = insn.altGroup;
  if (!g) return false;
  if (!insn.cfi) {
    file.warn('CFI missing');
    return true;
  }
  const off = insn.offset - g.firstInsn.offset;
  const cur = g.cfi[off];
  if (!cur) {
    g.cfi[off] = insn.cfi;
  } else if (!cfiEqual(cur, insn.cfi)) {
    const orig = (g.origGroup ?? g).firstInsn;
    if (file.layout.messages.altConflictWithLocation) {
      file.warnInsn(orig, `stack layout conflict in alternatives: ${file.offstr(insn.sec.index, insn.offset).text}`);
    } else {
      file.warnAt(insn.sec.index, insn.offset, 'stack layout conflict in alternatives');
    }
    file.conflicts.push({ site: orig, at: insn });
    return true;
  }
  return false;
}

/** objtool next_insn_to_validate(): a replacement's end continues after the original. */
export function nextInsnToValidate(file: ObjFile, insn: Insn): Insn | undefined {
  const g = insn.altGroup;
  if (g) {
    if (g.nop) {
      // (An empty replacement is its NOP alone: there the NOP is also the last instruction.)
      if (insn.is(g.nop)) return file.nextInsnSameSec(g.origGroup!.lastInsn);
      if (insn.is(g.lastInsn)) return g.nop;
    }
    if (g.origGroup && insn.is(g.lastInsn)) return file.nextInsnSameSec(g.origGroup.lastInsn);
  }
  return file.nextInsnSameSec(insn);
}

/** One op record for every walk: operations are read in place, millions of times. */
const scratchOp: StackOp = { dest: { type: 0, reg: 0, offset: 0 }, src: { type: 0, reg: 0, offset: 0 } };

/** Apply the instruction's `n` stack operations (objtool handle_insn_ops()); true on a warning. */
function handleInsnOps(file: ObjFile, st: CfiSteps, f: Frame, n: number, flags: number): boolean {
  const si = f.cs.a.sym[f.pos]!;
  const ctx = (si >= 0 && f.cs.syms[si]!.type === STT_FUNC ? CTX_IN_FUNC : 0) | (nx.cs && nx.flags & InsnBit.HINT ? CTX_NEXT_HAS_HINT : 0) |
    (file.opts.stackval ? CTX_STACKVAL : 0);
  const uaccessOps = file.opts.uaccess && (flags & InsnBit.ALT_GROUP) !== 0;
  const ds = f.cs.ds;
  for (let j = 0; j < n; j++) {
    const op = readStackOp(ds, f.pos, j, scratchOp);
    const next = st.apply(f.cfi, op, ctx);
    if (next < 0) {
      file.warnInsn(f.insn(), st.message);
      return true;
    }
    f.cfi = next;
    if (!uaccessOps) continue;
    if (op.dest.type === OpDestType.PUSHF) {
      if (!f.uaccessStack) f.uaccessStack = 1;
      else if (f.uaccessStack >>> 31) {
        file.warnInsn(f.insn(), 'PUSHF stack exhausted');
        return true;
      }
      f.uaccessStack = ((f.uaccessStack << 1) | (f.uaccess ? 1 : 0)) >>> 0;
    }
    if (op.src.type === OpSrcType.POPF && f.uaccessStack) {
      f.uaccess = (f.uaccessStack & 1) !== 0;
      f.uaccessStack >>>= 1;
      if (f.uaccessStack === 1) f.uaccessStack = 0;
    }
  }
  return false;
}

// Up to 6.3 these warnings name the section the walk started in (WARN_FUNC with
// validate_branch()'s `sec`), even after it ran from a replacement back into the text.
function walkWarn(file: ObjFile, f: Frame, msg: string): void {
  if (file.layout.check.walkWarningsInStartSection) file.warnAt(f.sec, f.offset, msg);
  else file.warnInsn(f.insn(), msg);
}

/** The frame at depth `sp` of the walk, made on first use. */
function frameAt(sp: number, cs: CodeSection): Frame {
  let fr = frames[sp];
  if (!fr) {
    fr = new Frame(cs);
    frames.push(fr);
  }
  return fr;
}

/** The state a walk starts with. */
interface WalkStart {
  /** Interned CFI state number. */
  cfi: number;
  uaccess: boolean;
  /** --noinstr applies (a noinstr section with --link --noinstr). */
  noinstr: boolean;
}

/** A phase's outcome besides ending the frame with 0 or 1: go on with this frame, or with a pushed one. */
const GO = -1;
const PUSHED = -2;

/**
 * Walk every path from `start`; returns 1 when a warning ended the walk. Each phase is its own
 * function, small enough for V8 to inline the frame's accessors into it.
 */
/** The function the current walk validates (for the end-of-section warning of 7.x). */
let walkFunc: Sym | undefined;

function validateBranch(file: ObjFile, func: Sym | undefined, start: Insn, init: WalkStart): number {
  walkFunc = func;
  const st = steps(file);
  const noinstr = init.noinstr;
  const base = frameAt(0, start.sec);
  base.at(start);
  base.begin(init.cfi, 0, init.uaccess, false, 0);
  let sp = 1;
  let ret = 0;
  while (sp > 0) {
    const f = frames[sp - 1]!;
    let r: number;
    do {
      switch (f.phase) {
        case Phase.START:
          r = visit(file, func, f, noinstr);
          if (r === GO && (f.phase as Phase) === Phase.OPS) r = ops(file, st, func, f, sp, noinstr);
          break;
        case Phase.ALTS:
          if (ret) {
            file.backtrace(f.insn(), '(alt)');
            r = ret;
            break;
          }
          r = nextAlt(file, f, sp);
          break;
        case Phase.OPS:
          r = ops(file, st, func, f, sp, noinstr);
          break;
        default:
          if (ret) {
            file.backtrace(f.insn(), '(branch)');
            r = ret;
            break;
          }
          r = afterJump(file, f);
          break;
      }
    } while (r === GO);
    if (r === PUSHED) {
      ret = 0;
      sp++;
    } else {
      ret = r;
      sp--;
    }
  }
  return ret;
}

/** The arrival at an instruction: compare or record the state, mark the visit. */
function visit(file: ObjFile, func: Sym | undefined, f: Frame, noinstr: boolean): number {
  const pos = f.pos;
  if (pos >= 0) {
    // The array path, for all but filler NOPs: the same steps as below, each array loaded once.
    const a = f.cs.a;
    const fl = a.flags[pos]!;
    const si = a.sym[pos]!;
    // (The function check passes for the rest of a symbol once it passed.)
    if (si !== f.symOk) {
      const sym = si >= 0 ? f.cs.syms[si] : undefined;
      if (func && sym && sym.type === STT_FUNC && func !== sym.pfunc) return fallthrough(file, func, sym);
      f.symOk = si;
    }
    if (fl & (InsnBit.IGNORE | InsnBit.HINT | InsnBit.EXTRA | InsnBit.ALT_GROUP | InsnBit.ALTS)) return visitSlow(file, func, f, noinstr);
    const bit = VISITED_BRANCH << (f.uaccess ? 1 : 0);
    const visited = a.visited[pos]!;
    if (visited & VISITED_BRANCH_MASK) {
      if (a.cfi[pos] !== f.cfi && !insnCfiMatch(file, f.insn(), file.cfis.byId(f.cfi))) return 1;
      if (visited & bit) return 0;
    } else {
      file.nrInsnsVisited++;
    }
    a.cfi[pos] = f.cfi;
    a.visited[pos] = visited | bit;
    f.phase = Phase.OPS;
    return GO;
  }
  return visitSlow(file, func, f, noinstr);
}

function fallthrough(file: ObjFile, func: Sym, sym: Sym): number {
  // kCFI/FineIBT preambles always fall through.
  if (file.layout.check.fallthroughPrefixes.some((p) => func.name.startsWith(p)) || file.ignoreUnreachables) return 0;
  file.warn(`${func.name}() falls through to next function ${sym.name}()`);
  return 1;
}

/** visit() for filler NOPs and instructions with hints, alternatives or extras. */
function visitSlow(file: ObjFile, func: Sym | undefined, f: Frame, noinstr: boolean): number {
  const fl = f.flags;
  const sym = f.sym;
  if (func && sym && sym.type === STT_FUNC && func !== sym.pfunc) return fallthrough(file, func, sym);
  if (func && fl & InsnBit.IGNORE) {
    walkWarn(file, f, 'BUG: why am I validating an ignored function?');
    return 1;
  }
  const bit = VISITED_BRANCH << (f.uaccess ? 1 : 0);
  const visited = f.visited;
  if (visited & VISITED_BRANCH_MASK) {
    if (!(fl & InsnBit.HINT) && f.recorded !== f.cfi && !insnCfiMatch(file, f.insn(), file.cfis.byId(f.cfi))) return 1;
    if (visited & bit) return 0;
  } else {
    file.nrInsnsVisited++;
  }
  if (noinstr && (f.pos < 0 || fl & InsnBit.EXTRA)) f.instr += f.insn().instr;
  if (fl & InsnBit.HINT) {
    if (fl & InsnBit.RESTORE) {
      const r = restoreState(file, func, f);
      if (r >= 0) return r;
    }
    // Every recorded state is interned: the walk carries the hint's state itself.
    f.cfi = f.recorded;
  } else {
    f.recorded = f.cfi;
  }
  f.visited = visited | bit;
  if (fl & InsnBit.ALT_GROUP && propagateAltCfi(file, f.insn())) return 1;
  if (fl & InsnBit.ALTS && (!(fl & InsnBit.IGNORE_ALTS) || file.layout.check.altSkip === 'group')) {
    f.phase = Phase.ALTS;
    f.altIdx = 0;
    f.skipOrig = false;
    return GO;
  }
  if (fl & InsnBit.ALT_GROUP && file.layout.check.altSkip === 'group' && skipAltGroup(f.insn())) return 0;
  f.phase = Phase.OPS;
  return GO;
}

/**
 * Push the walk of the next alternative path (the frame at depth `sp`), or go on past them.
 * (A frame runs only while every path it pushed returned 0: a 1 ends the frames below it too.)
 */
function nextAlt(file: ObjFile, f: Frame, sp: number): number {
  const alts = f.insn().alts!;
  if (f.altIdx < alts.length) {
    const alt = alts[f.altIdx++]!;
    if (alt.skipOrig) f.skipOrig = true;
    frameAt(sp, f.cs).init(alt.insn, f);
    return PUSHED;
  }
  if (f.skipOrig) return 0;
  if (file.layout.check.altSkip === 'group' && skipAltGroup(f.insn())) return 0;
  f.phase = Phase.OPS;
  return GO;
}

/**
 * 7.x skip_alt_group(): after its alternatives, an instruction of an ignored group ends the
 * path, and so does an original whose first alternative starts with CLAC or STAC (only the
 * patched-in side is followed, never a mix of patched CLAC and unpatched STAC).
 */
function skipAltGroup(insn: Insn): boolean {
  const g = insn.altGroup;
  if (!g) return false;
  if (g.ignore) return true;
  const alt = insn.alts?.[0]?.insn;
  if (!alt) return false;
  if (alt.altGroup?.ignore) return false;
  return alt.type === InsnType.CLAC || alt.type === InsnType.STAC;
}

/** The instruction's own effect: stack operations, the checks of its type, then the next one. */
function ops(file: ObjFile, st: CfiSteps, func: Sym | undefined, f: Frame, sp: number, noinstr: boolean): number {
  const pos = f.pos;
  let fl: number;
  let type: number;
  if (pos >= 0) {
    // (The arrays read here directly: this function is too big for V8 to inline the getters.)
    const cs = f.cs;
    const a = cs.a;
    fl = a.flags[pos]!;
    type = a.type[pos]!;
    if (!(fl & InsnBit.ALT_GROUP)) {
      const p = pos + 1;
      if (p < cs.ds.count) {
        nx.cs = cs;
        nx.pos = p;
        nx.fill = undefined;
        nx.flags = a.flags[p]!;
      } else {
        nx.cs = undefined;
      }
    } else {
      setNext(file, f, fl);
    }
    if (!(fl & InsnBit.NO_OPS)) {
      const n = cs.ds.opCount[pos]!;
      if (n && handleInsnOps(file, st, f, n, fl)) return 1;
    }
  } else {
    fl = f.flags;
    type = f.type;
    setNext(file, f, fl);
  }
  switch (type) {
    case InsnType.RETURN:
      return validateReturn(file, func, f, noinstr) ? 1 : 0;
    case InsnType.CALL:
    case InsnType.CALL_DYNAMIC:
      if (validateCall(file, f, noinstr)) return 1;
      if (file.opts.stackval && func && !isSpecialCall(type, f.callDest) && !hasValidStackFrame(file.cfis.byId(f.cfi))) {
        walkWarn(file, f, 'call without frame pointer save/setup');
        return 1;
      }
      if (fl & InsnBit.DEAD_END) return 0;
      break;
    case InsnType.JUMP_CONDITIONAL:
    case InsnType.JUMP_UNCONDITIONAL:
      return jump(file, f, sp, type, noinstr);
    case InsnType.JUMP_DYNAMIC:
    case InsnType.JUMP_DYNAMIC_CONDITIONAL:
      if (isSiblingCall(file, f.insn()) && validateSiblingCall(file, f, noinstr)) return 1;
      if (type === InsnType.JUMP_DYNAMIC) return 0;
      break;
    case InsnType.CONTEXT_SWITCH:
      if (!func) return 0;
      if (!nx.cs || !(nx.flags & InsnBit.HINT)) {
        walkWarn(file, f, 'unsupported instruction in callable function');
        return 1;
      }
      break;
    case InsnType.SYSCALL:
    case InsnType.SYSRET:
      // 7.x: both are checked as before inside a function; only SYSRET ends the path.
      if (func && (!nx.cs || !(nx.flags & InsnBit.HINT))) {
        walkWarn(file, f, 'unsupported instruction in callable function');
        return 1;
      }
      if (type === InsnType.SYSRET) return 0;
      break;
    case InsnType.STAC:
    case InsnType.CLAC:
    case InsnType.STD:
    case InsnType.CLD: {
      const r = flagInsn(file, func, f, type);
      if (r >= 0) return r;
      break;
    }
    default:
      break;
  }
  return advance(file, f, fl);
}

/** A static jump: a sibling call, or the walk of its destination first. */
function jump(file: ObjFile, f: Frame, sp: number, type: number, noinstr: boolean): number {
  // objtool is_sibling_call() for a static jump.
  if ((file.layout.check.notypeSiblingCalls || f.sym?.type === STT_FUNC) && f.callDest !== undefined) {
    if (validateSiblingCall(file, f, noinstr)) return 1;
  } else {
    let dest: Insn | undefined;
    if (f.pos >= 0) {
      const d = f.cs.a.jumpDest[f.pos]!;
      if (d >= 0) {
        // The common case: a branch within the section, entered without a handle.
        f.phase = Phase.AFTER_JUMP;
        frameAt(sp, f.cs).initAt(f.cs, d, undefined, f);
        return PUSHED;
      }
      if (d === JUMP_ELSEWHERE) dest = f.insn().jumpDest;
    } else {
      dest = f.fill!.jumpDest;
    }
    if (dest) {
      f.phase = Phase.AFTER_JUMP;
      frameAt(sp, f.cs).init(dest, f);
      return PUSHED;
    }
  }
  if (type === InsnType.JUMP_UNCONDITIONAL) return 0;
  return advance(file, f, f.flags);
}

/** Back from a branch's walk: an unconditional jump ends the path, a conditional one goes on. */
function afterJump(file: ObjFile, f: Frame): number {
  if (f.type === InsnType.JUMP_UNCONDITIONAL) return 0;
  const fl = f.flags;
  setNext(file, f, fl);
  return advance(file, f, fl);
}

/** STAC, CLAC, STD, CLD: the UACCESS and direction flags; -1 when the walk goes on. */
function flagInsn(file: ObjFile, func: Sym | undefined, f: Frame, type: number): number {
  switch (type) {
    case InsnType.STAC:
      if (!file.opts.uaccess) break;
      if (f.uaccess) {
        walkWarn(file, f, 'recursive UACCESS enable');
        return 1;
      }
      f.uaccess = true;
      break;
    case InsnType.CLAC:
      if (!file.opts.uaccess) break;
      if (!f.uaccess && func) {
        walkWarn(file, f, 'redundant UACCESS disable');
        return 1;
      }
      if (funcUaccessSafe(func) && !f.uaccessStack) {
        walkWarn(file, f, 'UACCESS-safe disables UACCESS');
        return 1;
      }
      f.uaccess = false;
      break;
    case InsnType.STD:
      if (f.df) {
        walkWarn(file, f, 'recursive STD');
        return 1;
      }
      f.df = true;
      break;
    default:
      if (!f.df && func) {
        walkWarn(file, f, 'redundant CLD');
        return 1;
      }
      f.df = false;
      break;
  }
  return -1;
}

/**
 * Move on to `nx`, the next instruction of the same path; -1 when done, else the frame ended
 * with that result.
 */
function advance(file: ObjFile, f: Frame, flags: number): number {
  if (flags & InsnBit.DEAD_END) return 0;
  if (!nx.cs) {
    if (file.cfis.byId(f.cfi).cfa.base === CFI_UNDEFINED || file.ignoreUnreachables) return 0;
    // Up to 6.12 objtool names the section this walk started in; 7.x the function and the last
    // instruction's section.
    if (file.layout.messages.endOfSection === 'func') {
      file.warn(`${walkFunc ? `${walkFunc.name}(): ` : ''}unexpected end of section ${f.cs.name}`);
    } else file.warn(`${file.elf.section(f.sec)!.name}: unexpected end of section`);
    return 1;
  }
  f.hasPrev = true;
  f.cs = nx.cs;
  f.pos = nx.pos;
  f.fill = nx.fill;
  f.phase = Phase.START;
  return -1;
}

/** A CFI restore hint takes the state of the save hint before it; -1 when the walk goes on. */
function restoreState(file: ObjFile, func: Sym | undefined, f: Frame): number {
  const insn = f.insn();
  let save: Insn | undefined;
  for (let i = file.prevInsnSameSec(insn); i && func && i.offset >= func.offset; i = file.prevInsnSameSec(i)) {
    if (i.save) {
      save = i;
      break;
    }
  }
  if (!save) {
    walkWarn(file, f, 'no corresponding CFI save for CFI restore');
    return 1;
  }
  if (!save.visited) {
    // Reached by a branch before the straight-line path: seen again later (6.9+).
    if (!f.hasPrev && file.layout.check.restoreDeferredAtBranchTarget) return 0;
    walkWarn(file, f, "objtool isn't smart enough to handle this CFI save/restore combo");
    return 1;
  }
  insn.cfi = save.cfi;
  return -1;
}

function isSpecialCall(type: number, d: Sym | undefined): boolean {
  return type === InsnType.CALL && d !== undefined && (d.fentry || d.embeddedInsn);
}

/** The --noinstr rules apply to walks in this section. */
function noinstrIn(file: ObjFile, secNoinstr: boolean): boolean {
  return file.opts.link && file.opts.noinstr && secNoinstr;
}

/** objtool validate_section(): a walk from every function entry of one section. */
function validateSection(file: ObjFile, cs: CodeSection): number {
  let warnings = 0;
  const init: WalkStart = { cfi: file.cfis.idOf(file.funcCfi), uaccess: false, noinstr: noinstrIn(file, cs.noinstr) };
  const offsets = cs.ds.offset;
  const count = cs.ds.count;
  let pos = 0;
  for (const sym of file.syms.inSection(cs.index)) {
    if (sym.type !== STT_FUNC) continue;
    if (!sym.len) {
      file.warn(`${sym.name}() is missing an ELF size annotation`);
      warnings++;
      continue;
    }
    if (sym.pfunc !== sym || sym.alias !== sym) continue;
    // Symbols come by offset: a cursor over the instructions finds each entry (a binary search
    // per function strays over the whole section's offsets).
    while (pos < count && offsets[pos]! < sym.offset) pos++;
    if (pos === count || offsets[pos] !== sym.offset) continue;
    const insn = new Insn(cs, pos);
    if (insn.ignore || insn.visited) continue;
    init.uaccess = file.opts.uaccess && sym.uaccessSafe;
    const ret = validateBranch(file, insn.func, insn, init);
    if (ret) file.backtrace(insn, '<=== (sym)');
    warnings += ret;
  }
  return warnings;
}

/** objtool validate_functions(): every executable section. */
export function validateFunctions(file: ObjFile): number {
  let warnings = 0;
  for (const cs of file.codeSections) warnings += validateSection(file, cs);
  return warnings;
}

/**
 * objtool validate_unwind_hints(): walks from hinted instructions no function walk reached, in
 * one section (whose noinstr rules then apply) or in all.
 */
export function validateUnwindHints(file: ObjFile, only?: CodeSection): number {
  if (!file.hints) return 0;
  let warnings = 0;
  const init: WalkStart = { cfi: file.cfis.intern(undefinedCfi()).id!, uaccess: false, noinstr: noinstrIn(file, only?.noinstr ?? false) };
  for (const cs of only ? [only] : file.codeSections) {
    const { flags, visited } = cs.a;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if ((flags[pos]! & (InsnBit.HINT | InsnBit.IGNORE)) !== InsnBit.HINT || visited[pos]) continue;
      const insn = new Insn(cs, pos);
      const ret = validateBranch(file, insn.func, insn, init);
      if (ret) file.backtrace(insn, '<=== (hint)');
      warnings += ret;
    }
  }
  return warnings;
}

/** objtool validate_noinstr_sections(): --noinstr without other validation walks only these. */
export function validateNoinstrSections(file: ObjFile): number {
  let warnings = 0;
  for (const name of file.layout.noinstr.sections) {
    const sec = file.elf.sectionByName(name);
    const cs = sec ? file.code[sec.index] : undefined;
    if (!cs) continue;
    warnings += validateSection(file, cs);
    warnings += validateUnwindHints(file, cs);
  }
  return warnings;
}

function isKasanOrUbsanCall(insn: Insn): boolean {
  return insn.type === InsnType.CALL && (insn.callDest?.name === '__asan_handle_no_return' || insn.callDest?.name === '__ubsan_handle_builtin_unreachable');
}

/** objtool ignore_unreachable_insn(). */
function ignoreUnreachableInsn(file: ObjFile, insn: Insn): boolean {
  if (insn.ignore || insn.type === InsnType.NOP || insn.type === InsnType.TRAP) return true;
  // (objtool also excuses all of .altinstr_replacement and .altinstr_aux: the caller skips them.)
  if (file.opts.link && !insn.func) {
    // Code of a weak symbol the linker dropped: a hole between symbols.
    const size = file.syms.findHoleContaining(insn.sec.index, insn.offset);
    if (!size) return false;
    if (size < 0) return true;
    const end = insn.offset + size;
    for (let i = file.nextInsnSameSec(insn); i; i = file.nextInsnSameSec(i)) {
      if (i.visited) return true;
      if (i.offset >= end) break;
      const d = i.jumpDest;
      if (d && d.func && d.func.name.includes('.cold')) for (const x of file.funcInsns(d.func)) x.ignore = true;
    }
    return false;
  }
  const func = insn.func;
  if (!func) return false;
  if (func.staticCallTramp) return true;
  const prev = file.prevInsnSameSec(insn);
  const prevEnds = prev && (prev.deadEnd || (file.layout.unreachable.excuseAfterNoreturnCall && deadEndFunction(file, prev.callDest)));
  if (prevEnds && (insn.type === InsnType.BUG || (insn.type === InsnType.JUMP_UNCONDITIONAL && insn.jumpDest?.type === InsnType.BUG))) return true;
  let cur: Insn | undefined = insn;
  for (let i = 0; i < 5 && cur; i++) {
    if (isKasanOrUbsanCall(cur)) return true;
    // (objtool reads insn_func() of each instruction it steps to; past a function whose symbol
    // outgrows its instructions' (a damaged st_size) there is none, and it would crash: stop)
    if (!cur.func) break;
    if (cur.type === InsnType.JUMP_UNCONDITIONAL) {
      if (cur.jumpDest && cur.jumpDest.func === cur.func) {
        cur = cur.jumpDest;
        continue;
      }
      break;
    }
    if (cur.offset + cur.len >= cur.func!.offset + cur.func!.len) break;
    cur = file.nextInsnSameSec(cur);
  }
  return false;
}

/** objtool validate_reachable_instructions(). */
export function validateReachableInstructions(file: ObjFile): number {
  if (file.ignoreUnreachables) return 0;
  let warnings = 0;
  for (const cs of file.codeSections) {
    // (ignoreUnreachableInsn() excuses every instruction of these)
    if (cs.name === '.altinstr_replacement' || cs.name === '.altinstr_aux') continue;
    const { visited, flags, type } = cs.a;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if (visited[pos]) continue;
      // ignoreUnreachableInsn()'s first test, on the arrays: the padding between functions
      // needs no handle.
      const t = type[pos];
      if (flags[pos]! & InsnBit.IGNORE || t === InsnType.NOP || t === InsnType.TRAP) continue;
      const insn = new Insn(cs, pos);
      if (ignoreUnreachableInsn(file, insn)) continue;
      if (file.layout.unreachable.firstOnly) {
        file.warnAt(insn.sec.index, insn.offset, 'unreachable instruction');
        return 1;
      }
      const prev = file.prevInsnSameSec(insn);
      if (prev && prev.deadEnd && prev.callDest) {
        file.warnInsn(insn, file.layout.messages.missingNoreturn.replace('%s', prev.callDest.name));
        warnings++;
        continue;
      }
      file.warnInsn(insn, 'unreachable instruction');
      warnings++;
    }
  }
  return warnings;
}
