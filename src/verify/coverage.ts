// SPDX-License-Identifier: GPL-2.0-only
// What share of the code the kernel can run `verify` really checked. The denominator does not
// come from verify's own walk (that would hide what it misses): it is every instruction the
// analysis' walk reaches (objtool's validate_branch(), hints and alternatives included) that
// gets a defined ORC entry, i.e. a CALL, REGS or REGS_PARTIAL state. Each such instruction of
// the original code is checked (compared with the entry orc_find() picks), unverified for a
// named reason, or not reached by verify's walk at all: the last is a hole in verify.
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout } from '../kernel/versions.js';
import { check } from '../analysis/check.js';
import { defaultOptions } from '../analysis/options.js';
import { CFI_UNDEFINED, UnwindType } from '../analysis/cfi.js';
import { VISITED_BRANCH_MASK } from '../analysis/insn.js';
import { CHECKED, type CoverageMap } from './verify.js';

export const NOT_WALKED = 'not reached by verify';

export interface Coverage {
  /** Instructions that can execute with a defined ORC entry (the denominator). */
  canExecute: number;
  checked: number;
  /** The others, by reason (NOT_WALKED among them). */
  unverified: Record<string, number>;
  /** A few of the instructions verify did not reach, as func+0xoff. */
  notWalkedSamples: string[];
  /** The analysis stopped on a fatal problem: no denominator. */
  analysisFailed: boolean;
}

/** Whether the object was linked as a module (kbuild's --module), from what modpost adds. */
function isModule(elf: ElfFile): boolean {
  return elf.sectionByName('.gnu.linkonce.this_module') !== undefined || elf.sectionByName('.modinfo') !== undefined;
}

export function coverage(elf: ElfFile, layout: KernelLayout, cover: CoverageMap, path: string): Coverage {
  const out: Coverage = { canExecute: 0, checked: 0, unverified: {}, notWalkedSamples: [], analysisFailed: false };
  const opts = { ...defaultOptions(), stackval: true, link: true, module: isModule(elf) };
  const res = check(elf, layout, opts, path, () => {});
  if (res.fatal) {
    out.analysisFailed = true;
    return out;
  }
  const file = res.file;
  for (const cs of file.codeSections) {
    if (!cs.text) continue;
    const { offset, count } = cs.ds;
    const { visited, cfi } = cs.a;
    const seen = cover.get(cs.index);
    for (let k = 0; k < count; k++) {
      if (!(visited[k]! & VISITED_BRANCH_MASK) || cfi[k]! < 0) continue;
      const c = cs.cfis.byId(cfi[k]!);
      if (c.type !== UnwindType.CALL && c.type !== UnwindType.REGS && c.type !== UnwindType.REGS_PARTIAL) continue;
      if (c.end || c.forceUndefined || c.cfa.base === CFI_UNDEFINED) continue;
      out.canExecute++;
      const st = seen?.get(offset[k]!);
      if (st === CHECKED) out.checked++;
      else {
        const why = st ?? NOT_WALKED;
        out.unverified[why] = (out.unverified[why] ?? 0) + 1;
        if (st === undefined && out.notWalkedSamples.length < 20) out.notWalkedSamples.push(file.offstr(cs.index, offset[k]!).text);
      }
    }
  }
  return out;
}
