// SPDX-License-Identifier: GPL-2.0-only
// objtool's check options (tools/objtool/builtin-check.c), as the analysis reads them.

export interface CheckOptions {
  stackval: boolean;
  orc: boolean;
  uaccess: boolean;
  noinstr: boolean;
  retpoline: boolean;
  rethunk: boolean;
  unret: boolean;
  sls: boolean;
  ibt: boolean;
  staticCall: boolean;
  mcount: boolean;
  mnop: boolean;
  hackJumpLabel: boolean;
  hackNoinstr: boolean;
  hackSkylake: boolean;
  cfi: boolean;
  /** --prefix=N: bytes of NOP padding before functions; 0 when off. */
  prefix: number;
  link: boolean;
  module: boolean;
  noUnreachable: boolean;
  backtrace: boolean;
  verbose: boolean;
  secAddress: boolean;
  stats: boolean;
  dryRun: boolean;
  /** 7.x --werror: warnings are printed as errors, and any makes the run fail with nothing written. */
  werror: boolean;
  /** 7.x --fineibt: `.cfi_sites` (with --cfi). */
  fineibt: boolean;
  /** 7.x --klp-symids: `.klp.symid` for vmlinux.o. */
  klpSymids: boolean;
  /** 7.x --noabs: report absolute relocations in allocated sections. */
  noabs: boolean;
  /** --backup: keep `<obj>.orig` (when: the layout's `backup`). */
  backup: boolean;
}

export function defaultOptions(): CheckOptions {
  return {
    stackval: false, orc: false, uaccess: false, noinstr: false, retpoline: false, rethunk: false, unret: false,
    sls: false, ibt: false, staticCall: false, mcount: false, mnop: false, hackJumpLabel: false, hackNoinstr: false,
    hackSkylake: false, cfi: false, prefix: 0, link: false, module: false, noUnreachable: false, backtrace: false,
    verbose: false, secAddress: false, stats: false, dryRun: false, werror: false, backup: false, noabs: false, fineibt: false, klpSymids: false,
  };
}
