// SPDX-License-Identifier: GPL-2.0-only
// Where objtool's arch_decode_instruction() (tools/objtool/arch/x86/decode.c) behaves
// differently between the kernel versions orctool supports. Everything else in decode.c is
// the same in 6.1.192 and 6.12.117 (diffed line by line). The per-version values belong in the
// central version table; the two presets here are what decode.c of each release does.

/** The decode.c behaviours that differ between kernel releases. */
export interface DecoderVariant {
  /**
   * `mov %reg,%reg` (REX.W 89 /r, ModRM mod 11): true (6.12) gives every register pair an op
   * `dest REG rm = src REG reg`; false (6.1) gives one only when either register is %rsp.
   */
  readonly movRegReg: boolean;
  /**
   * rm_is(): true (6.12) knows that a SIB byte with base 101 and ModRM mod 00 has no base
   * register; false (6.1) takes it for %rbp, so e.g. `mov %gs:0x1234,%rax` (65 48 8b 04 25 ...)
   * becomes `mov 0x1234(%rbp),%rax` with a REG_INDIRECT op (likewise for 88/89 stores).
   */
  readonly sibNoBase: boolean;
  /**
   * 0f 01 ca/cb behind a last prefix of f3 or f2: true (6.12) makes `f3/f2 0f 01 ca`
   * (ERETU/ERETS) CONTEXT_SWITCH and `f3/f2 0f 01 cb` OTHER; false (6.1) ignores the prefix
   * (CLAC and STAC).
   */
  readonly eretuErets: boolean;
  /**
   * 7.x splits CONTEXT_SWITCH: syscall/sysenter are SYSCALL (a path goes on past them), the
   * returns to user space and far transfers SYSRET (a path always ends).
   */
  readonly syscallSysret: boolean;
  /**
   * 7.x NOPs are only real ones: not PAUSE (f3 90), xchg %r8,%rax (REX.B 90), prefetch (0f 0d)
   * or a 0f 1f whose ModRM.reg is not 0; before, all of these were NOPs.
   */
  readonly strictNops: boolean;
  /** 7.x: udb (d6, FineIBT's trap) is a BUG, a dead end; OTHER before. */
  readonly udbIsBug: boolean;
}

/** Linux 6.12's decode.c (the default). */
export const DECODER_6_12: DecoderVariant = Object.freeze({
  movRegReg: true, sibNoBase: true, eretuErets: true, syscallSysret: false, strictNops: false, udbIsBug: false,
});

/** Linux 7.2/7.3's decode.c. */
export const DECODER_7_3: DecoderVariant = Object.freeze({ ...DECODER_6_12, syscallSysret: true, strictNops: true, udbIsBug: true });

/** Linux 6.1's decode.c. */
export const DECODER_6_1: DecoderVariant = Object.freeze({ ...DECODER_6_12, movRegReg: false, sibNoBase: false, eretuErets: false });
