// SPDX-License-Identifier: GPL-2.0-only
// Fuzz target `check`: objtool's command line (runCheckCommand, in-process) on the input written
// as an object file. The first byte chooses the command: a flag set (byte % FLAG_SETS.length) and
// a kernel layout (detected, or forced with --kernel); the rest is the object. The object is
// written, as a check does, when the command generates something.
import { LAYOUT_NAMES } from '../kernel/versions.js';
import { runCheckCommand } from '../cli/check-command.js';
import { expectTyped, inputFile, SINK } from './harness.js';

/** The command lines a kernel build and its users give (the file is appended). */
export const FLAG_SETS: readonly (readonly string[])[] = [
  ['--orc'],
  ['--orc', '--link', '--module'],
  ['--orc', '--uaccess', '--stackval'],
  // Debian's module command line (and the corpus parity's 'full' set).
  ['--hacks=jump_label', '--hacks=noinstr', '--hacks=skylake', '--ibt', '--orc', '--retpoline', '--rethunk', '--sls', '--static-call', '--uaccess', '--prefix=16', '--link', '--module'],
  // vmlinux.o's actions.
  ['--orc', '--link', '--noinstr', '--ibt', '--unret', '--mcount', '--mnop', '--hacks=jump_label', '--hacks=noinstr', '--static-call', '--uaccess'],
  ['--orc', '--retpoline', '--rethunk', '--sls', '--static-call', '--mcount', '--format=json', '--backtrace', '--verbose', '--sec-address', '--stats'],
  // 7.x's own options (6.x layouts refuse some: that is an answer too).
  ['--orc', '--link', '--prefix=16', '--cfi', '--fineibt', '--noabs', '--klp-symids', '--werror', '--backup'],
  ['--disas', '--wide', '--no-unreachable', '--dry-run', '--stackval'],
];

/** undefined: the layout detected from the object. */
export const KERNELS: readonly (string | undefined)[] = [undefined, ...LAYOUT_NAMES];

/** The command line byte `b` selects, the file last. */
export function checkArgs(b: number, file: string): string[] {
  const flags = FLAG_SETS[b % FLAG_SETS.length]!;
  const kernel = KERNELS[Math.floor(b / FLAG_SETS.length) % KERNELS.length];
  return [...flags, ...(kernel ? [`--kernel=${kernel}`] : []), file];
}

export function fuzz(data: Buffer): void {
  if (data.length < 1) return;
  const file = inputFile(data.subarray(1));
  expectTyped(() => runCheckCommand(checkArgs(data[0]!, file), SINK));
}
