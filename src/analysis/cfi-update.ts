// SPDX-License-Identifier: GPL-2.0-only
// The transfer function: how one stack operation changes the CFI state (objtool's
// update_cfi_state() and its helpers), including the DRAP, stack-realignment and stack-swizzle
// patterns GCC and Clang emit. Returns a warning text when the operation cannot be followed.
import { OpDestType, OpSrcType, type StackOp } from '../x86/index.js';
import {
  CFI_BP_INDIRECT, CFI_CFA, CFI_NUM_REGS, CFI_SP_INDIRECT, CFI_UNDEFINED, type CfiReg, type CfiState, UnwindType,
} from './cfi.js';
import { cfiEqual, type CfiInterner, INITIAL_FUNC_CFA, isInitialReg, loadCfi, restoreInitialReg, setReg, setVal, undefinedCfi } from './cfi-state.js';

const SP = 4;
const BP = 5;
const RA = 16;
/** arch_callee_saved_reg(): BX, BP, R12-R15. */
const CALLEE_SAVED = new Set([3, 5, 12, 13, 14, 15]);

export interface UpdateContext {
  /** The instruction belongs to an STT_FUNC symbol. */
  inFunc: boolean;
  /** The next instruction carries an unwind hint. */
  nextHasHint: boolean;
  stackval: boolean;
}

function saveReg(cfi: CfiState, reg: number, base: number, offset: number): void {
  if (CALLEE_SAVED.has(reg) && cfi.regs[reg]!.base === CFI_UNDEFINED) setReg(cfi, reg, { base, offset });
}

function checkRegFramePos(r: CfiReg, expected: number): boolean {
  return r.base === CFI_CFA && r.offset === expected;
}

/** objtool has_modified_stack_frame(). */
export function hasModifiedStackFrame(cfi: CfiState): boolean {
  if (cfi.cfa.base !== INITIAL_FUNC_CFA.base || cfi.drap) return true;
  if (cfi.cfa.offset !== INITIAL_FUNC_CFA.offset) return true;
  if (cfi.stackSize !== INITIAL_FUNC_CFA.offset) return true;
  for (let i = 0; i < CFI_NUM_REGS; i++) if (!isInitialReg(i, cfi.regs[i]!)) return true;
  return false;
}

/** objtool has_valid_stack_frame(). */
export function hasValidStackFrame(cfi: CfiState): boolean {
  if (cfi.cfa.base === BP && checkRegFramePos(cfi.regs[BP]!, -cfi.cfa.offset) && checkRegFramePos(cfi.regs[RA]!, -cfi.cfa.offset + 8)) return true;
  return cfi.drap && cfi.regs[BP]!.base === BP;
}

/** REGS/REGS_PARTIAL hints: only the stack pointer's movement is followed. */
function updateRegsType(cfi: CfiState, op: StackOp): void {
  const cfa = cfi.cfa;
  if (cfa.base !== SP && cfa.base !== CFI_SP_INDIRECT) return;
  if (op.dest.type === OpDestType.PUSH || op.dest.type === OpDestType.PUSHF) cfa.offset += 8;
  if (op.src.type === OpSrcType.POP || op.src.type === OpSrcType.POPF) cfa.offset -= 8;
  if (op.dest.type === OpDestType.REG && op.src.type === OpSrcType.ADD && op.dest.reg === SP && op.src.reg === SP) cfa.offset -= op.src.offset;
}

/**
 * Apply one stack operation; returns objtool's warning text when it must stop. (A negation is
 * `| 0`: -0 is a double, and one stored would make every state's offsets doubles.)
 */
export function updateCfiState(cfi: CfiState, op: StackOp, ctx: UpdateContext): string | undefined {
  const cfa = cfi.cfa;
  if (cfi.forceUndefined) return undefined;
  if (cfa.base === CFI_UNDEFINED) return ctx.inFunc ? 'undefined stack state' : undefined;
  if (cfi.type === UnwindType.REGS || cfi.type === UnwindType.REGS_PARTIAL) {
    updateRegsType(cfi, op);
    return undefined;
  }
  const { dest, src } = op;
  switch (dest.type) {
    case OpDestType.REG:
      switch (src.type) {
        case OpSrcType.REG:
          if (src.reg === SP && dest.reg === BP && cfa.base === SP && checkRegFramePos(cfi.regs[BP]!, -cfa.offset)) {
            // mov %rsp, %rbp
            cfa.base = dest.reg;
            cfi.bpScratch = false;
          } else if (src.reg === SP && dest.reg === BP && cfi.drap) {
            // drap: mov %rsp, %rbp
            setReg(cfi, BP, { base: BP, offset: -cfi.stackSize | 0 });
            cfi.bpScratch = false;
          } else if (src.reg === SP && cfa.base === SP) {
            // mov %rsp, %reg: remembered for a later mov %reg, %rsp
            setVal(cfi, dest.reg, { base: CFI_CFA, offset: -cfi.stackSize | 0 });
          } else if (src.reg === BP && dest.reg === SP && (cfa.base === BP || cfa.base === cfi.drapReg)) {
            // mov %rbp, %rsp (Clang)
            cfi.stackSize = -cfi.regs[BP]!.offset | 0;
          } else if (dest.reg === cfa.base) {
            // mov %reg, %rsp
            const v = cfi.vals[src.reg]!;
            if (cfa.base === SP && v.base === CFI_CFA) {
              cfa.offset = -v.offset | 0;
              cfi.stackSize = cfa.offset;
            } else if (cfa.base === SP && v.base === CFI_SP_INDIRECT && v.offset === cfa.offset) {
              // Stack swizzle: the unwinder dereferences SP and adds the offset.
              cfa.base = CFI_SP_INDIRECT;
            } else {
              cfa.base = CFI_UNDEFINED;
              cfa.offset = 0;
            }
          } else if (dest.reg === SP && cfi.vals[src.reg]!.base === CFI_SP_INDIRECT && cfi.vals[src.reg]!.offset === cfa.offset) {
            // The swizzle with a CFA base that cannot change: count it as a push.
            cfi.stackSize += 8;
          } else if (cfi.vals[src.reg]!.base === CFI_CFA) {
            // Clang's RSP musical chairs.
            setVal(cfi, dest.reg, { base: CFI_CFA, offset: cfi.vals[src.reg]!.offset });
          }
          return undefined;

        case OpSrcType.ADD:
          if (dest.reg === SP && src.reg === SP) {
            // add imm, %rsp
            cfi.stackSize -= src.offset;
            if (cfa.base === SP) cfa.offset -= src.offset;
            return undefined;
          }
          if (dest.reg === SP && src.reg === BP) {
            // lea disp(%rbp), %rsp (the frame-pointer LoongArch forms never apply on x86)
            if (!(cfa.base === BP && cfa.offset === 0)) cfi.stackSize = -(src.offset + cfi.regs[BP]!.offset) | 0;
            return undefined;
          }
          if (src.reg === SP && cfa.base === SP) {
            // drap: lea disp(%rsp), %drap
            cfi.drapReg = dest.reg;
            setVal(cfi, dest.reg, { base: CFI_CFA, offset: (src.offset - cfi.stackSize) | 0 });
            return undefined;
          }
          if (cfi.drap && dest.reg === SP && src.reg === cfi.drapReg) {
            // drap: lea disp(%drap), %rsp
            cfa.base = SP;
            cfa.offset = cfi.stackSize = -src.offset | 0;
            cfi.drapReg = CFI_UNDEFINED;
            cfi.drap = false;
            return undefined;
          }
          if (dest.reg === cfa.base && !ctx.nextHasHint) return 'unsupported stack register modification';
          return undefined;

        case OpSrcType.AND:
          if (dest.reg !== SP || (cfi.drapReg !== CFI_UNDEFINED && cfa.base !== SP) || (cfi.drapReg === CFI_UNDEFINED && cfa.base !== BP)) {
            return 'unsupported stack pointer realignment';
          }
          if (cfi.drapReg !== CFI_UNDEFINED) {
            // drap: and imm, %rsp
            cfa.base = cfi.drapReg;
            cfa.offset = cfi.stackSize = 0;
            cfi.drap = true;
          }
          return undefined;

        case OpSrcType.POP:
        case OpSrcType.POPF:
          if (dest.reg === SP && cfa.base === CFI_SP_INDIRECT) {
            // pop %rsp: back from a stack swizzle
            cfa.base = SP;
            return undefined;
          }
          if (!cfi.drap && dest.reg === cfa.base) cfa.base = SP; // pop %rbp
          if (cfi.drap && cfa.base === CFI_BP_INDIRECT && dest.reg === cfi.drapReg && cfi.drapOffset === -cfi.stackSize) {
            // drap: pop %drap
            cfa.base = cfi.drapReg;
            cfa.offset = 0;
            cfi.drapOffset = -1;
          } else if (cfi.stackSize === -cfi.regs[dest.reg]!.offset) {
            restoreInitialReg(cfi, dest.reg);
          }
          cfi.stackSize -= 8;
          if (cfa.base === SP) cfa.offset -= 8;
          return undefined;

        case OpSrcType.REG_INDIRECT:
          if (!cfi.drap && dest.reg === cfa.base && dest.reg === BP) {
            // mov disp(%rsp), %rbp
            cfa.base = SP;
            cfa.offset = cfi.stackSize;
          }
          if (cfi.drap && src.reg === BP && src.offset === cfi.drapOffset) {
            // drap: mov disp(%rbp), %drap
            cfa.base = cfi.drapReg;
            cfa.offset = 0;
            cfi.drapOffset = -1;
          }
          if (cfi.drap && src.reg === BP && src.offset === cfi.regs[dest.reg]!.offset) {
            restoreInitialReg(cfi, dest.reg);
          } else if (src.reg === cfa.base && src.offset === cfi.regs[dest.reg]!.offset + cfa.offset) {
            restoreInitialReg(cfi, dest.reg);
          } else if (src.reg === SP && src.offset === cfi.regs[dest.reg]!.offset + cfi.stackSize) {
            restoreInitialReg(cfi, dest.reg);
          }
          return undefined;

        default:
          return 'unknown stack-related instruction';
      }

    case OpDestType.PUSH:
    case OpDestType.PUSHF:
      cfi.stackSize += 8;
      if (cfa.base === SP) cfa.offset += 8;
      if (src.type !== OpSrcType.REG) return undefined;
      if (cfi.drap) {
        if (src.reg === cfa.base && src.reg === cfi.drapReg) {
          // drap: push %drap
          cfa.base = CFI_BP_INDIRECT;
          cfa.offset = -cfi.stackSize | 0;
          cfi.drapOffset = -cfi.stackSize | 0;
        } else if (src.reg === BP && cfa.base === cfi.drapReg) {
          // drap: push %rbp
          cfi.stackSize = 0;
        } else {
          saveReg(cfi, src.reg, BP, -cfi.stackSize | 0);
        }
      } else {
        saveReg(cfi, src.reg, CFI_CFA, -cfi.stackSize | 0);
      }
      // Asm code using %rbp as a scratch register.
      if (ctx.stackval && ctx.inFunc && src.reg === BP && cfa.base !== BP) cfi.bpScratch = true;
      return undefined;

    case OpDestType.REG_INDIRECT:
      if (cfi.drap) {
        if (src.reg === cfa.base && src.reg === cfi.drapReg) {
          // drap: mov %drap, disp(%rbp)
          cfa.base = CFI_BP_INDIRECT;
          cfa.offset = dest.offset;
          cfi.drapOffset = dest.offset;
        } else {
          saveReg(cfi, src.reg, BP, dest.offset);
        }
      } else if (dest.reg === cfa.base) {
        // mov reg, disp(%rbp) / disp(%rsp)
        saveReg(cfi, src.reg, CFI_CFA, dest.offset - cfa.offset);
      } else if (dest.reg === SP) {
        saveReg(cfi, src.reg, CFI_CFA, dest.offset - cfi.stackSize);
      } else if (src.reg === SP && dest.offset === 0) {
        // mov %rsp, (%reg): sets up a stack swizzle
        setVal(cfi, dest.reg, { base: CFI_SP_INDIRECT, offset: cfa.offset });
      }
      return undefined;

    case OpDestType.MEM:
      if (src.type !== OpSrcType.POP && src.type !== OpSrcType.POPF) return 'unknown stack-related memory operation';
      // pop mem
      cfi.stackSize -= 8;
      if (cfa.base === SP) cfa.offset -= 8;
      return undefined;

    default:
      return 'unknown stack-related instruction';
  }
}

/** UpdateContext as the bits of CfiSteps.apply()'s `ctx`. */
export const CTX_IN_FUNC = 1;
export const CTX_NEXT_HAS_HINT = 2;
export const CTX_STACKVAL = 4;

/**
 * Int32s per slot of CfiSteps' table: state number + 1 (0: empty slot), types and ctx, two
 * registers, two offsets (the key), the resulting state's number, padding (a slot in one line).
 */
const SLOT = 8;
const TO = 6;
// (OpDestType and OpSrcType are enum objects: their members are loads, these are constants)
const DEST_PUSH: number = OpDestType.PUSH;
const DEST_PUSHF: number = OpDestType.PUSHF;
const DEST_MEM: number = OpDestType.MEM;
const SRC_POP: number = OpSrcType.POP;
const SRC_POPF: number = OpSrcType.POPF;
const SRC_ADD: number = OpSrcType.ADD;
const stepCtx: UpdateContext = { inFunc: false, nextHasHint: false, stackval: false };

function stepHash(k: Int32Array, b: number): number {
  let h = Math.imul(k[b]! ^ (k[b + 1]! << 16), 0x9e3779b1) ^ Math.imul(k[b + 2]! ^ (k[b + 3]! << 8), 0x85ebca6b);
  h = Math.imul(h ^ k[b + 4]!, 0xc2b2ae35);
  h = Math.imul(h ^ k[b + 5]! ^ (h >>> 15), 0x27d4eb2d);
  return h ^ (h >>> 16);
}

/**
 * updateCfiState() over interned states, by number: the state one operation leads to from a
 * given state, remembered by (state, operation, context). The walk meets the same steps (push
 * %rbp from a function's entry state, ...) again and again; a known one costs a probe of this
 * table instead of a copy, a whole-state hash and comparisons.
 */
export class CfiSteps {
  /** The warning of the last apply() that returned -1. */
  message = '';
  /** Open addressing, SLOT int32s a slot. */
  private table: Int32Array;
  private mask: number;
  private used = 0;
  /** The key being looked up, in the slot layout. */
  private readonly probe = new Int32Array(SLOT);
  /** The state a new step is worked out in (the interner copies what it keeps). */
  private readonly scratch = undefinedCfi();

  constructor(private readonly cfis: CfiInterner) {
    const n = 1 << 12;
    this.table = new Int32Array(n * SLOT);
    this.mask = n - 1;
  }

  /** The number of the state `op` makes of state `id` (ctx: CTX_* bits), or -1 with `message` set. */
  apply(id: number, op: StackOp, ctx: number): number {
    const d = op.dest;
    const s = op.src;
    // Over half the operations leave the state as it was (a load into a scratch register, ...):
    // working that out on the state itself costs less than finding the step in the table (a
    // miss in the cache for the most part), as the arrays stay shared and the comparison costs
    // a few fields. What moves the stack pointer is a change: the table first.
    const dt = d.type;
    const st = s.type;
    const moves = dt === DEST_PUSH || dt === DEST_PUSHF || dt === DEST_MEM || st === SRC_POP || st === SRC_POPF ||
      (st === SRC_ADD && d.reg === SP);
    if (!moves) {
      const c = this.update(id, op, ctx);
      if (c === undefined) return -1;
      if (cfiEqual(c, this.cfis.byId(id))) return id;
    }
    const p = this.probe;
    p[0] = id + 1;
    p[1] = dt | (st << 4) | (ctx << 8);
    p[2] = d.reg;
    p[3] = s.reg;
    p[4] = d.offset;
    p[5] = s.offset;
    const t = this.table;
    const mask = this.mask;
    let slot = stepHash(p, 0) & mask;
    for (;;) {
      const b = slot * SLOT;
      const k = t[b]!;
      if (k === 0) break;
      if (k === p[0] && t[b + 1] === p[1] && t[b + 2] === p[2] && t[b + 3] === p[3] && t[b + 4] === p[4] && t[b + 5] === p[5]) {
        return t[b + TO]!;
      }
      slot = (slot + 1) & mask;
    }
    const c = moves ? this.update(id, op, ctx) : this.scratch;
    if (c === undefined) return -1;
    const r = cfiEqual(c, this.cfis.byId(id)) ? id : this.cfis.intern(c).id!;
    p[TO] = r;
    t.set(p, slot * SLOT);
    if (++this.used * 2 > mask) this.grow();
    return r;
  }

  /** The scratch state made of state `id` by `op`; undefined with `message` set. */
  private update(id: number, op: StackOp, ctx: number): CfiState | undefined {
    const c = this.scratch;
    loadCfi(c, this.cfis.byId(id));
    stepCtx.inFunc = (ctx & CTX_IN_FUNC) !== 0;
    stepCtx.nextHasHint = (ctx & CTX_NEXT_HAS_HINT) !== 0;
    stepCtx.stackval = (ctx & CTX_STACKVAL) !== 0;
    const msg = updateCfiState(c, op, stepCtx);
    if (msg) {
      this.message = msg;
      return undefined;
    }
    return c;
  }

  private grow(): void {
    const old = this.table;
    const n = (this.mask + 1) * 2;
    const t = (this.table = new Int32Array(n * SLOT));
    const mask = (this.mask = n - 1);
    for (let b = 0; b < old.length; b += SLOT) {
      if (old[b] === 0) continue;
      let slot = stepHash(old, b) & mask;
      while (t[slot * SLOT] !== 0) slot = (slot + 1) & mask;
      const nb = slot * SLOT;
      for (let j = 0; j < SLOT; j++) t[nb + j] = old[b + j]!;
    }
  }
}
