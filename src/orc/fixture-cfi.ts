// SPDX-License-Identifier: GPL-2.0-only
// Test-only helpers for the ORC tests: hand-made CFI states.
import { CFI_NUM_REGS, CFI_UNDEFINED, type CfiState, UnwindType } from '../analysis/cfi.js';

/** A CFI state with the CFA at `base`+`offset` and BP saved at `bpBase`+`bpOffset`. */
export function makeCfi(base: number, offset: number, opts: Partial<{
  bpBase: number; bpOffset: number; type: UnwindType; signal: boolean; end: boolean;
}> = {}): CfiState {
  const undef = (): { base: number; offset: number } => ({ base: CFI_UNDEFINED, offset: 0 });
  const regs = Array.from({ length: CFI_NUM_REGS }, undef);
  regs[5] = { base: opts.bpBase ?? CFI_UNDEFINED, offset: opts.bpOffset ?? 0 };
  return {
    cfa: { base, offset }, regs, vals: Array.from({ length: CFI_NUM_REGS }, undef),
    stackSize: 0, drapReg: CFI_UNDEFINED, drapOffset: 0, type: opts.type ?? UnwindType.CALL, bpScratch: false, drap: false,
    signal: opts.signal ?? false, end: opts.end ?? false, forceUndefined: false,
  };
}
