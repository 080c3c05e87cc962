// SPDX-License-Identifier: GPL-2.0-only
// 7.x --disas[=pattern] and --trace <pattern>, in orctool's own rendering (objtool prints
// libopcodes' text, and Debian's build has no libopcodes): the functions whose names match the
// fnmatch() pattern, instruction by instruction in AT&T syntax; --wide adds the bytes; --trace
// adds the stack state the walk recorded at each instruction (or that none reached it).
import { STT_FUNC } from '../elf/constants.js';
import { formatInstructions } from '../x86/index.js';
import { CFI_BP_INDIRECT, CFI_CFA, CFI_SP_INDIRECT, CFI_UNDEFINED, type CfiState } from '../analysis/cfi.js';
import type { ObjFile } from '../analysis/objfile.js';
import type { Sym } from '../analysis/symbols.js';

/** fnmatch() without flags: `*`, `?` and `[...]` (with `!` or `^` negation). */
export function fnmatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let set = pattern.slice(i + 1, end);
        if (set[0] === '!') set = `^${set.slice(1)}`;
        re += `[${set.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's').test(name);
}

const REG_NAMES: Record<number, string> = {
  0: 'ax', 1: 'cx', 2: 'dx', 3: 'bx', 4: 'sp', 5: 'bp', 6: 'si', 7: 'di', 8: 'r8', 9: 'r9', 10: 'r10', 11: 'r11',
  12: 'r12', 13: 'r13', 14: 'r14', 15: 'r15',
};

function signed(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

/** A recorded state as text: the CFA and where the caller's frame pointer is. */
function describeState(cfi: CfiState): string {
  const base = cfi.cfa.base;
  const cfa = base === CFI_UNDEFINED ? 'cfa=(und)' : base === CFI_SP_INDIRECT ? `cfa=(sp)${signed(cfi.cfa.offset)}`
    : base === CFI_BP_INDIRECT ? `cfa=(bp${signed(cfi.cfa.offset)})` : `cfa=${REG_NAMES[base] ?? `r${base}`}${signed(cfi.cfa.offset)}`;
  const bp = cfi.regs[5]!;
  const bpText = bp.base === CFI_UNDEFINED ? 'bp=(und)' : bp.base === CFI_CFA ? `bp@cfa${signed(bp.offset)}` : `bp=${REG_NAMES[bp.base] ?? bp.base}${signed(bp.offset)}`;
  return `${cfa} ${bpText}`;
}

/** The matching functions (each once: aliases share one), in section and address order. */
function matching(file: ObjFile, pattern: string): Sym[] {
  const out: Sym[] = [];
  for (const cs of file.codeSections) {
    for (const f of file.syms.inSection(cs.index)) {
      if (f.type === STT_FUNC && f.alias === f && f.len > 0 && fnmatch(pattern, f.name)) out.push(f);
    }
  }
  return out;
}

export function printFunctions(file: ObjFile, pattern: string, how: { wide: boolean; trace: boolean }, out: (s: string) => void): void {
  for (const f of matching(file, pattern)) {
    const bytes = file.elf.section(f.sec)!.data.subarray(f.offset, f.offset + f.len);
    out(how.trace ? `${f.name}: validation begin\n` : `\n${f.name}:\n`);
    for (const i of formatInstructions(bytes, f.offset)) {
      const off = f.offset + i.offset;
      const raw = how.wide ? `${Buffer.from(bytes.subarray(i.offset, i.offset + i.length)).toString('hex').replace(/(..)/g, '$1 ').padEnd(33)}` : '';
      let line = `  ${f.name}+0x${i.offset.toString(16)}: ${raw}${i.text}`;
      if (how.trace) {
        const insn = file.findInsn(f.sec, off);
        const cfi = insn?.cfi;
        line = `${line.padEnd(72)} ${cfi ? describeState(cfi) : '(not reached)'}`;
      }
      out(`${line}\n`);
    }
  }
}
