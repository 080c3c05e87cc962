// SPDX-License-Identifier: GPL-2.0-only
// Fuzz target `verify`: `orctool verify --coverage FILE` (runVerifyCommand, in-process) on the
// input written as an object file: the ORC table checked against every patched variant of the
// code by the frame interpreter, then the analysis' walk for the coverage figures.
import { runVerifyCommand } from '../cli/verify-command.js';
import { expectTyped, inputFile, SINK } from './harness.js';

export function fuzz(data: Buffer): void {
  const file = inputFile(data);
  expectTyped(() => runVerifyCommand(['--coverage', file], SINK));
}
