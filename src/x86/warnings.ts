// SPDX-License-Identifier: GPL-2.0-only
// The warnings objtool's x86 decoder prints while decoding, in its words. The decoder only
// flags the instructions; whoever reports warnings turns the flags into these.
import { InsnFlag, InsnType, type DecodedSection } from './insn.js';

export interface DecodeWarning {
  offset: number;
  message: string;
}

export function decodeWarnings(ds: DecodedSection): DecodeWarning[] {
  const out: DecodeWarning[] = [];
  const mask = InsnFlag.NOTRACK | InsnFlag.BAD_LEA | InsnFlag.ENQCMD;
  const sec = ds.section;
  for (let i = 0; i < ds.count; i++) {
    const f = ds.flags[i];
    if ((f & mask) === 0) continue;
    const off = ds.offset[i];
    const hex = off.toString(16);
    if (f & InsnFlag.BAD_LEA) out.push({ offset: off, message: `invalid LEA encoding at ${sec}:0x${hex}` });
    // objtool prints this one without "0x".
    if (f & InsnFlag.ENQCMD) out.push({ offset: off, message: `ENQCMD instruction at ${sec}:${hex}` });
    const t = ds.type[i];
    if ((f & InsnFlag.NOTRACK) && (t === InsnType.CALL_DYNAMIC || t === InsnType.JUMP_DYNAMIC)) {
      out.push({ offset: off, message: `notrack prefix found at ${sec}:0x${hex}` });
    }
  }
  return out;
}
