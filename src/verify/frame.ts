// SPDX-License-Identifier: GPL-2.0-only
// An abstract interpreter of stack frames, independent of the CFI machinery of stack validation
// (it shares only the decoder): along each path of a function it knows how far the stack pointer
// is below the CFA (where the return address is), whether %rbp holds a frame pointer, and where
// the caller's %rbp was saved. Anything it cannot model makes the state unknown, and boundaries
// reached in an unknown state are counted as unverified, never passed.
import { InsnType, OP_STRIDE, OpDestType, OpSrcType, opDestReg, opDestType, opSrcReg, opSrcType, type DecodedSection } from '../x86/index.js';

const SP = 4;
const BP = 5;

/** The frame at an instruction boundary. `undefined` fields are unknown. */
export interface Frame {
  /** CFA - %rsp: the return address is at %rsp + sp - 8. */
  sp: number | undefined;
  /** CFA - %rbp, while %rbp is this function's frame pointer. */
  bp: number | undefined;
  /** Where the caller's %rbp is: 'live' (still in %rbp), a CFA-relative slot, or unknown. */
  savedBp: 'live' | number | undefined;
  /** A DRAP register (%r10/%r13) holding CFA - drapOff, as GCC sets up to realign the stack. */
  drapReg: number | undefined;
  drapOff: number | undefined;
  /**
   * Relative positions for realigned frames, where the CFA-relative ones are lost: the caller's
   * %rbp slot from %rsp and from %rbp, %rsp from %rbp, and the slot holding the DRAP value from %rbp.
   */
  slotFromSp: number | undefined;
  slotFromBp: number | undefined;
  spFromBp: number | undefined;
  drapSlotFromBp: number | undefined;
  /**
   * Set when an unwind hint gave the frame a form the interpreter does not model (pt_regs,
   * undefined, end of stack): why. Every other field is then unknown, until the next hint.
   */
  opaque: string | undefined;
  /**
   * 1 (REGS) or 2 (REGS_PARTIAL) after such an unwind hint based on %rsp: pt_regs (or its iret
   * part) at the CFA; only %rsp moves are followed then, as objtool's update_cfi_state_regs().
   * 0 for a call frame.
   */
  regs: 0 | 1 | 2;
}

/** The frame at a function's entry (or where UNWIND_HINT_FUNC says it is one): CFA at %rsp + 8. */
export function entryFrame(): Frame {
  return callFrame(8);
}

/** The frame an UNWIND_HINT of type CALL based on %rsp sets: the CFA at %rsp + sp, %rbp untouched. */
export function callFrame(sp: number): Frame {
  return {
    sp, bp: undefined, savedBp: 'live', drapReg: undefined, drapOff: undefined,
    slotFromSp: undefined, slotFromBp: undefined, spFromBp: undefined, drapSlotFromBp: undefined, opaque: undefined, regs: 0,
  };
}

/** The frame of an UNWIND_HINT_REGS / _IRET_REGS (partial) based on %rsp: pt_regs at %rsp + sp - 168 or so. */
export function regsFrame(sp: number, partial: boolean): Frame {
  return { ...callFrame(sp), savedBp: undefined, regs: partial ? 2 : 1 };
}

/** The frame after a push of 8 bytes (an intra-function call's return address). */
export function pushed(f: Frame): Frame {
  if (f.opaque !== undefined) return f;
  return {
    ...f,
    sp: f.sp !== undefined ? f.sp + 8 : undefined,
    slotFromSp: f.slotFromSp !== undefined ? f.slotFromSp + 8 : undefined,
    spFromBp: f.spFromBp !== undefined ? f.spFromBp - 8 : undefined,
  };
}

/** A frame only a hint describes, in a form not modelled here. */
export function opaqueFrame(why: string): Frame {
  return {
    sp: undefined, bp: undefined, savedBp: undefined, drapReg: undefined, drapOff: undefined,
    slotFromSp: undefined, slotFromBp: undefined, spFromBp: undefined, drapSlotFromBp: undefined, opaque: why, regs: 0,
  };
}

/** A frame's content as a string (a key: equal frames, equal keys). */
export function frameKey(f: Frame): string {
  return `${f.sp},${f.bp},${f.savedBp},${f.drapReg},${f.drapOff},${f.slotFromSp},${f.slotFromBp},${f.spFromBp},${f.drapSlotFromBp},${f.opaque},${f.regs}`;
}

export function sameFrame(a: Frame, b: Frame): boolean {
  return a === b || a.sp === b.sp && a.bp === b.bp && a.savedBp === b.savedBp && a.drapReg === b.drapReg && a.drapOff === b.drapOff &&
    a.slotFromSp === b.slotFromSp && a.slotFromBp === b.slotFromBp && a.spFromBp === b.spFromBp && a.drapSlotFromBp === b.drapSlotFromBp &&
    a.opaque === b.opaque && a.regs === b.regs;
}

/** A pt_regs frame: pushes, pops and `add $n,%rsp` move the CFA offset; nothing else counts. */
function stepRegs(ds: DecodedSection, i: number, f: Frame): Frame {
  if (f.sp === undefined) return f;
  let sp = f.sp;
  const n = ds.opCount[i]!;
  let k = ds.opStart[i]! * OP_STRIDE;
  for (let j = 0; j < n; j++, k += OP_STRIDE) {
    const w = ds.ops[k]!;
    const dt = opDestType(w);
    const st = opSrcType(w);
    if (dt === OpDestType.PUSH || dt === OpDestType.PUSHF) sp += 8;
    if (st === OpSrcType.POP || st === OpSrcType.POPF) sp -= 8;
    if (dt === OpDestType.REG && st === OpSrcType.ADD && opDestReg(w) === SP && opSrcReg(w) === SP) sp -= ds.ops[k + 2]!;
  }
  return sp === f.sp ? f : { ...f, sp };
}

/** The frame after instruction `i` (for everything but control flow). Frames are never modified: shared when unchanged. */
export function step(ds: DecodedSection, i: number, f: Frame): Frame {
  const t = ds.type[i]!;
  // A call's push is undone by the callee's return.
  // (An opaque frame stays so: what instructions do to an unmodelled frame is not modelled either.)
  if (t === InsnType.CALL || t === InsnType.CALL_DYNAMIC || ds.opCount[i] === 0 || f.opaque !== undefined) return f;
  if (f.regs) return stepRegs(ds, i, f);
  let { sp, bp, savedBp, drapReg, drapOff, slotFromSp, slotFromBp, spFromBp, drapSlotFromBp } = f;
  // (What %rsp moving does to the %rsp-relative positions, and a write to the DRAP register, are
  // written out where they happen: closures over these locals would cost a context per step.)
  const n = ds.opCount[i]!;
  let k = ds.opStart[i]! * OP_STRIDE;
  for (let j = 0; j < n; j++, k += OP_STRIDE) {
    const w = ds.ops[k]!;
    const dt = opDestType(w);
    const dr = opDestReg(w);
    const doff = ds.ops[k + 1]!;
    const st = opSrcType(w);
    const sr = opSrcReg(w);
    const soff = ds.ops[k + 2]!;
    if (dt === OpDestType.PUSH || dt === OpDestType.PUSHF) {
      if (sp !== undefined) sp += 8;
      if (slotFromSp !== undefined) slotFromSp += 8;
      if (spFromBp !== undefined) spFromBp -= 8;
      if (st === OpSrcType.REG && sr === BP && savedBp === 'live') {
        savedBp = sp !== undefined ? -sp : undefined;
        slotFromSp = 0;
      }
      if (st === OpSrcType.REG && sr === drapReg && drapSlotFromBp === undefined && spFromBp !== undefined && drapOff === 0) {
        // push %drap: from here the CFA is found through this slot. The register itself is free
        // for other uses and writes to it are not all visible here, so stop trusting it.
        drapSlotFromBp = spFromBp;
        drapReg = drapOff = undefined;
      }
      continue;
    }
    if (st === OpSrcType.POP || st === OpSrcType.POPF) {
      const slot = sp !== undefined ? -sp : undefined;
      const restoresBp = slotFromSp === 0;
      // pop %drap from the slot it was saved in: the register holds the CFA again.
      if (dt === OpDestType.REG && (dr === 10 || dr === 13) && spFromBp !== undefined && spFromBp === drapSlotFromBp) {
        drapReg = dr;
        drapOff = 0;
      } else if (dt === OpDestType.REG && dr === drapReg) drapReg = drapOff = undefined;
      if (sp !== undefined) sp -= 8;
      if (slotFromSp !== undefined) slotFromSp -= 8;
      if (spFromBp !== undefined) spFromBp += 8;
      if (dt === OpDestType.REG) {
        // pop %drap restores the value pushed earlier: still the DRAP register.
        if (dr === SP) sp = undefined;
        else if (dr === BP) {
          bp = undefined;
          savedBp = (slot !== undefined && savedBp === slot) || restoresBp ? 'live' : savedBp === 'live' ? undefined : savedBp;
          slotFromBp = spFromBp = drapSlotFromBp = undefined;
          if (savedBp === 'live') slotFromSp = undefined;
        }
      }
      continue;
    }
    if (dt === OpDestType.REG) {
      if (st === OpSrcType.REG) {
        if (dr === drapReg) drapReg = drapOff = undefined;
        if (sr === SP && dr === BP) {
          bp = sp;
          slotFromBp = slotFromSp;
          spFromBp = 0;
        } else if (sr === BP && dr === SP) {
          sp = bp;
          slotFromSp = slotFromBp;
          spFromBp = bp !== undefined || slotFromBp !== undefined ? 0 : undefined;
        } else if (dr === SP) {
          sp = undefined;
          slotFromSp = spFromBp = undefined;
        }
        else if (dr === BP) {
          bp = undefined;
          if (savedBp === 'live') savedBp = undefined;
        }
      } else if (st === OpSrcType.ADD) {
        if (dr === drapReg) drapReg = drapOff = undefined;
        if ((dr === 10 || dr === 13) && sr === SP && sp !== undefined) {
          // lea disp(%rsp), %r10: the DRAP register.
          drapReg = dr;
          drapOff = sp - soff;
        } else if (dr === SP && sr === drapReg && drapOff !== undefined) {
          sp = drapOff - soff;
          slotFromSp = spFromBp = undefined;
        } else if (dr === SP && sr === SP) {
          sp = sp !== undefined ? sp - soff : undefined;
          if (slotFromSp !== undefined) slotFromSp -= soff;
          if (spFromBp !== undefined) spFromBp += soff;
        }
        else if (dr === SP && sr === BP) {
          // lea disp(%rbp), %rsp
          sp = bp !== undefined ? bp - soff : undefined;
          slotFromSp = slotFromBp !== undefined ? slotFromBp - soff : undefined;
          spFromBp = slotFromBp !== undefined || bp !== undefined ? soff : undefined;
        }
        else if (dr === BP && sr === SP) bp = sp !== undefined ? sp - soff : undefined;
        else if (dr === SP) {
          sp = undefined;
          slotFromSp = spFromBp = undefined;
        } else if (dr === BP) {
          bp = undefined;
          if (savedBp === 'live') savedBp = undefined;
        }
      } else if (st === OpSrcType.AND) {
        if (dr === SP) {
          sp = undefined;
          slotFromSp = spFromBp = undefined;
        }
      } else if (st === OpSrcType.REG_INDIRECT) {
        if (dr === drapReg) drapReg = drapOff = undefined;
        if (dr === SP) {
          sp = undefined;
          slotFromSp = spFromBp = undefined;
        } else if (dr === BP) {
          const slot = sr === SP && sp !== undefined ? -sp + soff : sr === BP && bp !== undefined ? -bp + soff : undefined;
          if (slot !== undefined && slot === savedBp) {
            savedBp = 'live';
            bp = undefined;
          } else {
            bp = undefined;
            if (savedBp === 'live') savedBp = undefined;
          }
        }
      } else if (dr === SP) {
        sp = undefined;
        slotFromSp = spFromBp = undefined;
      }
      continue;
    }
    if (dt === OpDestType.REG_INDIRECT && st === OpSrcType.REG && sr === BP && savedBp === 'live') {
      // mov %rbp, disp(%rsp|%rbp): the caller's %rbp saved in the frame.
      if (dr === SP && sp !== undefined) savedBp = -sp + doff;
      else if (dr === BP && bp !== undefined) savedBp = -bp + doff;
    }
  }
  if (sp === f.sp && bp === f.bp && savedBp === f.savedBp && drapReg === f.drapReg && drapOff === f.drapOff && slotFromSp === f.slotFromSp &&
    slotFromBp === f.slotFromBp && spFromBp === f.spFromBp && drapSlotFromBp === f.drapSlotFromBp) return f;
  return callFrameOf(sp, bp, savedBp, drapReg, drapOff, slotFromSp, slotFromBp, spFromBp, drapSlotFromBp);
}

/**
 * The call frames made so far, each once, by a hash of their fields (a frame or, on a clash, a
 * list). vmlinux.o's walks change the frame ~450,000 times among ~2,700 different frames: kept,
 * each was copied by the young generation's collections, and equal frames met on two paths
 * were told equal field by field, not by identity. (The one made to look up dies young.)
 */
const callFrames = new Map<number, Frame | Frame[]>();

/** A field's part of the hash: its number, or a value no offset takes for unknown and 'live'. */
function hashPart(h: number, x: number | 'live' | undefined): number {
  return Math.imul(h ^ (x === undefined ? 0x7ead0001 : x === 'live' ? 0x7ead0002 : x | 0), 0x9e3779b1);
}

function callFrameOf(sp: number | undefined, bp: number | undefined, savedBp: Frame['savedBp'], drapReg: number | undefined, drapOff: number | undefined,
  slotFromSp: number | undefined, slotFromBp: number | undefined, spFromBp: number | undefined, drapSlotFromBp: number | undefined): Frame {
  let h = hashPart(hashPart(hashPart(hashPart(hashPart(0, sp), bp), savedBp), drapReg), drapOff);
  h = hashPart(hashPart(hashPart(hashPart(h, slotFromSp), slotFromBp), spFromBp), drapSlotFromBp);
  h >>= 1; // (a small integer: a key V8 hashes as it is)
  const f: Frame = { sp, bp, savedBp, drapReg, drapOff, slotFromSp, slotFromBp, spFromBp, drapSlotFromBp, opaque: undefined, regs: 0 };
  const got = callFrames.get(h);
  if (got === undefined) callFrames.set(h, f);
  else if (!Array.isArray(got)) {
    if (sameFrame(got, f)) return got;
    callFrames.set(h, [got, f]);
  } else {
    for (const g of got) if (sameFrame(g, f)) return g;
    got.push(f);
  }
  return f;
}
