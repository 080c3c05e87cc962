// SPDX-License-Identifier: GPL-2.0-only
// Test-only oracle: instruction boundaries of one section as GNU objdump sees them, to check
// the decoder against. orctool itself never runs objdump.
import { runTool } from '../testing/toolchain.js';

export interface ObjdumpBoundaries {
  /** Section offsets (objdump's addresses less the section's VMA). */
  offsets: number[];
  lengths: number[];
  /** objdump's text after the bytes ("push   %rbp", "(bad)", ...), for messages. */
  texts: string[];
}

/** An instruction line of `objdump -d -w`: "   1f:\t48 89 e5             \tmov    %rsp,%rbp". */
const INSN_LINE = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(?:\t(.*))?$/;

/** The VMA of `section` from `objdump -h -w` (0 in relocatable objects). */
function sectionVma(objPath: string, section: string): bigint {
  const r = runTool('objdump', ['-h', '-w', objPath]);
  if (r.status !== 0) throw new Error(`objdump -h ${objPath}: ${r.stderr}`);
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Idx Name Size VMA LMA File-off Algn Flags
    if (f.length >= 4 && /^\d+$/.test(f[0]) && f[1] === section) return BigInt('0x' + f[3]);
  }
  throw new Error(`objdump -h ${objPath}: no section ${section}`);
}

/**
 * Runs `objdump -d -z -w --section=<section>` on objPath and returns each instruction's
 * offset and length. -z keeps runs of zero bytes (objdump otherwise prints "..."), -w keeps
 * all bytes of an instruction on one line. When several sections share the name (COMDAT
 * groups), only the first is read.
 */
export function objdumpBoundaries(objPath: string, section: string): ObjdumpBoundaries {
  const vma = sectionVma(objPath, section);
  const r = runTool('objdump', ['-d', '-z', '-w', `--section=${section}`, objPath]);
  if (r.status !== 0) throw new Error(`objdump -d ${objPath} ${section}: ${r.stderr}`);
  const out: ObjdumpBoundaries = { offsets: [], lengths: [], texts: [] };
  let blocks = 0;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('Disassembly of section ')) {
      if (++blocks > 1) break;
      continue;
    }
    const m = INSN_LINE.exec(line);
    if (!m) continue;
    out.offsets.push(Number(BigInt('0x' + m[1]) - vma));
    out.lengths.push(m[2].length / 3);
    out.texts.push((m[3] ?? '').trim());
  }
  return out;
}
