// SPDX-License-Identifier: GPL-2.0-only
// .discard.unwind_hints: the UNWIND_HINT_* annotations of asm and inline asm, read as objtool's
// read_unwind_hints() reads them. struct unwind_hint is 12 bytes in every version
// ({u32 ip; s16 sp_offset; u8 sp_reg; u8 type; u8 signal/end...}); the hint type numbering and
// the trailing bytes come from the layout.
import { UnwindType } from '../analysis/cfi.js';
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout, UnwindHintLayout } from './versions.js';
import { KernelMetadataError, relocAt, relocRef, relocsOf } from './common.js';
import { resolveAnnotationTarget } from './annotations.js';

const HINTS_SECTION = '.discard.unwind_hints';

export type HintKind =
  | 'CALL' | 'REGS' | 'REGS_PARTIAL' | 'UNDEFINED' | 'END_OF_STACK' | 'FUNC' | 'SAVE' | 'RESTORE' | 'ENTRY';

export interface UnwindHint {
  /** Entry number (objtool's unwind_hints[i]). */
  index: number;
  /** The hinted instruction: section index and offset. */
  sec: number;
  off: number;
  /** ORC_REG_* number as stored (orc_types.h: SP 5, BP 4, SP_INDIRECT 9, ...); decoding is the analysis' job. */
  spReg: number;
  spOffset: number;
  /** The hint type as stored, and its name in this layout's numbering ('UNKNOWN' if none). */
  type: number;
  kind: HintKind | 'UNKNOWN';
  /**
   * The version-neutral unwind type this hint sets (CALL, REGS, REGS_PARTIAL, UNDEFINED,
   * END_OF_STACK; 6.1's ENTRY is turned into CALL by objtool); undefined for FUNC/SAVE/RESTORE
   * and unknown types (objtool stores an unknown type number in cfi.type as it is).
   */
  unwindType?: UnwindType;
  /** `signal` byte (6.3+), 0 where the struct has none. */
  signal: number;
  /** `end` byte (up to 6.3), 0 where the struct has none. */
  end: number;
}

function kindOf(h: UnwindHintLayout, type: number): HintKind | 'UNKNOWN' {
  for (const [name, n] of Object.entries(h.types)) if (n === type) return name as HintKind;
  return 'UNKNOWN';
}

const UNWIND_TYPE: Partial<Record<HintKind, UnwindType>> = {
  CALL: UnwindType.CALL, REGS: UnwindType.REGS, REGS_PARTIAL: UnwindType.REGS_PARTIAL,
  UNDEFINED: UnwindType.UNDEFINED, END_OF_STACK: UnwindType.END_OF_STACK, ENTRY: UnwindType.CALL,
};

/**
 * read_unwind_hints(), the reading half, one entry at a time: the section's own checks happen
 * here, an entry's when it is read, so a caller that acts on each entry before reading the next
 * reports problems in objtool's order. Undefined when the object has no hints.
 */
export function openUnwindHints(elf: ElfFile, layout: KernelLayout): { count: number; entry(i: number): UnwindHint } | undefined {
  const sec = elf.sectionByName(HINTS_SECTION);
  if (!sec) return undefined;
  const rel = relocsOf(elf, sec);
  const fail = (msg: string): never => { throw new KernelMetadataError(elf.path, sec.name, undefined, msg); };
  if (!rel) fail(`missing .rela${HINTS_SECTION} section`);
  const h = layout.hint;
  if (sec.size % h.entrySize !== 0) fail('struct unwind_hint size mismatch');
  const rule = layout.annotationTargets[HINTS_SECTION] ?? 'addend';
  const bytes = elf.contents(sec);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entry = (i: number): UnwindHint => {
    const at = i * h.entrySize;
    const r = relocAt(rel, at);
    if (r < 0) throw new KernelMetadataError(elf.path, sec.name, at, `can't find reloc for unwind_hints[${i}]`);
    const t = resolveAnnotationTarget(elf, rule, relocRef(rel!, r), rel!.section.name);
    const type = view.getUint8(at + 7);
    const kind = kindOf(h, type);
    const hint: UnwindHint = {
      index: i, sec: t.sec, off: t.off,
      spOffset: view.getInt16(at + 4, true), spReg: view.getUint8(at + 6), type, kind,
      signal: h.signalOffset !== undefined ? view.getUint8(at + h.signalOffset) : 0,
      end: h.endOffset !== undefined ? view.getUint8(at + h.endOffset) : 0,
    };
    const ut = kind === 'UNKNOWN' ? undefined : UNWIND_TYPE[kind];
    if (ut !== undefined) hint.unwindType = ut;
    return hint;
  };
  return { count: sec.size / h.entrySize, entry };
}

/** Every hint and the instruction it names. */
export function readUnwindHints(elf: ElfFile, layout: KernelLayout): UnwindHint[] {
  const hints = openUnwindHints(elf, layout);
  return hints ? Array.from({ length: hints.count }, (_, i) => hints.entry(i)) : [];
}

/** objtool's message when no instruction starts where a hint points. */
export function hintMissingInsnMessage(hint: UnwindHint): string {
  return `can't find insn for unwind_hints[${hint.index}]`;
}
