// SPDX-License-Identifier: GPL-2.0-only
// Fuzz target `explain`: `orctool explain FILE FUNC+OFF [--html]` (runExplainCommand, in-process)
// on the input written as an object file. The location is one of the object's own alternative
// sites (the site number input length modulo the sites, named by the function that holds it), or
// its first function when it has none; every other input length asks for the HTML rendering.
import { ElfFile } from '../elf/reader.js';
import { STT_FUNC } from '../elf/constants.js';
import { detectLayout } from '../kernel/detect.js';
import { specialGetAlts } from '../kernel/alternatives.js';
import { SymbolIndex } from '../analysis/symbols.js';
import { runExplainCommand } from '../cli/explain-command.js';
import { expectTyped, inputFile, SINK } from './harness.js';

/** FUNC+OFF of an alternative site of the object (or its first function), undefined if none can be named. */
export function explainLocation(data: Uint8Array, pick: number): string | undefined {
  let where: string | undefined;
  expectTyped(() => {
    const elf = ElfFile.fromBytes(data, 'fuzz.o');
    const syms = new SymbolIndex(elf);
    const named: string[] = [];
    expectTyped(() => {
      const layout = detectLayout(elf, {}).layout;
      for (const a of specialGetAlts(elf, layout)) {
        if (a.kind !== 'alternative' || a.origSec === 0) continue;
        const f = syms.findFuncContaining(a.origSec, a.origOff);
        if (f && f.name) named.push(`${f.name}+0x${(a.origOff - f.offset).toString(16)}`);
      }
    });
    if (named.length) where = named[pick % named.length];
    else where = syms.all.find((s) => s.type === STT_FUNC && s.name !== '' && s.sec !== 0)?.name;
  });
  return where;
}

export function fuzz(data: Buffer): void {
  const where = explainLocation(data, data.length) ?? 'init_module+0x0';
  const file = inputFile(data);
  expectTyped(() => runExplainCommand([file, where, ...(data.length & 1 ? ['--html'] : [])], SINK));
}
