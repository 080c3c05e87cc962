// SPDX-License-Identifier: GPL-2.0-only
// How an error becomes one line on stderr: shared by the entry point and by the per-file path
// of a batch (in a worker too), so a file that fails prints the same either way.
import { OrctoolError, UsageError } from '../errors.js';

/** Bad input or usage: the user's problem, reported without a stack. */
export function isUserError(e: unknown): e is OrctoolError | UsageError {
  return e instanceof OrctoolError || e instanceof UsageError;
}

/** The text (ending in a newline) main prints for an error before exiting 1. */
export function errorLine(e: unknown): string {
  if (isUserError(e)) return `orctool: error: ${e.message}\n`;
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = process.env.ORCTOOL_DEBUG ? `${err.stack}\n` : '';
  return `${stack}orctool: internal error: ${err.message} (set ORCTOOL_DEBUG=1 for a stack trace)\n`;
}
