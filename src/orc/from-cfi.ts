// SPDX-License-Identifier: GPL-2.0-only
// The ORC entry for a CFI state, as objtool computes it:
//  'v1' (up to 6.3): tools/objtool/orc_gen.c init_orc_entry() of 6.1, plus the `signal` copy
//                    6.3 added (tip ffb1b4a41016: set with `end`, before the undefined-CFA
//                    return; 6.1 states never carry signal and the 6.1 encoding has no bit for it);
//  'v3' (6.4+):      tools/objtool/arch/x86/orc.c init_orc_entry() of 6.12, and of 7.2+ where
//                    RAX may be the CFA base (Clang's DRAP; an era whose table numbers AX).
// A state objtool cannot express is an OrcMappingError carrying objtool's message; the caller
// reports it as a warning at the instruction (for an alternative group, its first original
// instruction) and, as objtool does, gives up on the ORC tables of the whole file.
import { CFI_BP_INDIRECT, CFI_CFA, CFI_SP_INDIRECT, CFI_UNDEFINED, type CfiState, UnwindType } from '../analysis/cfi.js';
import type { OrcEntryLayout } from '../kernel/versions.js';
import {
  ORC_REG_AX, ORC_REG_BP, ORC_REG_BP_INDIRECT, ORC_REG_DI, ORC_REG_DX, ORC_REG_PREV_SP, ORC_REG_R10, ORC_REG_R13, ORC_REG_SP,
  ORC_REG_SP_INDIRECT, ORC_REG_UNDEFINED, ORC_TYPE_CALL, ORC_TYPE_END_OF_STACK, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL,
  ORC_TYPE_UNDEFINED, ORC_V1_TYPE_CALL, ORC_V1_TYPE_REGS, ORC_V1_TYPE_REGS_PARTIAL, type OrcEntry, orcRegExists,
  zeroOrcEntry,
} from './entry.js';

// objtool's register numbers (instruction-encoding order) for the bases ORC can express.
const CFI_AX = 0;
const CFI_DX = 2;
const CFI_SP = 4;
const CFI_BP = 5;
const CFI_DI = 7;
const CFI_R10 = 10;
const CFI_R13 = 13;

export type OrcMapping = 'v1' | 'v3';

/** A CFI state without an ORC encoding; `message` is objtool's warning text. */
export class OrcMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrcMappingError';
  }
}

function clear(e: OrcEntry): OrcEntry {
  e.spOffset = 0;
  e.bpOffset = 0;
  e.spReg = 0;
  e.bpReg = 0;
  e.type = 0;
  e.signal = false;
  e.end = false;
  return e;
}

/** Truncate to s16, as the assignment to the entry's sp_offset/bp_offset does. */
function s16(v: number): number {
  return (v << 16) >> 16;
}

function spRegFor(base: number, layout: OrcEntryLayout | undefined): number {
  switch (base) {
    case CFI_AX: if (layout && orcRegExists(ORC_REG_AX, layout)) return ORC_REG_AX; break;
    case CFI_SP: return ORC_REG_SP;
    case CFI_SP_INDIRECT: return ORC_REG_SP_INDIRECT;
    case CFI_BP: return ORC_REG_BP;
    case CFI_BP_INDIRECT: return ORC_REG_BP_INDIRECT;
    case CFI_R10: return ORC_REG_R10;
    case CFI_R13: return ORC_REG_R13;
    case CFI_DI: return ORC_REG_DI;
    case CFI_DX: return ORC_REG_DX;
  }
  throw new OrcMappingError(`unknown CFA base reg ${base}`);
}

function bpRegFor(base: number): number {
  switch (base) {
    case CFI_UNDEFINED: return ORC_REG_UNDEFINED;
    case CFI_CFA: return ORC_REG_PREV_SP;
    case CFI_BP: return ORC_REG_BP;
    default: throw new OrcMappingError(`unknown BP base reg ${base}`);
  }
}

/** Registers and offsets, common to both mappings. */
function mapRegs(cfi: CfiState, e: OrcEntry, layout: OrcEntryLayout | undefined): void {
  e.spReg = spRegFor(cfi.cfa.base, layout);
  const bp = cfi.regs[CFI_BP]!;
  e.bpReg = bpRegFor(bp.base);
  e.spOffset = s16(cfi.cfa.offset);
  e.bpOffset = s16(bp.offset);
}

function fromCfiV1(cfi: CfiState | null, e: OrcEntry, layout: OrcEntryLayout | undefined): OrcEntry {
  clear(e);
  if (cfi === null) return e; // sp_reg UNDEFINED, type CALL, end 0: all zero
  e.end = cfi.end;
  e.signal = cfi.signal;
  if (cfi.cfa.base === CFI_UNDEFINED) return e;
  mapRegs(cfi, e, layout);
  switch (cfi.type) {
    case UnwindType.CALL: e.type = ORC_V1_TYPE_CALL; break;
    case UnwindType.REGS: e.type = ORC_V1_TYPE_REGS; break;
    case UnwindType.REGS_PARTIAL: e.type = ORC_V1_TYPE_REGS_PARTIAL; break;
    // 6.1 copies the hint type into the 2-bit field as it is: an unknown number is truncated.
    default: e.type = (cfi.type as number) & 3; break;
  }
  return e;
}

function fromCfiV3(cfi: CfiState | null, e: OrcEntry, layout: OrcEntryLayout | undefined): OrcEntry {
  clear(e);
  if (cfi === null) return e; // ORC_TYPE_UNDEFINED
  switch (cfi.type) {
    case UnwindType.UNDEFINED: e.type = ORC_TYPE_UNDEFINED; return e;
    case UnwindType.END_OF_STACK: e.type = ORC_TYPE_END_OF_STACK; return e;
    case UnwindType.CALL: e.type = ORC_TYPE_CALL; break;
    case UnwindType.REGS: e.type = ORC_TYPE_REGS; break;
    case UnwindType.REGS_PARTIAL: e.type = ORC_TYPE_REGS_PARTIAL; break;
    default: throw new OrcMappingError(`unknown unwind hint type ${cfi.type as number}`);
  }
  e.signal = cfi.signal;
  mapRegs(cfi, e, layout);
  return e;
}

/**
 * The ORC entry for `cfi` (null: the instruction has no CFI) in an era's layout (or just its
 * mapping, for the registers every era has). Writes into `into` when given (no allocation per
 * instruction), else into a new entry. Throws OrcMappingError.
 */
export function orcEntryFromCfi(cfi: CfiState | null, era: OrcMapping | OrcEntryLayout, into?: OrcEntry): OrcEntry {
  const e = into ?? zeroOrcEntry();
  const layout = typeof era === 'string' ? undefined : era;
  return (layout?.mapping ?? era) === 'v1' ? fromCfiV1(cfi, e, layout) : fromCfiV3(cfi, e, layout);
}

/** Like orcEntryFromCfi, but the objtool message as data instead of an exception. */
export function tryOrcEntryFromCfi(cfi: CfiState | null, era: OrcMapping | OrcEntryLayout): { entry: OrcEntry } | { error: string } {
  try {
    return { entry: orcEntryFromCfi(cfi, era) };
  } catch (e) {
    if (e instanceof OrcMappingError) return { error: e.message };
    throw e;
  }
}
