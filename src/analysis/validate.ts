// SPDX-License-Identifier: GPL-2.0-only
// The path walk (objtool validate_branch() and its callers): follow every path from every
// function entry and every unwind hint, carrying the CFI state along, comparing it where paths
// meet, and recording it in each alternative site's shared byte-offset array.
//
// objtool recurses into each branch target and each alternative before continuing; a warning on
// any sub-path ends the whole walk from that entry. Deep functions would overflow a JS stack, so
// the same order is kept with an explicit stack of frames.
import { InsnType } from '../x86/index.js';
import { OpDestType, OpSrcType, readStackOp, type StackOp } from '../x86/index.js';
import { CFI_UNDEFINED, type CfiState } from './cfi.js';
import { cfiEqual, copyCfi, setFuncState, undefinedCfi } from './cfi-state.js';
import { hasModifiedStackFrame, hasValidStackFrame, type UpdateContext, updateCfiState } from './cfi-update.js';
import { Insn, InsnBit, VISITED_BRANCH, VISITED_BRANCH_MASK, type CodeSection } from './insn.js';
import type { ObjFile } from './objfile.js';
import { deadEndFunction, isSiblingCall } from './passes.js';
import type { Sym } from './symbols.js';

const T = InsnType;

interface InsnState {
  cfi: CfiState;
  uaccessStack: number;
  uaccess: boolean;
  df: boolean;
  noinstr: boolean;
  instr: number;
  /** The interned state equal to `cfi`, while no stack operation has changed it since. */
  interned: CfiState | undefined;
}

function copyState(s: InsnState): InsnState {
  return { cfi: copyCfi(s.cfi), uaccessStack: s.uaccessStack, uaccess: s.uaccess, df: s.df, noinstr: s.noinstr, instr: s.instr, interned: s.interned };
}

function initState(file: ObjFile, secNoinstr: boolean): InsnState {
  return {
    cfi: undefinedCfi(), uaccessStack: 0, uaccess: false, df: false, noinstr: file.opts.link && file.opts.noinstr && secNoinstr, instr: 0,
    interned: undefined,
  };
}

const enum Phase { START, ALTS, OPS, AFTER_JUMP }

interface Frame {
  insn: Insn;
  /** The section of the instruction this walk started at (objtool validate_branch()'s `sec`). */
  sec: number;
  state: InsnState;
  prev: Insn | undefined;
  phase: Phase;
  altIdx: number;
  skipOrig: boolean;
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

function validateCall(file: ObjFile, insn: Insn, state: InsnState): boolean {
  if (state.noinstr && state.instr <= 0 && !noinstrCallDest(file, insn, insn.callDest)) {
    file.warnInsn(insn, `call to ${callDestName(file, insn)}() leaves .noinstr.text section`);
    return true;
  }
  if (state.uaccess && !funcUaccessSafe(insn.callDest)) {
    file.warnInsn(insn, `call to ${callDestName(file, insn)}() with UACCESS enabled`);
    return true;
  }
  if (state.df) {
    file.warnInsn(insn, `call to ${callDestName(file, insn)}() with DF set`);
    return true;
  }
  return false;
}

function validateSiblingCall(file: ObjFile, insn: Insn, state: InsnState): boolean {
  // From 6.2 code outside functions may tail-call with any stack (notypeSiblingCalls).
  if ((insn.func || !file.layout.check.notypeSiblingCalls) && hasModifiedStackFrame(state.cfi)) {
    file.warnInsn(insn, 'sibling call from callable instruction with modified stack frame');
    return true;
  }
  return validateCall(file, insn, state);
}

function validateReturn(file: ObjFile, func: Sym | undefined, insn: Insn, state: InsnState): boolean {
  const msg =
    state.noinstr && state.instr > 0 ? 'return with instrumentation enabled'
    : state.uaccess && !funcUaccessSafe(func) ? 'return with UACCESS enabled'
    : !state.uaccess && funcUaccessSafe(func) ? 'return with UACCESS disabled from a UACCESS-safe function'
    : state.df ? 'return with DF set'
    : func && hasModifiedStackFrame(state.cfi) ? 'return with modified stack frame'
    : state.cfi.bpScratch ? 'BP used as a scratch register'
    : undefined;
  if (msg) file.warnInsn(insn, msg);
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
function nextInsnToValidate(file: ObjFile, insn: Insn): Insn | undefined {
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

const scratchCtx: UpdateContext = { inFunc: false, nextHasHint: false, stackval: false };
const scratchOp: StackOp = { dest: { type: 0, reg: 0, offset: 0 }, src: { type: 0, reg: 0, offset: 0 } };

/** Apply the instruction's stack operations (objtool handle_insn_ops()); true on a warning. */
function handleInsnOps(file: ObjFile, insn: Insn, next: Insn | undefined, state: InsnState): boolean {
  const n = insn.opCount;
  if (n === 0) return false;
  state.interned = undefined;
  // One context and one op record for the whole walk: this runs for millions of instructions.
  const ctx = scratchCtx;
  ctx.inFunc = insn.func !== undefined;
  ctx.nextHasHint = next?.hint ?? false;
  ctx.stackval = file.opts.stackval;
  for (let j = 0; j < n; j++) {
    const op = readStackOp(insn.sec.ds, insn.pos, j, scratchOp);
    const msg = updateCfiState(state.cfi, op, ctx);
    if (msg) {
      file.warnInsn(insn, msg);
      return true;
    }
    if (!file.opts.uaccess || !insn.altGroup) continue;
    if (op.dest.type === OpDestType.PUSHF) {
      if (!state.uaccessStack) state.uaccessStack = 1;
      else if (state.uaccessStack >>> 31) {
        file.warnInsn(insn, 'PUSHF stack exhausted');
        return true;
      }
      state.uaccessStack = ((state.uaccessStack << 1) | (state.uaccess ? 1 : 0)) >>> 0;
    }
    if (op.src.type === OpSrcType.POPF && state.uaccessStack) {
      state.uaccess = (state.uaccessStack & 1) !== 0;
      state.uaccessStack >>>= 1;
      if (state.uaccessStack === 1) state.uaccessStack = 0;
    }
  }
  return false;
}

/** Walk every path from `start`; returns 1 when a warning ended the walk. */
export function validateBranch(file: ObjFile, func: Sym | undefined, start: Insn, startState: InsnState): number {
  const stack: Frame[] = [{ insn: start, sec: start.sec.index, state: startState, prev: undefined, phase: Phase.START, altIdx: 0, skipOrig: false }];
  let childRet = 0;
  const finish = (v: number): void => {
    stack.pop();
    childRet = v;
  };
  // Up to 6.3 these warnings name the section the walk started in (WARN_FUNC with
  // validate_branch()'s `sec`), even after it ran from a replacement back into the text.
  const walkWarn = (fr: Frame, insn: Insn, msg: string): void => {
    if (file.layout.check.walkWarningsInStartSection) file.warnAt(fr.sec, insn.offset, msg);
    else file.warnInsn(insn, msg);
  };

  frames: while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    for (;;) {
      const insn = f.insn;
      const state = f.state;
      switch (f.phase) {
        case Phase.START: {
          const ifunc = insn.func;
          if (func && ifunc && func !== ifunc.pfunc) {
            // kCFI/FineIBT preambles always fall through.
            if (file.layout.check.fallthroughPrefixes.some((p) => func.name.startsWith(p)) || file.ignoreUnreachables) {
              finish(0);
              continue frames;
            }
            file.warn(`${func.name}() falls through to next function ${ifunc.name}()`);
            finish(1);
            continue frames;
          }
          if (func && insn.ignore) {
            walkWarn(f, insn, 'BUG: why am I validating an ignored function?');
            finish(1);
            continue frames;
          }
          const visited = VISITED_BRANCH << (state.uaccess ? 1 : 0);
          if (insn.visited & VISITED_BRANCH_MASK) {
            if (!insn.hint && !insnCfiMatch(file, insn, state.interned ?? state.cfi)) {
              finish(1);
              continue frames;
            }
            if (insn.visited & visited) {
              finish(0);
              continue frames;
            }
          } else {
            file.nrInsnsVisited++;
          }
          if (state.noinstr) state.instr += insn.instr;
          if (insn.hint) {
            if (insn.restore) {
              let save: Insn | undefined;
              for (let i = file.prevInsnSameSec(insn); i && func && i.offset >= func.offset; i = file.prevInsnSameSec(i)) {
                if (i.save) {
                  save = i;
                  break;
                }
              }
              if (!save) {
                walkWarn(f, insn, 'no corresponding CFI save for CFI restore');
                finish(1);
                continue frames;
              }
              if (!save.visited) {
                // Reached by a branch before the straight-line path: seen again later (6.9+).
                if (!f.prev && file.layout.check.restoreDeferredAtBranchTarget) {
                  finish(0);
                  continue frames;
                }
                walkWarn(f, insn, "objtool isn't smart enough to handle this CFI save/restore combo");
                finish(1);
                continue frames;
              }
              insn.cfi = save.cfi;
            }
            state.cfi = copyCfi(insn.cfi!);
            state.interned = insn.cfi;
          } else if (state.interned) {
            // Every recorded state is interned, so this is the object objtool's comparison with
            // the previous instruction's state would pick too.
            insn.cfi = state.interned;
          } else if (f.prev && f.prev.cfi && cfiEqual(f.prev.cfi, state.cfi)) {
            insn.cfi = state.interned = f.prev.cfi;
          } else {
            insn.cfi = state.interned = file.cfis.intern(state.cfi);
          }
          insn.visited |= visited;
          if (propagateAltCfi(file, insn)) {
            finish(1);
            continue frames;
          }
          if (!insn.ignoreAlts && insn.alts) {
            f.phase = Phase.ALTS;
            f.altIdx = 0;
            f.skipOrig = false;
            childRet = 0;
            break;
          }
          f.phase = Phase.OPS;
          break;
        }

        case Phase.ALTS: {
          if (childRet) {
            file.backtrace(insn, '(alt)');
            finish(childRet);
            continue frames;
          }
          const alts = insn.alts!;
          if (f.altIdx < alts.length) {
            const alt = alts[f.altIdx++]!;
            if (alt.skipOrig) f.skipOrig = true;
            stack.push({ insn: alt.insn, sec: alt.insn.sec.index, state: copyState(state), prev: undefined, phase: Phase.START, altIdx: 0, skipOrig: false });
            continue frames;
          }
          if (f.skipOrig) {
            finish(0);
            continue frames;
          }
          f.phase = Phase.OPS;
          break;
        }

        case Phase.OPS: {
          const next = nextInsnToValidate(file, insn);
          if (handleInsnOps(file, insn, next, state)) {
            finish(1);
            continue frames;
          }
          let end = false;
          switch (insn.type) {
            case T.RETURN:
              finish(validateReturn(file, func, insn, state) ? 1 : 0);
              continue frames;
            case T.CALL:
            case T.CALL_DYNAMIC:
              if (validateCall(file, insn, state)) {
                finish(1);
                continue frames;
              }
              if (file.opts.stackval && func && !isSpecialCall(insn) && !hasValidStackFrame(state.cfi)) {
                walkWarn(f, insn, 'call without frame pointer save/setup');
                finish(1);
                continue frames;
              }
              if (insn.deadEnd) end = true;
              break;
            case T.JUMP_CONDITIONAL:
            case T.JUMP_UNCONDITIONAL: {
              if (isSiblingCall(file, insn)) {
                if (validateSiblingCall(file, insn, state)) {
                  finish(1);
                  continue frames;
                }
              } else {
                const dest = insn.jumpDest;
                if (dest) {
                  f.phase = Phase.AFTER_JUMP;
                  childRet = 0;
                  stack.push({ insn: dest, sec: dest.sec.index, state: copyState(state), prev: undefined, phase: Phase.START, altIdx: 0, skipOrig: false });
                  continue frames;
                }
              }
              if (insn.type === T.JUMP_UNCONDITIONAL) end = true;
              break;
            }
            case T.JUMP_DYNAMIC:
            case T.JUMP_DYNAMIC_CONDITIONAL:
              if (isSiblingCall(file, insn) && validateSiblingCall(file, insn, state)) {
                finish(1);
                continue frames;
              }
              if (insn.type === T.JUMP_DYNAMIC) end = true;
              break;
            case T.CONTEXT_SWITCH:
              if (func) {
                if (!next || !next.hint) {
                  walkWarn(f, insn, 'unsupported instruction in callable function');
                  finish(1);
                  continue frames;
                }
                break;
              }
              end = true;
              break;
            case T.STAC:
              if (!file.opts.uaccess) break;
              if (state.uaccess) {
                walkWarn(f, insn, 'recursive UACCESS enable');
                finish(1);
                continue frames;
              }
              state.uaccess = true;
              break;
            case T.CLAC:
              if (!file.opts.uaccess) break;
              if (!state.uaccess && func) {
                walkWarn(f, insn, 'redundant UACCESS disable');
                finish(1);
                continue frames;
              }
              if (funcUaccessSafe(func) && !state.uaccessStack) {
                walkWarn(f, insn, 'UACCESS-safe disables UACCESS');
                finish(1);
                continue frames;
              }
              state.uaccess = false;
              break;
            case T.STD:
              if (state.df) {
                walkWarn(f, insn, 'recursive STD');
                finish(1);
                continue frames;
              }
              state.df = true;
              break;
            case T.CLD:
              if (!state.df && func) {
                walkWarn(f, insn, 'redundant CLD');
                finish(1);
                continue frames;
              }
              state.df = false;
              break;
            default:
              break;
          }
          if (end) {
            finish(0);
            continue frames;
          }
          if (advance(file, f, next)) continue frames;
          break;
        }

        case Phase.AFTER_JUMP: {
          if (childRet) {
            file.backtrace(insn, '(branch)');
            finish(childRet);
            continue frames;
          }
          if (insn.type === T.JUMP_UNCONDITIONAL) {
            finish(0);
            continue frames;
          }
          if (advance(file, f, nextInsnToValidate(file, insn))) continue frames;
          break;
        }
      }
    }

    // Move on to the next instruction of the same path; true when the frame ended.
    function advance(file: ObjFile, fr: Frame, next: Insn | undefined): boolean {
      if (fr.insn.deadEnd) {
        finish(0);
        return true;
      }
      if (!next) {
        if (fr.state.cfi.cfa.base === CFI_UNDEFINED || file.ignoreUnreachables) {
          finish(0);
          return true;
        }
        // (objtool names the section this walk started in, in every version)
        file.warn(`${file.elf.section(fr.sec)!.name}: unexpected end of section`);
        finish(1);
        return true;
      }
      fr.prev = fr.insn;
      fr.insn = next;
      fr.phase = Phase.START;
      return false;
    }
  }
  return childRet;
}

function isSpecialCall(insn: Insn): boolean {
  if (insn.type !== T.CALL) return false;
  const d = insn.callDest;
  return d !== undefined && (d.fentry || d.embeddedInsn);
}

/** objtool validate_section(): a walk from every function entry of one section. */
function validateSection(file: ObjFile, cs: CodeSection): number {
  let warnings = 0;
  for (const sym of file.syms.inSection(cs.index)) {
    if (sym.type !== 2) continue;
    if (!sym.len) {
      file.warn(`${sym.name}() is missing an ELF size annotation`);
      warnings++;
      continue;
    }
    if (sym.pfunc !== sym || sym.alias !== sym) continue;
    const insn = file.findInsn(cs.index, sym.offset);
    if (!insn || insn.ignore || insn.visited) continue;
    const state = initState(file, cs.noinstr);
    setFuncState(state.cfi);
    if (file.opts.uaccess) state.uaccess = sym.uaccessSafe;
    const ret = validateBranch(file, insn.func, insn, state);
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
  const state = initState(file, only?.noinstr ?? false);
  for (const cs of only ? [only] : file.codeSections) {
    const { flags, visited } = cs.a;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if ((flags[pos]! & (InsnBit.HINT | InsnBit.IGNORE)) !== InsnBit.HINT || visited[pos]) continue;
      const insn = new Insn(cs, pos);
      const ret = validateBranch(file, insn.func, insn, copyState(state));
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
  return insn.type === T.CALL && (insn.callDest?.name === '__asan_handle_no_return' || insn.callDest?.name === '__ubsan_handle_builtin_unreachable');
}

/** objtool ignore_unreachable_insn(). */
function ignoreUnreachableInsn(file: ObjFile, insn: Insn): boolean {
  if (insn.ignore || insn.type === T.NOP || insn.type === T.TRAP) return true;
  if (insn.sec.name === '.altinstr_replacement' || insn.sec.name === '.altinstr_aux') return true;
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
  if (prevEnds && (insn.type === T.BUG || (insn.type === T.JUMP_UNCONDITIONAL && insn.jumpDest?.type === T.BUG))) return true;
  let cur: Insn | undefined = insn;
  for (let i = 0; i < 5 && cur; i++) {
    if (isKasanOrUbsanCall(cur)) return true;
    if (cur.type === T.JUMP_UNCONDITIONAL) {
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
    const visited = cs.a.visited;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if (visited[pos]) continue;
      const insn = new Insn(cs, pos);
      if (ignoreUnreachableInsn(file, insn)) continue;
      if (file.layout.unreachable.firstOnly) {
        file.warnAt(insn.sec.index, insn.offset, 'unreachable instruction');
        return 1;
      }
      const prev = file.prevInsnSameSec(insn);
      if (prev && prev.deadEnd && prev.callDest) {
        file.warnInsn(insn, `${prev.callDest.name}() is missing a __noreturn annotation`);
        warnings++;
        continue;
      }
      file.warnInsn(insn, 'unreachable instruction');
      warnings++;
    }
  }
  return warnings;
}
