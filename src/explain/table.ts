// SPDX-License-Identifier: GPL-2.0-only
// The per-offset table of one alternative site, as drawn in the founding thread: a column per
// stream (the original and each replacement, headed with its feature and flags), a row per byte
// offset where some stream has an instruction, each cell that instruction and the CFA before it
// (the state after the stream's prior instructions), then the merged state ORC records.
import { cfiEqual } from '../analysis/cfi-state.js';
import { CFI_BP_INDIRECT, CFI_CFA, CFI_SP_INDIRECT, CFI_UNDEFINED, type CfiState, UnwindType } from '../analysis/cfi.js';
import type { AltGroup, Insn } from '../analysis/insn.js';
import type { ObjFile } from '../analysis/objfile.js';
import { featureName } from '../patch/apply.js';
import type { SpecialAlt } from '../kernel/alternatives.js';
import { formatInstructions } from '../x86/index.js';

export interface Cell {
  insn: string;
  state: string;
}

export interface Stream {
  /** `original`, or the replacement's condition: `!XENPV`, `ALWAYS (direct call)`, ... */
  title: string;
  cells: Map<number, Cell>;
  /**
   * Its states went to a CFI array of its own, not the one ORC is made from: up to Linux 6.2
   * objtool gave every .altinstructions entry its own original group and the original kept the
   * last one, so an earlier entry of an ALTERNATIVE_2 is not in the table.
   */
  lost?: boolean;
}

export interface SiteTable {
  /** `func+0xoff` of the site. */
  location: string;
  length: number;
  streams: Stream[];
  /** Offsets with a row, ascending. */
  offsets: number[];
  merged: Map<number, string>;
  /** Offsets where two streams stop with different states. */
  conflicts: Set<number>;
}

const REG_NAMES = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

function signed(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** A state in the words of `objtool --dump=orc`: CFA, where %rbp was saved, the unwind type. */
export function describeCfi(c: CfiState | undefined): string {
  if (!c) return '';
  if (c.forceUndefined || c.type === UnwindType.UNDEFINED) return 'undefined';
  if (c.type === UnwindType.END_OF_STACK) return 'end of stack';
  const base = c.cfa.base;
  let cfa: string;
  if (base === CFI_UNDEFINED) cfa = '(und)';
  else if (base === CFI_SP_INDIRECT) cfa = `(sp)${signed(c.cfa.offset)}`;
  else if (base === CFI_BP_INDIRECT) cfa = `(bp${signed(c.cfa.offset)})`;
  else cfa = `${REG_NAMES[base] ?? `r${base}`}${signed(c.cfa.offset)}`;
  const bp = c.regs[5]!;
  const bpText = bp.base === CFI_CFA ? ` bp:prevsp${signed(bp.offset)}` : bp.base === 5 ? ` bp:bp${signed(bp.offset)}` : '';
  const type = c.type === UnwindType.REGS ? ' regs' : c.type === UnwindType.REGS_PARTIAL ? ' regs (partial)' : '';
  return `sp:${cfa}${bpText}${type}`;
}

/** An instruction in AT&T syntax, with what a relocation makes of its operand (as objdump -dr). */
export function insnText(file: ObjFile, insn: Insn): string {
  if (insn.pos < 0) return `(filler nop, ${insn.len} bytes)`;
  let text = formatInstructions(insn.sec.elf.data.subarray(insn.offset, insn.offset + insn.len), insn.offset)[0]?.text ?? '?';
  const r = file.insnReloc(insn);
  if (r) {
    const a = r.table.addend(r.i);
    text += ` <${file.relocSym(r).name}${a < 0 ? `-0x${(-a).toString(16)}` : a ? `+0x${a.toString(16)}` : ''}>`;
  }
  return text;
}

function streamInsns(file: ObjFile, g: AltGroup): Insn[] {
  const out: Insn[] = [];
  if (g.firstInsn.pos >= 0) {
    for (let i: Insn | undefined = g.firstInsn; i; i = file.nextInsnSameSec(i)) {
      out.push(i);
      if (i.is(g.lastInsn)) break;
    }
  }
  const nop = g.nop;
  if (nop && !out.some((i) => i.is(nop))) out.push(nop);
  return out;
}

function cellsOf(file: ObjFile, g: AltGroup): Map<number, Cell> {
  const cells = new Map<number, Cell>();
  const start = g.firstInsn.offset;
  for (const insn of streamInsns(file, g)) {
    cells.set(insn.offset - start, { insn: insnText(file, insn), state: insn.visited ? describeCfi(insn.cfi) : 'not reached' });
  }
  return cells;
}

/** The table of the alternative site containing `insn` (undefined when it is in none). */
export function siteTable(file: ObjFile, insn: Insn, entries: readonly SpecialAlt[]): SiteTable | undefined {
  const g0 = insn.altGroup;
  if (!g0) return undefined;
  const orig = g0.origGroup ?? g0;
  const site = orig.firstInsn;
  const length = orig.lastInsn.offset + orig.lastInsn.len - site.offset;
  const streams: (Stream & { order: number })[] = [{ title: 'original', cells: cellsOf(file, orig), order: -1 }];
  const groups: AltGroup[] = [orig];
  for (const alt of site.alts ?? []) {
    const g = alt.insn.altGroup;
    if (!g || !g.origGroup?.firstInsn.is(site)) continue;
    const e = entries.find((a) => a.kind === 'alternative' && a.origSec === site.sec.index && a.origOff === site.offset && a.newOff === g.firstInsn.offset &&
      (a.newLen === 0 ? g.firstInsn.pos < 0 : a.newSec === g.firstInsn.sec.index));
    const title = e ? `${e.not ? '!' : ''}${featureName(e.cpuid, file.layout)}${e.directCall ? ' (direct call)' : ''}` : 'replacement';
    const lost = g.origGroup !== orig;
    streams.push({ title, cells: cellsOf(file, g), order: e?.index ?? streams.length, ...(lost ? { lost } : {}) });
    // (a lost stream's states are shown, but do not take part in the table's conflicts)
    if (!lost) groups.push(g);
  }
  // Columns in .altinstructions order, the original first.
  streams.sort((a, b) => a.order - b.order);
  const offsets = new Set<number>();
  for (const s of streams) for (const o of s.cells.keys()) if (o < length) offsets.add(o);
  const merged = new Map<number, string>();
  orig.cfi.forEach((c, o) => {
    if (c) {
      merged.set(o, describeCfi(c));
      offsets.add(o);
    }
  });
  const conflicts = new Set<number>();
  for (const o of offsets) {
    const states: CfiState[] = [];
    for (const g of groups) for (const i of streamInsns(file, g)) if (i.offset - g.firstInsn.offset === o && i.cfi && i.visited) states.push(i.cfi);
    if (states.some((s) => !cfiEqual(s, states[0]!))) conflicts.add(o);
  }
  for (const c of file.conflicts) {
    if (!c.site.is(site)) continue;
    const g = c.at.altGroup;
    if (g) conflicts.add(c.at.offset - g.firstInsn.offset);
  }
  return {
    location: file.offstr(site.sec.index, site.offset).text, length, streams,
    offsets: [...offsets].sort((a, b) => a - b), merged, conflicts,
  };
}
