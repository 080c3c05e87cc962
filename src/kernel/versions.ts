// SPDX-License-Identifier: GPL-2.0-only
// Everything that differs between the kernel versions orctool supports, as data, in one place.
// The analysis and the writers take a KernelLayout and never test a version themselves.
//
// Sources: the kernel trees of Debian's linux-source-6.1 (6.1.192) and linux-source-6.12
// (6.12.117) — arch/x86/include/asm/{alternative.h,orc_types.h}, include/linux/objtool*.h,
// tools/objtool — and the tip commits named beside each field.

/** How an annotation section's entries point at an instruction. */
export type AnnotationEncoding =
  /** `.long X - .`: R_X86_64_PC32 to a section symbol (or label) plus addend. */
  | 'pc32'
  /** `.long X`: R_X86_64_32. */
  | 'abs32'
  /** `_ASM_PTR X` / a C pointer: R_X86_64_64. */
  | 'abs64';

/** ORC entry bit layout inside the 16-bit flags word that follows sp_offset and bp_offset. */
export interface OrcEntryLayout {
  /** Bits 8.. hold `type`, this many bits wide. */
  typeBits: 2 | 3;
  /** Bit position of `signal`, when the entry has one. */
  signalBit?: number;
  /** Bit position of `end`, when the entry has one (up to 6.3). */
  endBit?: number;
  /**
   * How the CFI state maps to an entry:
   *  'v1': type = the CFI hint type (CALL 0, REGS 1, REGS_PARTIAL 2); an undefined CFA gives
   *        sp_reg UNDEFINED and nothing else; `end` from the state (up to 6.3);
   *  'v3': types UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4, plus signal (6.4+).
   */
  mapping: 'v1' | 'v3';
  /** `--dump=orc` line shape of this era's objtool. */
  dump: '6.1' | '6.3' | '6.4';
}

/** struct alt_instr in .altinstructions. */
export interface AltInstrLayout {
  entrySize: 12 | 14;
  origOffset: 0;
  newOffset: 4;
  featureOffset: 8;
  /** Bytes of the feature word: 2 (cpuid with the NOT flag in bit 15) or 4 (cpuid:16, flags:16). */
  featureSize: 2 | 4;
  origLenOffset: number;
  newLenOffset: number;
  /** Bit of the feature word that inverts the test (ALT_NOT). */
  notFlag: number;
  /** Bit of the feature word that marks a direct-call site (ALT_FLAG_DIRECT_CALL, 6.8+). */
  directCallFlag?: number;
  /**
   * ALTERNATIVE_2/3 are nested ALTERNATIVE()s (6.11+): entries of one site carry different
   * original lengths and the site spans the longest.
   */
  nestedSites: boolean;
}

/** struct unwind_hint in .discard.unwind_hints (12 bytes in every era). */
export interface UnwindHintLayout {
  entrySize: 12;
  /** Offset of `signal`, when the struct has one. */
  signalOffset?: number;
  /** Offset of `end`, when the struct has one. */
  endOffset?: number;
  /** Numbering of hint types in this era. */
  types: {
    CALL: number; REGS: number; REGS_PARTIAL: number; FUNC: number; SAVE: number; RESTORE: number;
    UNDEFINED?: number; END_OF_STACK?: number; ENTRY?: number;
  };
}

export interface KernelLayout {
  /** Short name, also the value of `--kernel=`. */
  name: '6.1' | '6.3' | '6.4' | '6.12';
  /** The versions this layout describes. */
  covers: string;
  alt: AltInstrLayout;
  orc: OrcEntryLayout;
  hint: UnwindHintLayout;
  /** SHA-1 in .orc_header for this ORC format (absent before 6.3.10/6.4). */
  orcHeaderHash?: string;
  /** Relocation encoding of each annotation section's entries. */
  annotations: Record<string, AnnotationEncoding>;
  /** Whether `.discard.unreachable` annotations exist. */
  hasUnreachableAnnotations: boolean;
  /** `.parainstructions` exists (up to 6.7): recognised, stack-neutral. */
  hasParainstructions: boolean;
  /** C jump tables live in this section. */
  cJumpTableSection: string;
  /** Functions known never to return, besides the ones found by analysis. */
  noreturns: readonly string[];
  /** Version-dependent warning texts. */
  messages: {
    /** "stack layout conflict in alternatives" with or without the conflicting location. */
    altConflictWithLocation: boolean;
    /** The build name in retpoline/rethunk warnings. */
    retpolineBuild: string;
    rethunkBuild: string;
  };
  /** WARN_INSN: after one warning in a symbol, the rest of that symbol's warnings are dropped (6.4+). */
  warnOncePerSymbol: boolean;
}

// noreturns: 6.1 tools/objtool/check.c global_noreturns[]; 6.12 tools/objtool/noreturns.h.
const NORETURNS_6_1 = [
  '__invalid_creds', '__module_put_and_kthread_exit', '__reiserfs_panic', '__stack_chk_fail',
  '__ubsan_handle_builtin_unreachable', 'cpu_bringup_and_idle', 'cpu_startup_entry', 'do_exit',
  'do_group_exit', 'do_task_dead', 'ex_handler_msr_mce', 'fortify_panic', 'kthread_complete_and_exit',
  'kthread_exit', 'kunit_try_catch_throw', 'lbug_with_loc', 'machine_real_restart', 'make_task_dead',
  'panic', 'rewind_stack_and_make_dead', 'sev_es_terminate', 'snp_abort', 'stop_this_cpu',
  'usercopy_abort', 'xen_start_kernel',
] as const;

const NORETURNS_6_12 = [
  '__fortify_panic', '__ia32_sys_exit', '__ia32_sys_exit_group', '__kunit_abort',
  '__module_put_and_kthread_exit', '__reiserfs_panic', '__stack_chk_fail', '__tdx_hypercall_failed',
  '__ubsan_handle_builtin_unreachable', '__x64_sys_exit', '__x64_sys_exit_group', 'arch_cpu_idle_dead',
  'bch2_trans_in_restart_error', 'bch2_trans_restart_error', 'bch2_trans_unlocked_error',
  'cpu_bringup_and_idle', 'cpu_startup_entry', 'do_exit', 'do_group_exit', 'do_task_dead',
  'ex_handler_msr_mce', 'hlt_play_dead', 'hv_ghcb_terminate', 'kthread_complete_and_exit', 'kthread_exit',
  'kunit_try_catch_throw', 'machine_real_restart', 'make_task_dead', 'mpt_halt_firmware',
  'nmi_panic_self_stop', 'panic', 'panic_smp_self_stop', 'rest_init', 'rewind_stack_and_make_dead',
  'rust_begin_unwind', 'rust_helper_BUG', 'sev_es_terminate', 'snp_abort', 'start_kernel',
  'stop_this_cpu', 'usercopy_abort', 'x86_64_start_kernel', 'x86_64_start_reservations',
  'xen_cpu_bringup_again', 'xen_start_kernel',
] as const;

const ALT_12: AltInstrLayout = {
  entrySize: 12, origOffset: 0, newOffset: 4, featureOffset: 8, featureSize: 2, origLenOffset: 10, newLenOffset: 11,
  notFlag: 1 << 15, nestedSites: false,
};

// tip 5d1dd961e743 "x86/alternatives: Add alt_instr.flags" (6.3): u32 ft_flags, flags in the high half.
const ALT_14: AltInstrLayout = {
  entrySize: 14, origOffset: 0, newOffset: 4, featureOffset: 8, featureSize: 4, origLenOffset: 12, newLenOffset: 13,
  notFlag: 1 << 16, nestedSites: false,
};

const HINTS_OLD = { CALL: 0, REGS: 1, REGS_PARTIAL: 2, FUNC: 3, ENTRY: 4, SAVE: 5, RESTORE: 6 };
// tip fb799447ae29 "x86,objtool: Split UNWIND_HINT_EMPTY in two" (6.4).
const HINTS_NEW = { UNDEFINED: 0, END_OF_STACK: 1, CALL: 2, REGS: 3, REGS_PARTIAL: 4, FUNC: 5, SAVE: 6, RESTORE: 7 };

const ANNOTATIONS_6_1: Record<string, AnnotationEncoding> = {
  '.discard.unwind_hints': 'pc32', '.discard.reachable': 'pc32', '.discard.unreachable': 'pc32',
  '.discard.noendbr': 'abs64', '.discard.retpoline_safe': 'abs64', '.discard.ignore_alts': 'pc32',
  '.discard.intra_function_calls': 'abs32', '.discard.instr_begin': 'pc32', '.discard.instr_end': 'pc32',
  '.discard.func_stack_frame_non_standard': 'abs64',
};

// tip b8ec60e1186c "x86/speculation, objtool: Use absolute relocations for annotations" (6.7).
const ANNOTATIONS_6_12: Record<string, AnnotationEncoding> = {
  '.discard.unwind_hints': 'pc32', '.discard.reachable': 'abs32', '.discard.noendbr': 'abs32',
  '.discard.retpoline_safe': 'abs32', '.discard.ignore_alts': 'abs32', '.discard.intra_function_calls': 'abs32',
  '.discard.instr_begin': 'pc32', '.discard.instr_end': 'pc32', '.discard.validate_unret': 'pc32',
  '.discard.func_stack_frame_non_standard': 'abs64',
};

export const LAYOUTS: readonly KernelLayout[] = [
  {
    name: '6.1', covers: 'Linux 5.13 to 6.2',
    alt: ALT_12,
    orc: { typeBits: 2, endBit: 10, mapping: 'v1', dump: '6.1' },
    hint: { entrySize: 12, endOffset: 9, types: HINTS_OLD },
    annotations: ANNOTATIONS_6_1, hasUnreachableAnnotations: true, hasParainstructions: true,
    cJumpTableSection: '.rodata..c_jump_table', noreturns: NORETURNS_6_1,
    messages: { altConflictWithLocation: false, retpolineBuild: 'RETPOLINE build', rethunkBuild: 'RETHUNK build' },
    warnOncePerSymbol: false,
  },
  {
    // tip ffb1b4a41016 "x86/unwind/orc: Add 'signal' field to ORC metadata".
    name: '6.3', covers: 'Linux 6.3',
    alt: ALT_14,
    orc: { typeBits: 2, signalBit: 10, endBit: 11, mapping: 'v1', dump: '6.3' },
    hint: { entrySize: 12, signalOffset: 9, endOffset: 10, types: HINTS_OLD },
    orcHeaderHash: 'db84aed4103b31dd51e017f8f79783ca985c2c51',
    annotations: ANNOTATIONS_6_1, hasUnreachableAnnotations: true, hasParainstructions: true,
    cJumpTableSection: '.rodata..c_jump_table', noreturns: NORETURNS_6_1,
    messages: { altConflictWithLocation: true, retpolineBuild: 'RETPOLINE build', rethunkBuild: 'RETHUNK build' },
    warnOncePerSymbol: false,
  },
  {
    // tip f902cfdd46ae "x86,objtool: Introduce ORC_TYPE_*"; 1c0c1faf5692 relative annotations.
    name: '6.4', covers: 'Linux 6.4 to 6.6',
    alt: ALT_14,
    orc: { typeBits: 3, signalBit: 11, mapping: 'v3', dump: '6.4' },
    hint: { entrySize: 12, signalOffset: 9, types: HINTS_NEW },
    orcHeaderHash: 'fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24',
    annotations: { ...ANNOTATIONS_6_1, '.discard.noendbr': 'pc32', '.discard.retpoline_safe': 'pc32', '.discard.validate_unret': 'pc32' },
    hasUnreachableAnnotations: true, hasParainstructions: true,
    cJumpTableSection: '.rodata..c_jump_table', noreturns: NORETURNS_6_12,
    messages: { altConflictWithLocation: true, retpolineBuild: 'RETPOLINE build', rethunkBuild: 'RETHUNK build' },
    warnOncePerSymbol: true,
  },
  {
    name: '6.12', covers: 'Linux 6.11 to 6.12 (stable)',
    alt: { ...ALT_14, directCallFlag: 1 << 17, nestedSites: true },
    orc: { typeBits: 3, signalBit: 11, mapping: 'v3', dump: '6.4' },
    hint: { entrySize: 12, signalOffset: 9, types: HINTS_NEW },
    orcHeaderHash: 'fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24',
    annotations: ANNOTATIONS_6_12, hasUnreachableAnnotations: false, hasParainstructions: false,
    cJumpTableSection: '.data.rel.ro.c_jump_table', noreturns: NORETURNS_6_12,
    messages: { altConflictWithLocation: true, retpolineBuild: 'MITIGATION_RETPOLINE build', rethunkBuild: 'MITIGATION_RETHUNK build' },
    warnOncePerSymbol: true,
  },
];

export function layoutByName(name: string): KernelLayout | undefined {
  return LAYOUTS.find((l) => l.name === name);
}

export const LAYOUT_NAMES = LAYOUTS.map((l) => l.name);
