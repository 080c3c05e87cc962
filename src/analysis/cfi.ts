// SPDX-License-Identifier: GPL-2.0-only
// The CFI state objtool tracks at every instruction: where the CFA is, where each callee-saved
// register was saved, the stack size, the DRAP state and the unwind type. Register numbers are
// objtool's (instruction-encoding order, see src/x86 CfiReg).

export const CFI_NUM_REGS = 17;
export const CFI_RA = 16;
/** Special bases beside register numbers. */
export const CFI_UNDEFINED = -1;
export const CFI_CFA = -2;
export const CFI_SP_INDIRECT = -3;
export const CFI_BP_INDIRECT = -4;

/**
 * The unwind type of a state, independent of any kernel version's numbering: each layout maps
 * its hint numbers to these, and the ORC writer maps these to its entry types.
 */
export const enum UnwindType {
  CALL = 0,
  REGS = 1,
  REGS_PARTIAL = 2,
  /** 6.4+: no unwind information (UNWIND_HINT_UNDEFINED). */
  UNDEFINED = 3,
  /** 6.4+: the last frame (UNWIND_HINT_END_OF_STACK). */
  END_OF_STACK = 4,
}

export interface CfiReg {
  base: number;
  offset: number;
}

export interface CfiState {
  cfa: CfiReg;
  regs: CfiReg[];
  vals: CfiReg[];
  stackSize: number;
  drapReg: number;
  drapOffset: number;
  type: UnwindType;
  bpScratch: boolean;
  drap: boolean;
  signal: boolean;
  /** Up to 6.3: the hint marked the end of the stack (UNWIND_HINT_EMPTY). */
  end: boolean;
  forceUndefined: boolean;
  /**
   * Copy-on-write: bit 0 set when `regs` is shared with another state, bit 1 for `vals`; a
   * write through setReg()/setVal() copies the array first. Not part of the state's value.
   */
  shared?: number;
  /** The interner's number for an interned state (-1 or absent: not interned). Not part of the state's value. */
  id?: number;
}
