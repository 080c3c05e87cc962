// SPDX-License-Identifier: GPL-2.0-only
// What the fuzz targets (src/fuzz/<target>.ts, run by Jazzer.js through scripts/fuzz.sh) share:
// a scratch directory of this process where each input is written as a file, output sinks, and
// the judgement. orctool's own typed errors (OrctoolError and what extends it, UsageError: what
// main prints as `orctool: error: ...`) are expected answers to bad input and are swallowed;
// anything else thrown (what main would print as an internal error) escapes to Jazzer, which
// saves the input as a finding. Hangs (Jazzer's --timeout) and running out of memory (libFuzzer's
// -rss_limit_mb, V8's heap limit) are findings too.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../cli/error-line.js';

// The run must not depend on the caller's environment: objtool's variables and kbuild's (which
// name the kernel being built) are dropped, and the resident server is never involved (the
// targets call the commands in-process).
for (const v of ['OBJTOOL_ARGS', 'OBJTOOL_VERBOSE', 'VERSION', 'PATCHLEVEL', 'SUBLEVEL', 'srctree', 'ORCTOOL_PHASES', 'ORCTOOL_DEBUG']) delete process.env[v];

// Under scripts/fuzz.sh Node runs through a dynamic loader, which is then its process.execPath
// and argv[0]; libFuzzer's subprocesses (-minimize_crash) are started from a script Jazzer.js
// writes from argv: it must name the wrapper that runs Node so (set before fuzzing starts).
if (process.env['ORCTOOL_FUZZ_NODE']) process.argv[0] = process.env['ORCTOOL_FUZZ_NODE'];

let dir: string | undefined;

/**
 * This process's scratch directory: ORCTOOL_FUZZ_SCRATCH (scripts/fuzz.sh makes one in /dev/shm
 * and removes it after the run: libFuzzer may end the process without Node's exit handlers), else
 * a new temporary directory removed at exit.
 */
export function scratchDir(): string {
  if (dir === undefined) {
    const given = process.env['ORCTOOL_FUZZ_SCRATCH'];
    if (given) {
      mkdirSync(given, { recursive: true });
      dir = given;
    } else {
      const d = mkdtempSync(join(tmpdir(), 'orctool-fuzz-'));
      dir = d;
      process.on('exit', () => rmSync(d, { recursive: true, force: true }));
    }
  }
  return dir;
}

/** The input as a fresh file `name` in an emptied scratch directory (what a command left last time removed); its path. */
export function inputFile(data: Uint8Array, name = 'input.o'): string {
  const d = scratchDir();
  for (const f of readdirSync(d)) rmSync(join(d, f), { recursive: true, force: true });
  const path = join(d, name);
  writeFileSync(path, data);
  return path;
}

/** A path in the scratch directory for a command's output file. */
export function outputPath(name = 'output.o'): string {
  return join(scratchDir(), name);
}

/** Output sinks that keep nothing (the text is built, which is what matters). */
export const SINK = { stdout: (_: string) => {}, stderr: (_: string) => {} };

/** Run `fn`; a typed orctool error is an expected outcome, anything else is rethrown as a finding. */
export function expectTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (isUserError(e)) return;
    throw e;
  }
}
