// SPDX-License-Identifier: GPL-2.0-only
// `orctool explain` for a warning that is not about an alternative site: how the walk got there.
// After stack validation every instruction it reached carries the state it recorded; a warning's
// instruction is explained by a shortest path through reached instructions from the function's
// entry (or an unwind hint) to it, each step with its instruction and its state in named
// registers, and the branches taken. Per kind of warning:
//  - a stack state mismatch: the paths from the two predecessors that bring different states,
//    the one whose state was recorded first and the other;
//  - an unreachable instruction: the instructions before it and why the one before ends the
//    path (a return, a jump, a dead-end call, a BUG), and that nothing jumps to it;
//  - a fall-through: the function's last instructions and the function it runs into;
//  - anything else: the path to the instruction.
import type { ObjFile } from '../analysis/objfile.js';
import type { Insn } from '../analysis/insn.js';
import type { Sym } from '../analysis/symbols.js';
import type { Warning } from '../analysis/warnings.js';
import type { CfiState } from '../analysis/cfi.js';
import { cfiEqual, copyCfi } from '../analysis/cfi-state.js';
import { updateCfiState } from '../analysis/cfi-update.js';
import { InsnType } from '../x86/index.js';
import { describeCfi, insnText } from './table.js';

/** Where control can go after `insn`, as the walk goes (alternatives' streams left out). */
function successors(file: ObjFile, insn: Insn): { to: Insn; how: string }[] {
  const out: { to: Insn; how: string }[] = [];
  const t = insn.type;
  if ((t === InsnType.JUMP_CONDITIONAL || t === InsnType.JUMP_UNCONDITIONAL) && insn.jumpDest) out.push({ to: insn.jumpDest, how: 'jump taken' });
  for (const a of insn.alts ?? []) if (a.insn.pos >= 0 && !a.insn.is(insn)) out.push({ to: a.insn, how: 'alternative path' });
  const ends = t === InsnType.JUMP_UNCONDITIONAL || t === InsnType.RETURN || t === InsnType.JUMP_DYNAMIC || t === InsnType.CONTEXT_SWITCH ||
    t === InsnType.SYSRET || t === InsnType.BUG || t === InsnType.TRAP || insn.deadEnd;
  if (!ends) {
    const n = file.nextInsnSameSec(insn);
    if (n) out.push({ to: n, how: t === InsnType.JUMP_CONDITIONAL ? 'not taken' : '' });
  }
  return out;
}

function inFunction(insn: Insn, fn: Sym | undefined): boolean {
  const f = insn.func;
  return !fn || f === fn || f?.pfunc === fn || f === fn.cfunc;
}

/**
 * Shortest path (by instructions) from the function's entry or a hinted instruction to `target`
 * through reached instructions; each step with how it was left. Undefined when none is found.
 */
export function pathTo(file: ObjFile, target: Insn, fn: Sym | undefined): { insn: Insn; how: string }[] | undefined {
  const starts: Insn[] = [];
  if (fn) {
    const e = file.findInsn(fn.sec, fn.offset);
    if (e) starts.push(e);
  }
  // (code only a hint leads to starts at the hint)
  for (let i = fn ? file.findInsn(fn.sec, fn.offset) : target; i && inFunction(i, fn); i = file.nextInsnSameSec(i)) {
    if (i.hint && !starts.some((s) => s.is(i))) starts.push(i);
    if (fn && i.offset >= fn.offset + fn.len) break;
  }
  const key = (i: Insn) => `${i.sec.index}:${i.offset}`;
  const parent = new Map<string, { from: Insn; how: string } | null>();
  const queue: Insn[] = [];
  for (const s of starts) {
    if (!s.visited) continue;
    parent.set(key(s), null);
    queue.push(s);
  }
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    if (i.is(target)) {
      const path: { insn: Insn; how: string }[] = [];
      for (let at: Insn | undefined = i, how = ''; at; ) {
        path.unshift({ insn: at, how });
        const p = parent.get(key(at));
        if (!p) break;
        how = p.how;
        at = p.from;
      }
      return path;
    }
    for (const s of successors(file, i)) {
      if (!s.to.visited || parent.has(key(s.to)) || !inFunction(s.to, fn)) continue;
      parent.set(key(s.to), { from: i, how: s.how });
      queue.push(s.to);
    }
    if (queue.length > 200_000) break;
  }
  return undefined;
}

/** A state in named registers: where the CFA is, and where the caller's %rbp was saved. */
function named(c: CfiState | undefined): string {
  if (!c) return 'not reached';
  return describeCfi(c)
    .replace(/^sp:(sp|bp)/, (_, r: string) => `cfa=%r${r}`)
    .replace(/^sp:/, 'cfa=')
    .replace(/ bp:prevsp([+-]\d+)/, ', %rbp saved at cfa$1')
    .replace(/ bp:bp([+-]\d+)/, ', %rbp saved at %rbp$1');
}

function where(file: ObjFile, insn: Insn): string {
  return file.offstr(insn.sec.index, insn.offset).text;
}

function stepLine(file: ObjFile, insn: Insn, how: string): string {
  const state = insn.visited ? named(insn.cfi) : 'not reached';
  return `  ${where(file, insn).padEnd(32)} ${insnText(file, insn).padEnd(40)} ${state.padEnd(36)}${how ? ` -> ${how}` : ''}`.trimEnd();
}

function showPath(file: ObjFile, path: { insn: Insn; how: string }[], limit = 40): string[] {
  const shown = path.length > limit ? [...path.slice(0, 4), undefined, ...path.slice(-(limit - 5))] : path;
  return shown.map((s) => (s ? stepLine(file, s.insn, s.how) : `  ... (${path.length - limit + 1} instructions)`));
}

/** The instructions whose walk continues to `target`. */
function predecessors(file: ObjFile, target: Insn, fn: Sym | undefined): Insn[] {
  const out: Insn[] = [];
  const p = file.prevInsnSameSec(target);
  if (p && p.visited && successors(file, p).some((s) => s.to.is(target))) out.push(p);
  // Jumps to it: from anywhere in the function.
  const first = fn ? file.findInsn(fn.sec, fn.offset) : undefined;
  for (let i = first; i && inFunction(i, fn); i = file.nextInsnSameSec(i)) {
    if (i.visited && !i.is(p) && successors(file, i).some((s) => s.to.is(target))) out.push(i);
  }
  return out;
}

/** The explanation of one warning at `insn` (text lines). */
export function explainWarning(file: ObjFile, w: Warning, insn: Insn | undefined, fn: Sym | undefined): string[] {
  const out: string[] = [];
  const fnName = fn?.name ?? '(no function)';
  if (/falls through to next function/.test(w.message) && fn) {
    out.push(`${fnName} ends without a return or a jump: its last instructions run on into the next function.`);
    let last: Insn | undefined;
    for (let i = file.findInsn(fn.sec, fn.offset); i && i.offset < fn.offset + fn.len; i = file.nextInsnSameSec(i)) last = i;
    const tail: Insn[] = [];
    for (let i = last; i && tail.length < 6 && i.offset >= fn.offset; i = file.prevInsnSameSec(i)) tail.unshift(i);
    out.push(...tail.map((i) => stepLine(file, i, '')));
    const next = last ? file.nextInsnSameSec(last) : undefined;
    if (next) out.push(`  then: ${stepLine(file, next, '').trimStart()}`);
    return out;
  }
  if (!insn) return [`(no instruction at the warning's location to explain)`];
  if (/unreachable instruction/.test(w.message)) {
    out.push(`No path of the walk reaches ${where(file, insn)}: no jump leads here, and the instruction before does not go on.`);
    const before: Insn[] = [];
    for (let i = file.prevInsnSameSec(insn); i && before.length < 5; i = file.prevInsnSameSec(i)) before.unshift(i);
    out.push(...before.map((i) => stepLine(file, i, '')), stepLine(file, insn, ''));
    const p = before.at(-1);
    if (p) {
      const t = p.type;
      const why = t === InsnType.RETURN ? 'a return' : t === InsnType.JUMP_UNCONDITIONAL ? 'an unconditional jump'
        : t === InsnType.JUMP_DYNAMIC ? 'an indirect jump' : t === InsnType.BUG ? 'a BUG trap (ud2) without REACHABLE annotation'
        : t === InsnType.CALL && p.callDest ? `a call to ${p.callDest.name}(), which does not return` : p.deadEnd ? 'a dead end' : 'an instruction the walk never reached';
      out.push(`The instruction before, ${where(file, p)}, is ${why}.`);
    }
    return out;
  }
  if (/stack state mismatch/.test(w.message)) {
    const preds = predecessors(file, insn, fn);
    out.push(`Two paths reach ${where(file, insn)} with different stack states. The state recorded first: ${named(insn.cfi)}.`);
    // Each predecessor's state after it runs: the one that differs from the recorded state is
    // the second path's.
    const after = (p: Insn): CfiState | undefined => {
      if (!p.cfi) return undefined;
      const c = copyCfi(p.cfi);
      for (const op of p.ops) updateCfiState(c, op, { inFunc: true, nextHasHint: false, stackval: false });
      return c;
    };
    const other = preds.find((p) => { const a = after(p); return a && insn.cfi && !cfiEqual(a, insn.cfi); });
    if (other) out.push(`The other path brings ${named(after(other))}.`);
    const first = preds.find((p) => p !== other);
    for (const [label, p] of [['first path', first], ['second path', other]] as const) {
      if (!p) continue;
      const path = pathTo(file, p, fn);
      out.push(`${label}, through ${where(file, p)}:`);
      if (path) out.push(...showPath(file, path.map((s, k) => (k === path.length - 1 ? { ...s, how: `to ${where(file, insn)}` } : s))));
    }
    out.push(stepLine(file, insn, ''));
    return out;
  }
  const path = pathTo(file, insn, fn);
  if (!path) return [`No reached path from ${fnName}'s entry to ${where(file, insn)} was found.`];
  out.push(`The path from ${fnName}'s entry to ${where(file, insn)} (state before each instruction):`);
  out.push(...showPath(file, path));
  return out;
}
