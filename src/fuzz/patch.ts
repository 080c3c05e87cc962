// SPDX-License-Identifier: GPL-2.0-only
// Fuzz target `patch`: `orctool patch` (runPatchCommand, in-process) on the input written as an
// object file, twice: the listing of every site for a Xen PV guest with SMAP, and the object
// written patched (-o) for a CPU with none of the features.
import { runPatchCommand } from '../cli/patch-command.js';
import { expectTyped, inputFile, outputPath, SINK } from './harness.js';

export function fuzz(data: Buffer): void {
  const file = inputFile(data);
  expectTyped(() => runPatchCommand([file, '--features', 'XENPV,SMAP,ALWAYS'], SINK));
  expectTyped(() => runPatchCommand([file, '--features', '', '-o', outputPath()], SINK));
}
