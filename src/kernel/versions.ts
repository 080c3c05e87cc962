// SPDX-License-Identifier: GPL-2.0-only
// Everything that differs between the kernel versions orctool supports, as data, in one place.
// The analysis and the writers take a KernelLayout and never test a version themselves.
//
// Sources: the kernel trees of Debian's linux-source-6.1 (6.1.192) and linux-source-6.12
// (6.12.117) — arch/x86/include/asm/{alternative.h,orc_types.h}, include/linux/objtool*.h,
// tools/objtool — and the tip commits named beside each field.
import { UACCESS_SAFE_6_1, UACCESS_SAFE_6_12 } from './uaccess-safe.js';
import { CPUFEATURES_6_1, CPUFEATURES_6_12, CPUFEATURES_7_3 } from './cpufeatures.js';
import { DECODER_6_1, DECODER_6_12, DECODER_7_3, type DecoderVariant } from '../x86/variant.js';
import type { OrcRegName } from '../orc/entry.js';

/** An era's ORC_REG_* numbers (orc_types.h), by register; a register the era lacks is absent. */
export type OrcRegisters = Readonly<Partial<Record<OrcRegName, number>>>;

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
  /** The era's register numbers, for the entry's sp_reg/bp_reg nibbles and for unwind hints. */
  regs: OrcRegisters;
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

/**
 * struct unwind_hint in .discard.unwind_hints (12 bytes in every era): u32 ip at 0, s16 sp_offset
 * at 4, u8 sp_reg at 6, u8 type at 7, then signal/end bytes from 8.
 */
export interface UnwindHintLayout {
  entrySize: 12;
  /** Offset of `signal`, when the struct has one. */
  signalOffset?: number;
  /** Offset of `end`, when the struct has one. */
  endOffset?: number;
  /**
   * The registers arch_decode_hint_reg() accepts as a hint's CFA base (its sp_reg, in the ORC
   * numbering of the era); any other is fatal "unsupported unwind_hint sp base reg %d".
   */
  regs: readonly OrcRegName[];
  /** Numbering of hint types in this era. */
  types: {
    CALL: number; REGS: number; REGS_PARTIAL: number; FUNC: number; SAVE: number; RESTORE: number;
    UNDEFINED?: number; END_OF_STACK?: number; ENTRY?: number;
  };
}

/**
 * How objtool turns one annotation relocation into the instruction it names (check.c readers).
 */
export type AnnotationTargetRule =
  /** STT_SECTION symbol + addend; any other symbol is fatal: "unexpected relocation symbol type in %s". */
  | 'section'
  /**
   * STT_SECTION + addend, or a `.L` local label (STT_NOTYPE named ".L*") at its own offset, the
   * addend ignored; anything else fatal. tip "objtool: Check local label in read_unwind_hints()" /
   * "add_dead_ends()" (Tiezhu Yang, Nov 2023 -> 6.8).
   */
  | 'section-or-label'
  /** The symbol's section at the addend, whatever the symbol (read_unwind_hints() up to 6.7). */
  | 'addend'
  /** Symbol offset + addend, any symbol (read_noendbr_hints(); 6.14 read_annotate()). */
  | 'symbol-offset'
  /**
   * add_ignores(): an STT_FUNC symbol itself, or the function starting at a section symbol +
   * addend (none: skipped silently); other symbol types warn "unexpected relocation symbol type
   * in %s: %d" and are skipped.
   */
  | 'function';

/** struct paravirt_patch_site in .parainstructions (x86-64, up to 6.7). */
export interface ParaInstrLayout {
  /** `_ASM_ALIGN; _ASM_PTR 771b; .byte type; .byte len; [.short clobber]; _ASM_ALIGN`. */
  entrySize: 16;
  /** R_X86_64_64 to the patched instruction. */
  instrOffset: 0;
  typeOffset: 8;
  lenOffset: 9;
  /** u16 clobber mask, emitted up to 6.1 (tip 00e8f7153bcd removed it, 6.2). */
  clobbersOffset?: number;
}

/** Which global/weak functions objtool takes as noreturn by name (check.c __dead_end_function()). */
export interface NoreturnRules {
  /**
   * The name list applies to STB_WEAK functions as well as STB_GLOBAL ones (tip "objtool: Include
   * weak functions in 'global_noreturns' check", Apr 2023 -> 6.4); before, a weak function is
   * never noreturn.
   */
  includesWeak: boolean;
  /**
   * is_rust_noreturn() (tip "objtool/rust: list `noreturn` Rust functions", 6.11/6.12): names
   * starting "_R" that end with one of `endsWith`, contain one of `contains`, or contain all of
   * `allOf[i].contains` and end with `allOf[i].endsWith`.
   */
  rust?: {
    endsWith: readonly string[];
    contains: readonly string[];
    allOf: readonly { contains: readonly string[]; endsWith: string }[];
  };
}

/** 6.14+ generic annotations: `.discard.annotate_insn` entries {s32 insn (`.long X - .`), u32 type}. */
export interface AnnotateInsnLayout {
  entrySize: 8;
  typeOffset: 4;
  /**
   * ANNOTYPE_* number -> the legacy annotation section it replaces. An entry names the annotated
   * instruction itself: REACHABLE names the ud2, where `.discard.reachable` named the next one.
   */
  types: Readonly<Record<number, string>>;
  /** Other types objtool accepts; any other is fatal. */
  known: readonly number[];
}

/** struct bug_entry (`verify` walks on after a WARN's ud2). */
export interface BugTableLayout {
  /** sizeof(struct bug_entry) -> offset of its u16 flags (the size depends on CONFIG_DEBUG_BUGVERBOSE). */
  entryFlags: Readonly<Record<number, number>>;
  /** BUGFLAG_WARNING: the trap returns to the instruction after the ud2. */
  warningFlag: number;
}

// {bug_addr, [file, line,] flags}: 12 bytes with BUGVERBOSE (flags at 10), else 8 (flags at 4).
/**
 * Functions whose frame an unwind hint inside the body describes, from the x86 sources of 6.12.118
 * and 7.3.4 (UNWIND_HINT_* between SYM_FUNC_START and SYM_FUNC_END, or in a C function's inline
 * asm), the same list in both; checked against the hints of kbuild's vmlinux.o of both. A hint
 * that only says what the entry already is (srso_alias_untrain_ret's FUNC at offset 0) is left
 * out. Hints in code outside functions (SYM_CODE: entry code) are not listed: `verify` does not
 * walk that code in a linked image at all. For 6.1 to 6.10 the list is 6.12's (names absent
 * from an image do nothing).
 *  - arch_rethook_trampoline: UNWIND_HINT_FUNC after pushing a fake return address (rethook.c);
 *  - ftrace_regs_caller: UNWIND_HINT_FUNC where it returns to the direct caller (ftrace_64.S);
 *  - srso_alias_safe_ret: UNWIND_HINT_FUNC after `lea 8(%rsp), %rsp` (retpoline.S);
 *  - xen_hypercall_pv, asm_fred_entry_from_kvm, __vmx_vcpu_run: UNWIND_HINT_SAVE/RESTORE around
 *    a SYSCALL, an interrupt frame, a VM entry.
 * (vmware.h's VMware hypercalls carry SAVE/UNDEFINED/RESTORE in inline asm too, inlined into
 * the callers of vmware_hypercall_hb_*(): only modules in Debian's configurations.)
 */
const HINTED_FUNCTIONS_6_X = [
  'arch_rethook_trampoline', 'ftrace_regs_caller', 'srso_alias_safe_ret', 'xen_hypercall_pv', 'asm_fred_entry_from_kvm', '__vmx_vcpu_run',
] as const;

const BUG_TABLE_6_1: BugTableLayout = { entryFlags: { 12: 10, 8: 4 }, warningFlag: 1 };
// 7.x x86-64 has HAVE_ARCH_BUG_FORMAT: {bug_addr, format, [file, line,] flags}: 16 or 12 bytes.
const BUG_TABLE_7_3: BugTableLayout = { ...BUG_TABLE_6_1, entryFlags: { 16: 14, 12: 8 } };

/** How the kernel patches alternatives at boot (arch/x86/kernel/alternative.c). */
export interface BootPatching {
  /**
   * Which relative operands of a copied replacement are re-targeted: 'call-jmp' (6.1: a 5-byte
   * CALL, and a leading 5-byte JMP that may shrink to 2 bytes), 'all' (6.12 __apply_relocation():
   * every relative branch, call and RIP-relative operand pointing outside the replacement; a
   * JMP.d32 becomes JMP.d8 where it fits).
   */
  retarget: 'call-jmp' | 'all';
  /** optimize_nops(): '6.1' merges 0x90 runs; '6.12' merges NOP/NOPL runs, JMP over INT3 past the longest NOP; '7.3' the same with insn-eval.c's insn_is_nop(). */
  optimizeNops: '6.1' | '6.12' | '7.3';
  /** ASM_NOP_MAX on x86-64. */
  nopMax: number;
  /** CPU feature numbers by name. */
  cpufeatures: Readonly<Record<string, number>>;
}

/**
 * check.c behaviours that changed between releases: what the analysis does differently, named
 * after the tip commit that changed it.
 */
export interface CheckRules {
  /**
   * All .altinstructions entries of one site share one original group and CFI array, and a
   * later entry with another original length is fatal ("weirdly overlapping alternative");
   * before, each entry made a fresh original group, the original's instructions kept the last
   * one, and earlier replacements recorded their states in arrays nothing else read (tip
   * 339b90b37d80 "objtool: Fix overlapping alternatives", 6.3).
   */
  altSharedOrigGroup: boolean;
  /**
   * Where an alternative, jump label, exception fixup or switch-table target joins its
   * instruction's list, which is the order the paths are walked: 'append' (list_add_tail, up
   * to 6.2) or 'prepend' (tip "objtool: Make instruction::alts a single-linked list", 6.3).
   */
  altsOrder: 'append' | 'prepend';
  /**
   * An UNWIND_HINT_RESTORE that starts a block reached by a branch before its SAVE was visited is
   * skipped, to be walked again from the straight-line path; before, "objtool isn't smart enough
   * to handle this CFI save/restore combo" (tip "objtool: Fix UNWIND_HINT_{SAVE,RESTORE} across
   * basic blocks", 6.9 and stable 6.6+; the 6.4 layout, 6.4-6.10, follows the older rule).
   */
  restoreDeferredAtBranchTarget: boolean;
  /**
   * A direct jump from any sized symbol (STT_NOTYPE code too) to the start of another function
   * is a sibling call, which only a function must make with an unmodified frame; before, only
   * function-to-function jumps were, and other jumps were followed into the target (tip
   * 5a9c361a416f "objtool: Allow STT_NOTYPE -> STT_FUNC+0 sibling-calls", 6.2).
   */
  notypeSiblingCalls: boolean;
  /**
   * With unreachable code ignored (--no-unreachable, or a PC-relative switch table), a jump to
   * the end of its function where no instruction is (GCOV/KCOV dead code) is left without a
   * destination instead of "can't find jump dest instruction" (6.9 or so; the 6.4 layout,
   * 6.4-6.10, follows the older rule).
   */
  jumpPastFunctionEndIgnored: boolean;
  /**
   * Name prefixes of functions allowed to fall through into the next one: kCFI's `__cfi_`
   * preambles, and from 6.2 the `__pfx_` padding symbols (tip 9f2899fe36a6 "objtool: Add option
   * to generate prefix symbols").
   */
  fallthroughPrefixes: readonly string[];
  /**
   * The path walk's own warnings (call without frame pointer, UACCESS, DF, SAVE/RESTORE, ...)
   * name the section the current walk started in with the instruction's offset (WARN_FUNC with
   * validate_branch()'s `sec`): a walk entered at a replacement and continued into the text
   * reports `.altinstr_replacement+<text offset>`. From 6.4 they name the instruction itself
   * (tip "objtool: Add WARN_INSN()").
   */
  walkWarningsInStartSection: boolean;
  /**
   * A switch-table entry pointing to the end of its function is skipped and the table read on;
   * before, the table ended there (tip 3724062ca2b1 "objtool: Ignore dangling jump table
   * entries", 6.14 and stable 6.6.79/6.12.16; the 6.4 layout follows the older rule).
   */
  jumpTableSkipsFunctionEnd: boolean;
  /**
   * A relocation in a replacement is fatal ("unsupported relocation in alternatives section")
   * unless it belongs to a direct call or a jump at the replacement's very start, the only ones
   * the kernel re-targeted; from 6.4 the kernel applies them all (tip 270a69c4485d
   * "x86/alternative: Support relocations in alternatives").
   */
  altRelocsOnlyBranchAtStart: boolean;
  /**
   * Decoding places STT_NOTYPE symbols as well as functions on their instructions (a NOTYPE one
   * inside an instruction is fatal; one at its section's end is taken for an end marker, a
   * function there is "STT_FUNC at end of section"), and skips symbols known to sit inside
   * another instruction (retbleed_return_thunk, srso_safe_ret). Up to 6.1 only functions were
   * placed, a function at the end got "can't find starting instruction", and the symbols were
   * classified only after decoding (tip 5a9c361a416f's series, 6.2).
   */
  decodeNotypeSymbols: boolean;
  /**
   * How a `X.cold` part finds its parent function: 'jump' (up to 6.12: by name, any binding, and
   * re-parented to the function whose jump enters it) or 'file' (7.x read_symbols(): a local of
   * that name under the same STT_FILE, else a global; no re-parenting, so in a stripped module
   * with same-named locals the jump may become a sibling call).
   */
  coldParent: 'jump' | 'file';
  /**
   * Which alternative paths the walk leaves out: 'insn' (up to 6.12: an original marked
   * ANNOTATE_IGNORE_ALTERNATIVE follows none of its alternatives, and its replacements are
   * ignored; SMAP sites follow only one side, POPCNT only the replacement) or 'group' (7.x
   * skip_alt_group(): every alternative is followed, then a group marked at its first
   * instruction, original or replacement, ends the path, as does an original whose first
   * alternative starts with CLAC/STAC).
   */
  altSkip: 'insn' | 'group';
  /**
   * Which functions --prefix gives a `__pfx_` symbol (and its entry state over the padding):
   * 'nop-padding' (up to 6.12: every function preceded by exactly that many bytes of NOPs, in
   * section and address order, aliases each) or 'patchable-entries' (7.x: the functions that
   * `__patchable_function_entries` relocations name, in their order, an alias set once).
   */
  prefixSymbols: 'nop-padding' | 'patchable-entries';
  /**
   * annotate_call_site() of calls in `.altinstr_replacement` too (7.x: they go into the site
   * tables, and a noreturn callee ends the path); up to 6.12 those calls were passed over.
   */
  altReplacementCalls: boolean;
  /** `.call_sites` leaves out calls to symbols inside another instruction (7.x). */
  callSitesSkipEmbedded: boolean;
  /**
   * --retpoline's warnings count among those that keep the unreachable-instruction check from
   * running (up to 6.12); 7.x counts only the walk's own.
   */
  retpolineWarningsHideUnreachable: boolean;
  /**
   * --unret: a walk that cannot go on (an unresolved jump or call, the end of the code) stops the
   * whole check after "Failed UNRET validation" (up to 6.12); 7.x counts it as a warning.
   */
  unretDeadEndsFatal: boolean;
  /**
   * A warning names the symbol's alias, the last symbol in symbol-table order with the same
   * offset, type and size (7.x find_*() return sym->alias: `init_module+0x..` rather than the
   * function's own name); before, the first found.
   */
  warnNamesAlias: boolean;
}

export interface KernelLayout {
  /** Short name, also the value of `--kernel=`. */
  name: '6.1' | '6.3' | '6.4' | '6.12' | '7.3';
  /** The versions this layout describes. */
  covers: string;
  alt: AltInstrLayout;
  orc: OrcEntryLayout;
  hint: UnwindHintLayout;
  /** SHA-1 in .orc_header for this ORC format (absent before 6.3.10/6.4). */
  orcHeaderHash?: string;
  /** Relocation encoding of each annotation section's entries. */
  annotations: Record<string, AnnotationEncoding>;
  /** How objtool computes the target of each annotation section's relocations. */
  annotationTargets: Record<string, AnnotationTargetRule>;
  /** `.discard.annotate_insn` (6.14+); no layout here has it, see ANNOTATE_INSN_6_14. */
  annotateInsn?: AnnotateInsnLayout;
  /** struct paravirt_patch_site, when `hasParainstructions`. */
  parainstr?: ParaInstrLayout;
  /** The name-based noreturn predicate besides the `noreturns` list. */
  noreturnRules: NoreturnRules;
  /** Whether `.discard.unreachable` annotations exist. */
  hasUnreachableAnnotations: boolean;
  bugTable: BugTableLayout;
  /** `.parainstructions` exists (up to 6.7): recognised, stack-neutral. */
  hasParainstructions: boolean;
  /** C jump tables live in this section. */
  cJumpTableSection: string;
  /** Functions known never to return, besides the ones found by analysis. */
  noreturns: readonly string[];
  /**
   * Functions (STT_FUNC symbols) in whose body an unwind hint changes the frame: a linked image
   * has lost its hints, so `verify` cannot know their frames there (see HINTED_FUNCTIONS_6_X).
   */
  hintedFunctions: readonly string[];
  /** Functions that may be called with AC set (--uaccess). */
  uaccessSafe: readonly string[];
  /** Version-dependent warning texts. */
  messages: {
    /**
     * "stack layout conflict in alternatives": true (6.3+) reports it at the site's first
     * original instruction followed by `: <conflicting location>`; false (6.1) at the
     * conflicting instruction itself, with nothing after.
     */
    altConflictWithLocation: boolean;
    /** The build name in retpoline/rethunk warnings. */
    /**
     * A call through pv_ops is named `pv_ops[addend/8]` in call warnings when its relocation was
     * looked up before (replacement instructions, the --noinstr slot check): 6.1 cached it on the
     * instruction. From 6.3 (tip "objtool: Remove instruction::reloc") it is always `{dynamic}`.
     */
    pvSlotInCallName: boolean;
    retpolineBuild: string;
    /** The unreachable-after-call warning, `%s` the callee. */
    missingNoreturn: string;
    /** "unexpected end of section": 'section' (`<sec>: ...`, up to 6.12) or 'func' (7.x `<func>(): ... <sec>`). */
    endOfSection: 'section' | 'func';
    /** "can't find jump dest instruction at": 'sec+off' (up to 6.12) or 'offstr' (7.x: `func+0x..` where a symbol holds it). */
    jumpDest: 'sec+off' | 'offstr';
    rethunkBuild: string;
  };
  /**
   * Unreachable code: 6.1-6.4 report only the first unreachable instruction of the file and
   * excuse a UD2 after any call to a noreturn function; 6.5+ report each, naming the missing
   * __noreturn (tip 5e3992fe7274 and the noreturns.h series).
   */
  unreachable: { firstOnly: boolean; excuseAfterNoreturnCall: boolean };
  /** Boot-time patching, for `orctool patch` and `verify`. */
  patching: BootPatching;
  /** decode.c behaviours that changed between releases (see src/x86/variant.ts). */
  decoder: DecoderVariant;
  /** WARN_INSN: after one warning in a symbol, the rest of that symbol's warnings are dropped (6.4+). */
  warnOncePerSymbol: boolean;
  check: CheckRules;
  noinstr: NoinstrRules;
  severity: Severity;
  symbols: SymbolClasses;
  outputSteps: readonly OutputStep[];
  ibt: IbtRules;
  /** --backup: 'always' (6.x: `<obj>.orig` before any change) or 'on-warning' (7.x: only after a warning or error). */
  backup: 'always' | 'on-warning';
  /**
   * --cfi: 'sites' (6.2 to 6.12: an action, `.cfi_sites` listing the `__cfi_` preambles, in
   * section and address order) or 'grow' (7.x: with --prefix, each 5-byte `__cfi_` symbol
   * before a function grows over the padding instead of `__pfx_` symbols being made;
   * `.cfi_sites` only with --fineibt, in symbol table order; --retpoline also checks that every
   * retpoline call is a kCFI call unless its function is ANNOTATE_NOCFI_SYM).
   */
  cfi: 'sites' | 'grow';
  /** Option pairs this version's opts_valid() insists on: [option, the option it needs]. */
  optionNeeds: readonly (readonly [keyof CheckOptionsNeeds, keyof CheckOptionsNeeds])[];
}

/** The options optionNeeds can name (CheckOptions' fields, as their command-line spelling). */
export interface CheckOptionsNeeds { cfi: '--cfi'; prefix: '--prefix'; fineibt: '--fineibt'; klpSymids: '--klp-symids'; link: '--link' }
export const OPTION_SPELLING: CheckOptionsNeeds = { cfi: '--cfi', prefix: '--prefix', fineibt: '--fineibt', klpSymids: '--klp-symids', link: '--link' };

/** classify_symbols(): global symbols objtool knows by name. */
export interface SymbolClasses {
  /** arch_is_retpoline(): name prefixes of the retpoline thunks. */
  retpolineThunkPrefixes: readonly string[];
  /** arch_is_rethunk(). */
  returnThunks: readonly string[];
  /** arch_is_embedded_insn(): symbols that sit inside another instruction. */
  embeddedInsns: readonly string[];
  /** is_profiling_func(): calls --hacks=noinstr removes from noinstr text (prefixes, then names). */
  profilingPrefixes: readonly string[];
  profilingNames: readonly string[];
}

const SYMBOLS_6_1: SymbolClasses = {
  retpolineThunkPrefixes: ['__x86_indirect_'], returnThunks: ['__x86_return_thunk'],
  embeddedInsns: ['retbleed_return_thunk', 'srso_safe_ret'],
  profilingPrefixes: ['__sanitizer_cov_', '__tsan_func_'], profilingNames: ['__tsan_atomic_signal_fence'],
};
// 7.x: the __pi_ aliases of arch/x86/boot/startup, srso_alias_safe_ret, KCOV only.
const SYMBOLS_7_3: SymbolClasses = {
  retpolineThunkPrefixes: ['__x86_indirect_', '__pi___x86_indirect_'], returnThunks: ['__x86_return_thunk', '__pi___x86_return_thunk'],
  embeddedInsns: ['retbleed_return_thunk', 'srso_alias_safe_ret', 'srso_safe_ret'],
  profilingPrefixes: ['__sanitizer_cov_'], profilingNames: [],
};

/** --ibt: validate_ibt() and the seal table, as they changed. */
export interface IbtRules {
  /** A relocation to a static-call trampoline is accepted without ENDBR (up to 6.12). */
  skipStaticCallTramp: boolean;
  /** PC-relative operands measured from the instruction's end (7.x), not taken as its last 4 bytes. */
  pcrelFromInsnEnd: boolean;
  /** Data sections whose relocations may point at code without meaning an indirect branch. */
  dataSectionsSkipped: readonly string[];
  /** Sections named with `__patchable_function_entries` anywhere are skipped too (6.x; 7.x only that name, listed above). */
  patchableEntriesBySubstring: boolean;
  /**
   * A module's `init_module`/`cleanup_module` with an unused ENDBR: 6.x warns "not an indirect call
   * target"; 7.x refuses the name (fatal).
   */
  magicModuleNames: 'warn' | 'fatal';
  /**
   * A relocation within one function needs no ENDBR (_THIS_IP_): 'parent' (6.12, 7.3: a .cold
   * part and its parent are one function) or 'symbol' (6.1: the same symbol only). The 6.3 and
   * 6.4 layouts take 6.12's rules; no oracle here checks them.
   */
  sameFunction: 'parent' | 'symbol';
  /** Just past a symbol that starts with (no)endbr is fine: a code range's end (6.12, 7.3; not 6.1). */
  noendbrRange: boolean;
}

const IBT_6_12: IbtRules = {
  skipStaticCallTramp: true, pcrelFromInsnEnd: false, patchableEntriesBySubstring: true, magicModuleNames: 'warn',
  sameFunction: 'parent', noendbrRange: true,
  dataSectionsSkipped: [
    '.altinstructions', '.ibt_endbr_seal', '.orc_unwind_ip', '.parainstructions', '.retpoline_sites', '.smp_locks',
    '.static_call_sites', '_error_injection_whitelist', '_kprobe_blacklist', '__bug_table', '__ex_table', '__jump_table',
    '__mcount_loc', '.kcfi_traps',
  ],
};
// 6.1.192 validate_ibt_insn(): self-references by symbol, no code-range ends; the same skip list.
const IBT_6_1: IbtRules = { ...IBT_6_12, sameFunction: 'symbol', noendbrRange: false };
// 7.x: what changed from 6.12's rules; the skip list lost .parainstructions and .smp_locks and
// gained the klp, LLVM, tracepoint and call-site tables, and __patchable_function_entries by name.
const IBT_7_3: IbtRules = {
  ...IBT_6_12, skipStaticCallTramp: false, pcrelFromInsnEnd: true, patchableEntriesBySubstring: false, magicModuleNames: 'fatal',
  dataSectionsSkipped: [
    '.altinstructions', '.ibt_endbr_seal', '.kcfi_traps', '.orc_unwind_ip', '.retpoline_sites', '.static_call_sites',
    '_error_injection_whitelist', '_kprobe_blacklist', '__bug_table', '__ex_table', '__jump_table', '.init.klp_funcs',
    '__mcount_loc', '.llvm.call-graph-profile', '.llvm_bb_addr_map', '__tracepoints', '.return_sites', '.call_sites',
    '__patchable_function_entries',
  ],
};

/**
 * What check() writes, in its order: the instruction tables (src/actions/sites.ts), the
 * `__pfx_` symbols, ORC. Each runs only with its option.
 */
export type OutputStep =
  | 'static_call' | 'retpoline' | 'cfi_sites' | 'return' | 'call' | 'mcount' | 'prefix' | 'ibt' | 'klp_symids' | 'noabs' | 'orc';

// 6.1: no .call_sites or prefix symbols yet; 6.2 to 6.12 put .cfi_sites (--cfi, not made by
// orctool) after .retpoline_sites; 7.x moved it into the prefix step and adds .klp.symid.
const OUTPUT_6_1: readonly OutputStep[] = ['static_call', 'retpoline', 'return', 'mcount', 'ibt', 'orc'];
const OUTPUT_6_12: readonly OutputStep[] = ['static_call', 'retpoline', 'cfi_sites', 'return', 'call', 'mcount', 'prefix', 'ibt', 'orc'];
// 7.x: .cfi_sites (--fineibt) is made in the prefix step, after the __cfi_ symbols grow;
// .klp.symid comes after the seal; --noabs reports (writes nothing) just before ORC.
const OUTPUT_7_3: readonly OutputStep[] = ['static_call', 'retpoline', 'return', 'call', 'mcount', 'prefix', 'ibt', 'klp_symids', 'noabs', 'orc'];

/** How objtool reports its fatal errors (the ERROR*() paths and -1 returns). */
export interface Severity {
  /**
   * The word after the object name: 'warning' (up to 6.12, where check() still returned 0 and
   * the run exited 0) or 'error' (7.x: `<obj>: error: objtool: ...`).
   */
  fatalWord: 'warning' | 'error';
  /** Exit status after a fatal error: 0 up to 6.12, 255 from 7.x (check() returns -1). */
  fatalExit: number;
  /** Problems that 6.x reported and went on after, and that 7.x made fatal (WARN -> ERROR). */
  nowFatal: {
    /** STACK_FRAME_NON_STANDARD naming a symbol that is neither a function nor a section. */
    nonStandardSymbolType: boolean;
    /** A linked object without --link (6.x: "Linked object detected, forcing --link"). */
    linkedObject: boolean;
    /** A state ORC cannot express, or an object that already has .orc_unwind. */
    orc: boolean;
    /** A global REGS_PARTIAL hint without ENDBR under --ibt. */
    iretRegsWithoutEndbr: boolean;
    /** An alternative with no original bytes: printed as an error, then passed over (7.x). */
    emptyAlternativeIsError: boolean;
  };
}

const MESSAGES_6_X = {
  missingNoreturn: '%s() is missing a __noreturn annotation', endOfSection: 'section', jumpDest: 'sec+off',
} as const;

const SEVERITY_6_1: Severity = {
  fatalWord: 'warning', fatalExit: 0, nowFatal: {
    nonStandardSymbolType: false, linkedObject: false, orc: false, iretRegsWithoutEndbr: false, emptyAlternativeIsError: false,
  },
};
const SEVERITY_7_3: Severity = {
  fatalWord: 'error', fatalExit: 255, nowFatal: {
    nonStandardSymbolType: true, linkedObject: true, orc: true, iretRegsWithoutEndbr: true, emptyAlternativeIsError: true,
  },
};

/** --noinstr: which text is noinstr, and which calls out of it are allowed. */
export interface NoinstrRules {
  /** Sections holding noinstr code, walked in this order when --noinstr is the only action. */
  sections: readonly string[];
  /** Name prefixes of further noinstr sections (not walked on their own). */
  sectionPrefixes: readonly string[];
  /** A call to a static-call trampoline is allowed (its target can't be known). */
  staticCallTrampOk: boolean;
}

// .cpuidle.text became noinstr with the cpuidle/RCU cleanup (Linux 6.3), the static-call
// trampoline allowance is not in 6.1's objtool; the 6.3 boundary of the latter is inferred.
const NOINSTR_6_1: NoinstrRules = {
  sections: ['.noinstr.text', '.entry.text'], sectionPrefixes: ['.text..__x86.'], staticCallTrampOk: false,
};
const NOINSTR_6_3: NoinstrRules = {
  sections: ['.noinstr.text', '.entry.text', '.cpuidle.text'], sectionPrefixes: ['.text..__x86.'], staticCallTrampOk: true,
};

const CHECK_6_1: CheckRules = {
  altSharedOrigGroup: false, altsOrder: 'append', restoreDeferredAtBranchTarget: false, notypeSiblingCalls: false,
  jumpPastFunctionEndIgnored: false, fallthroughPrefixes: ['__cfi_'], walkWarningsInStartSection: true,
  jumpTableSkipsFunctionEnd: false, altRelocsOnlyBranchAtStart: true, decodeNotypeSymbols: false,
  coldParent: 'jump', warnNamesAlias: false, altSkip: 'insn', prefixSymbols: 'nop-padding',
  altReplacementCalls: false, callSitesSkipEmbedded: false, retpolineWarningsHideUnreachable: true, unretDeadEndsFatal: true,
};
const CHECK_6_3: CheckRules = {
  altSharedOrigGroup: true, altsOrder: 'prepend', restoreDeferredAtBranchTarget: false, notypeSiblingCalls: true,
  jumpPastFunctionEndIgnored: false, fallthroughPrefixes: ['__cfi_', '__pfx_'], walkWarningsInStartSection: true,
  jumpTableSkipsFunctionEnd: false, altRelocsOnlyBranchAtStart: true, decodeNotypeSymbols: true,
  coldParent: 'jump', warnNamesAlias: false, altSkip: 'insn', prefixSymbols: 'nop-padding',
  altReplacementCalls: false, callSitesSkipEmbedded: false, retpolineWarningsHideUnreachable: true, unretDeadEndsFatal: true,
};
const CHECK_6_4: CheckRules = { ...CHECK_6_3, walkWarningsInStartSection: false, altRelocsOnlyBranchAtStart: false };
const CHECK_6_12: CheckRules = {
  ...CHECK_6_4, restoreDeferredAtBranchTarget: true, jumpPastFunctionEndIgnored: true, jumpTableSkipsFunctionEnd: true,
};
const CHECK_7_3: CheckRules = {
  ...CHECK_6_12, altsOrder: 'append', coldParent: 'file', warnNamesAlias: true, altSkip: 'group',
  prefixSymbols: 'patchable-entries', altReplacementCalls: true, callSitesSkipEmbedded: true,
  retpolineWarningsHideUnreachable: false, unretDeadEndsFatal: false,
};

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

// 7.3.4 tools/objtool/noreturns.h: 6.12's list with vpanic, the play_dead family and
// efi_rts_park_worker added, bch2_trans_unlocked_error renamed, __reiserfs_panic and snp_abort gone.
const NORETURNS_7_3 = [
  ...NORETURNS_6_12.filter((n) => !['__reiserfs_panic', 'snp_abort', 'bch2_trans_unlocked_error'].includes(n)),
  'acpi_processor_ffh_play_dead', 'bch2_trans_unlocked_or_in_restart_error', 'efi_rts_park_worker', 'mwait_play_dead',
  'native_play_dead', 'vpanic',
].sort();

const ALT_12: AltInstrLayout = {
  entrySize: 12, origOffset: 0, newOffset: 4, featureOffset: 8, featureSize: 2, origLenOffset: 10, newLenOffset: 11,
  notFlag: 1 << 15, nestedSites: false,
};

// tip 5d1dd961e743 "x86/alternatives: Add alt_instr.flags" (6.3): u32 ft_flags, flags in the high half.
const ALT_14: AltInstrLayout = {
  entrySize: 14, origOffset: 0, newOffset: 4, featureOffset: 8, featureSize: 4, origLenOffset: 12, newLenOffset: 13,
  notFlag: 1 << 16, nestedSites: false,
};

// orc_types.h ORC_REG_* from 4.14 to 7.0, and as renumbered for 7.2 (tip "x86/unwind/orc: ...",
// .orc_header 137c36ad...; 7.1 has no Debian source and is taken to be 7.2's).
const ORC_REGS_4_14: OrcRegisters = {
  UNDEFINED: 0, PREV_SP: 1, DX: 2, DI: 3, BP: 4, SP: 5, R10: 6, R13: 7, BP_INDIRECT: 8, SP_INDIRECT: 9,
};
const ORC_REGS_7_2: OrcRegisters = {
  UNDEFINED: 0, AX: 1, DX: 2, SP: 3, BP: 4, DI: 5, R10: 6, R13: 7, PREV_SP: 8, SP_INDIRECT: 9, BP_INDIRECT: 10,
};
// arch_decode_hint_reg(): 7.2 adds AX and BP_INDIRECT.
const HINT_REGS_4_14: readonly OrcRegName[] = ['UNDEFINED', 'SP', 'BP', 'SP_INDIRECT', 'R10', 'R13', 'DI', 'DX'];
const HINT_REGS_7_2: readonly OrcRegName[] = [...HINT_REGS_4_14, 'AX', 'BP_INDIRECT'];

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

// 6.1 check.c: reachable/unreachable, ignore_alts, retpoline_safe, instr_*, intra_function_calls
// accept only section symbols; unwind hints take the addend whatever the symbol; noendbr is
// symbol offset + addend; func_stack_frame_non_standard names functions.
const TARGETS_6_1: Record<string, AnnotationTargetRule> = {
  '.discard.unwind_hints': 'addend', '.discard.reachable': 'section', '.discard.unreachable': 'section',
  '.discard.noendbr': 'symbol-offset', '.discard.retpoline_safe': 'section', '.discard.ignore_alts': 'section',
  '.discard.intra_function_calls': 'section', '.discard.instr_begin': 'section', '.discard.instr_end': 'section',
  '.discard.validate_unret': 'section', '.discard.func_stack_frame_non_standard': 'function',
};

// 6.8+: unwind hints and reachable annotations may name a `.L` local label.
const TARGETS_6_12: Record<string, AnnotationTargetRule> = {
  ...TARGETS_6_1, '.discard.unwind_hints': 'section-or-label', '.discard.reachable': 'section-or-label',
  '.discard.unreachable': 'section-or-label',
};

// 6.1 struct paravirt_patch_site + asm `.short clobber`; the clobber went in 6.2.
const PARA_6_1: ParaInstrLayout = { entrySize: 16, instrOffset: 0, typeOffset: 8, lenOffset: 9, clobbersOffset: 10 };
const PARA_6_2: ParaInstrLayout = { entrySize: 16, instrOffset: 0, typeOffset: 8, lenOffset: 9 };

// 6.12.117 tools/objtool/check.c is_rust_noreturn().
const RUST_NORETURNS_6_12: NonNullable<NoreturnRules['rust']> = {
  endsWith: [
    '_4core3num22from_ascii_radix_panic', '_4core5sliceSp15copy_from_slice17len_mismatch_fail',
    '_4core6option13expect_failed', '_4core6option13unwrap_failed', '_4core6result13unwrap_failed',
    '_4core6result13unwrap_failed19unwrap_failed_inner', '_4core9panicking5panic', '_4core9panicking9panic_fmt',
    '_4core9panicking14panic_explicit', '_4core9panicking14panic_nounwind', '_4core9panicking18panic_bounds_check',
    '_4core9panicking18panic_nounwind_fmt', '_4core9panicking19assert_failed_inner',
    '_4core9panicking30panic_null_pointer_dereference', '_4core9panicking32panic_null_reference_constructed',
    '_4core9panicking36panic_misaligned_pointer_dereference', '_7___rustc17rust_begin_unwind',
  ],
  contains: ['_4core9panicking13assert_failed', '_4core9panicking11panic_const24panic_const_'],
  allOf: [{ contains: ['_4core5slice5index', 'slice_'], endsWith: '_fail' }],
};

/**
 * include/linux/objtool_types.h ANNOTYPE_* of tip 2116b349e29a "objtool: Generic annotation
 * infrastructure" (6.14). Objects carrying `.discard.annotate_insn` are read with this numbering
 * when their layout names none.
 */
export const ANNOTATE_INSN_6_14: AnnotateInsnLayout = {
  entrySize: 8, typeOffset: 4,
  types: {
    1: '.discard.noendbr', 2: '.discard.retpoline_safe', 3: '.discard.instr_begin', 4: '.discard.instr_end',
    5: '.discard.validate_unret', 6: '.discard.ignore_alts', 7: '.discard.intra_function_calls', 8: '.discard.reachable',
  },
  known: [],
};

// 7.x include/linux/annotate.h: ANNOTYPE_NOCFI (9) added (no legacy section: the name is the passes').
const ANNOTATE_INSN_7_3: AnnotateInsnLayout = { ...ANNOTATE_INSN_6_14, types: { ...ANNOTATE_INSN_6_14.types, 9: '.discard.nocfi' } };

const LAYOUT_6_12: KernelLayout = {
    name: '6.12', covers: 'Linux 6.11 to 6.12 (stable)', patching: { retarget: 'all', optimizeNops: '6.12', nopMax: 11, cpufeatures: CPUFEATURES_6_12 }, decoder: DECODER_6_12, unreachable: { firstOnly: false, excuseAfterNoreturnCall: false },
    alt: { ...ALT_14, directCallFlag: 1 << 17, nestedSites: true },
    orc: { typeBits: 3, signalBit: 11, mapping: 'v3', dump: '6.4', regs: ORC_REGS_4_14 },
    hint: { entrySize: 12, signalOffset: 8, regs: HINT_REGS_4_14, types: HINTS_NEW },
    orcHeaderHash: 'fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24',
    annotations: ANNOTATIONS_6_12, hasUnreachableAnnotations: false, hasParainstructions: false, bugTable: BUG_TABLE_6_1,
    annotationTargets: TARGETS_6_12, noreturnRules: { includesWeak: true, rust: RUST_NORETURNS_6_12 },
    cJumpTableSection: '.data.rel.ro.c_jump_table', noreturns: NORETURNS_6_12, hintedFunctions: HINTED_FUNCTIONS_6_X, uaccessSafe: UACCESS_SAFE_6_12,
    messages: { altConflictWithLocation: true, pvSlotInCallName: false, retpolineBuild: 'MITIGATION_RETPOLINE build', rethunkBuild: 'MITIGATION_RETHUNK build', ...MESSAGES_6_X },
    warnOncePerSymbol: true,
    check: CHECK_6_12, noinstr: NOINSTR_6_3, severity: SEVERITY_6_1, symbols: SYMBOLS_6_1, outputSteps: OUTPUT_6_12, ibt: IBT_6_12, backup: 'always', cfi: 'sites', optionNeeds: [],
  };

/**
 * Linux 7.2 and 7.3 (Debian's 7.2.13 and 7.3.4): what changed since 6.12, from
 * ../shared/docs/objtool-7x-facts.md and the 7.3.4 tree.
 */
const LAYOUT_7_3: KernelLayout = {
  ...LAYOUT_6_12,
  name: '7.3', covers: 'Linux 7.2 to 7.3',
  orc: { ...LAYOUT_6_12.orc, regs: ORC_REGS_7_2 },
  hint: { ...LAYOUT_6_12.hint, regs: HINT_REGS_7_2 },
  decoder: DECODER_7_3,
  // 7.x optimize_nops() asks insn-eval.c's insn_is_nop(), which knows more do-nothing forms.
  patching: { ...LAYOUT_6_12.patching, optimizeNops: '7.3', cpufeatures: CPUFEATURES_7_3 },
  orcHeaderHash: '137c36ad7627c4dd55932176bb0ecdbd5041fc82',
  // Every .discard.* annotation but hints and STACK_FRAME_NON_STANDARD is an annotate_insn entry;
  // hints may name any symbol (offset + addend); the asm STACK_FRAME_NON_STANDARD is `.quad`.
  annotateInsn: ANNOTATE_INSN_7_3,
  annotations: { '.discard.unwind_hints': 'pc32', '.discard.func_stack_frame_non_standard': 'abs64' },
  annotationTargets: { '.discard.unwind_hints': 'symbol-offset', '.discard.func_stack_frame_non_standard': 'function' },
  noreturns: NORETURNS_7_3,
  bugTable: BUG_TABLE_7_3,
  severity: SEVERITY_7_3,
  symbols: SYMBOLS_7_3,
  ibt: IBT_7_3,
  backup: 'on-warning',
  outputSteps: OUTPUT_7_3,
  cfi: 'grow',
  optionNeeds: [['cfi', 'prefix'], ['fineibt', 'cfi'], ['klpSymids', 'link']],
  messages: {
    ...LAYOUT_6_12.messages, missingNoreturn: '%s() missing __noreturn in .c/.h or NORETURN() in noreturns.h',
    endOfSection: 'func', jumpDest: 'offstr',
  },
  check: CHECK_7_3,
};

export const LAYOUTS: readonly KernelLayout[] = [
  {
    name: '6.1', covers: 'Linux 5.13 to 6.2', patching: { retarget: 'call-jmp', optimizeNops: '6.1', nopMax: 8, cpufeatures: CPUFEATURES_6_1 }, decoder: DECODER_6_1, unreachable: { firstOnly: true, excuseAfterNoreturnCall: true },
    alt: ALT_12,
    orc: { typeBits: 2, endBit: 10, mapping: 'v1', dump: '6.1', regs: ORC_REGS_4_14 },
    hint: { entrySize: 12, endOffset: 8, regs: HINT_REGS_4_14, types: HINTS_OLD },
    annotations: ANNOTATIONS_6_1, hasUnreachableAnnotations: true, hasParainstructions: true, bugTable: BUG_TABLE_6_1,
    annotationTargets: TARGETS_6_1, parainstr: PARA_6_1, noreturnRules: { includesWeak: false },
    cJumpTableSection: '.rodata..c_jump_table', noreturns: NORETURNS_6_1, hintedFunctions: HINTED_FUNCTIONS_6_X, uaccessSafe: UACCESS_SAFE_6_1,
    messages: { altConflictWithLocation: false, pvSlotInCallName: true, retpolineBuild: 'RETPOLINE build', rethunkBuild: 'RETHUNK build', ...MESSAGES_6_X },
    warnOncePerSymbol: false,
    check: CHECK_6_1, noinstr: NOINSTR_6_1, severity: SEVERITY_6_1, symbols: SYMBOLS_6_1, outputSteps: OUTPUT_6_1, ibt: IBT_6_1, backup: 'always', cfi: 'sites', optionNeeds: [],
  },
  {
    // tip ffb1b4a41016 "x86/unwind/orc: Add 'signal' field to ORC metadata".
    name: '6.3', covers: 'Linux 6.3', patching: { retarget: 'call-jmp', optimizeNops: '6.1', nopMax: 8, cpufeatures: CPUFEATURES_6_1 }, decoder: DECODER_6_1, unreachable: { firstOnly: true, excuseAfterNoreturnCall: true },
    alt: ALT_14,
    orc: { typeBits: 2, signalBit: 10, endBit: 11, mapping: 'v1', dump: '6.3', regs: ORC_REGS_4_14 },
    hint: { entrySize: 12, signalOffset: 8, endOffset: 9, regs: HINT_REGS_4_14, types: HINTS_OLD },
    orcHeaderHash: 'db84aed4103b31dd51e017f8f79783ca985c2c51',
    annotations: ANNOTATIONS_6_1, hasUnreachableAnnotations: true, hasParainstructions: true, bugTable: BUG_TABLE_6_1,
    annotationTargets: TARGETS_6_1, parainstr: PARA_6_2, noreturnRules: { includesWeak: false },
    cJumpTableSection: '.rodata..c_jump_table', noreturns: NORETURNS_6_1, hintedFunctions: HINTED_FUNCTIONS_6_X, uaccessSafe: UACCESS_SAFE_6_1,
    messages: { altConflictWithLocation: true, pvSlotInCallName: false, retpolineBuild: 'RETPOLINE build', rethunkBuild: 'RETHUNK build', ...MESSAGES_6_X },
    warnOncePerSymbol: false,
    check: CHECK_6_3, noinstr: NOINSTR_6_3, severity: SEVERITY_6_1, symbols: SYMBOLS_6_1, outputSteps: OUTPUT_6_12, ibt: IBT_6_12, backup: 'always', cfi: 'sites', optionNeeds: [],
  },
  {
    // tip f902cfdd46ae "x86,objtool: Introduce ORC_TYPE_*"; 1c0c1faf5692 relative annotations.
    name: '6.4', covers: 'Linux 6.4 to 6.10', patching: { retarget: 'call-jmp', optimizeNops: '6.1', nopMax: 8, cpufeatures: CPUFEATURES_6_1 }, decoder: DECODER_6_1, unreachable: { firstOnly: true, excuseAfterNoreturnCall: true },
    alt: ALT_14,
    orc: { typeBits: 3, signalBit: 11, mapping: 'v3', dump: '6.4', regs: ORC_REGS_4_14 },
    hint: { entrySize: 12, signalOffset: 8, regs: HINT_REGS_4_14, types: HINTS_NEW },
    orcHeaderHash: 'fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24',
    annotations: { ...ANNOTATIONS_6_1, '.discard.noendbr': 'pc32', '.discard.retpoline_safe': 'pc32', '.discard.validate_unret': 'pc32' },
    hasUnreachableAnnotations: true, hasParainstructions: true, bugTable: BUG_TABLE_6_1,
    annotationTargets: TARGETS_6_1, parainstr: PARA_6_2, noreturnRules: { includesWeak: true },
    cJumpTableSection: '.rodata..c_jump_table', noreturns: NORETURNS_6_12, hintedFunctions: HINTED_FUNCTIONS_6_X, uaccessSafe: UACCESS_SAFE_6_12,
    messages: { altConflictWithLocation: true, pvSlotInCallName: false, retpolineBuild: 'RETPOLINE build', rethunkBuild: 'RETHUNK build', ...MESSAGES_6_X },
    warnOncePerSymbol: true,
    check: CHECK_6_4, noinstr: NOINSTR_6_3, severity: SEVERITY_6_1, symbols: SYMBOLS_6_1, outputSteps: OUTPUT_6_12, ibt: IBT_6_12, backup: 'always', cfi: 'sites', optionNeeds: [],
  },
  LAYOUT_6_12,
  LAYOUT_7_3,
];

export function layoutByName(name: string): KernelLayout | undefined {
  return LAYOUTS.find((l) => l.name === name);
}

export const LAYOUT_NAMES = LAYOUTS.map((l) => l.name);
