// SPDX-License-Identifier: GPL-2.0-only
// Fuzz target `dump`: `orctool --dump=orc FILE` (runCheckCommand, in-process) on the input
// written as an object file: the ORC tables and their relocations read as objtool's dump reads them.
import { runCheckCommand } from '../cli/check-command.js';
import { expectTyped, inputFile, SINK } from './harness.js';

export function fuzz(data: Buffer): void {
  const file = inputFile(data);
  expectTyped(() => runCheckCommand(['--dump=orc', file], SINK));
}
