// SPDX-License-Identifier: GPL-2.0-only
// A full garbage collection on request, for the few points where a big run has just let go of
// most of its memory (the walk's state of vmlinux.o, ~100-200 MB) and is about to allocate
// again: V8 would collect it only later, after the process has grown by what comes next.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Instructions from which a run collects at those points (a module's are freed soon enough). */
export const COLLECT_FROM_INSNS = 1_000_000;

export function collectGarbage(): void {
  if (!gc) {
    // (the flag exposes gc() to contexts made after it is set)
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
