// SPDX-License-Identifier: GPL-2.0-only
// --unret (objtool validate_unrets()): from every instruction annotated UNRET_BEGIN, each path
// must reach the return-thunk untraining (a call that returns, or VALIDATE_UNRET_END's
// retpoline-safe NOP) before any RET or indirect branch. Calls are followed into their callee;
// a call that comes back is taken to have untrained. The walk has its own visited bit.
import { InsnType as T } from '../x86/index.js';
import { Insn, InsnBit, VISITED_UNRET } from './insn.js';
import type { ObjFile } from './objfile.js';
import { FatalCheckError } from './objfile.js';
import { isSiblingCall } from './passes.js';
import { nextInsnToValidate } from './validate.js';

/** A walk that cannot go on: -1 up to 6.12 (fatal), 1 from 7.x. */
function deadEnd(file: ObjFile): number {
  return file.layout.check.unretDeadEndsFatal ? -1 : 1;
}

function walk(file: ObjFile, start: Insn): number {
  const byGroup = file.layout.check.altSkip === 'group';
  for (let insn: Insn = start; ;) {
    const next = nextInsnToValidate(file, insn);
    if (insn.visited & VISITED_UNRET) return 0;
    insn.visited |= VISITED_UNRET;
    const alts = insn.alts;
    // Up to 6.12 an ignored original follows no alternatives, and a skip_orig one only them.
    if (alts && (byGroup || !insn.ignoreAlts)) {
      let skipOrig = false;
      for (const alt of alts) {
        if (!byGroup && alt.skipOrig) skipOrig = true;
        const r = walk(file, alt.insn);
        if (r) {
          file.backtrace(insn, '(alt)');
          return r;
        }
      }
      if (skipOrig) return 0;
    }
    // A sibling call is followed as a call.
    const type = (insn.type === T.JUMP_UNCONDITIONAL || insn.type === T.JUMP_CONDITIONAL) && isSiblingCall(file, insn) ? T.CALL : insn.type;
    switch (type) {
      case T.CALL_DYNAMIC:
      case T.JUMP_DYNAMIC:
      case T.JUMP_DYNAMIC_CONDITIONAL:
        file.warnInsn(insn, 'early indirect call');
        return 1;
      case T.JUMP_UNCONDITIONAL:
      case T.JUMP_CONDITIONAL: {
        const dest = insn.jumpDest;
        if (!dest) {
          file.warnInsn(insn, 'unresolved jump target after linking?!?');
          return deadEnd(file);
        }
        const r = walk(file, dest);
        if (r) {
          file.backtrace(insn, `(branch${type === T.JUMP_CONDITIONAL ? '-cond' : ''})`);
          return r;
        }
        if (type === T.JUMP_UNCONDITIONAL) return 0;
        break;
      }
      case T.CALL: {
        const callee = insn.callDest!;
        const dest = file.findInsn(callee.sec, callee.offset);
        if (!dest) {
          file.warn(`Unresolved function after linking!?: ${callee.name}`);
          return deadEnd(file);
        }
        const r = walk(file, dest);
        if (r) {
          file.backtrace(insn, '(call)');
          return r;
        }
        // A call that comes back has untrained.
        return 0;
      }
      case T.RETURN:
        file.warnInsn(insn, 'RET before UNTRAIN');
        return 1;
      case T.CONTEXT_SWITCH:
        if (insn.func) break;
        return 0;
      case T.SYSCALL:
        break;
      case T.SYSRET:
        return 0;
      case T.NOP:
        if (insn.retpolineSafe) return 0;
        break;
      default:
        break;
    }
    if (insn.deadEnd) return 0;
    if (!next) {
      file.warnInsn(insn, 'teh end!');
      return deadEnd(file);
    }
    insn = next;
  }
}

/** Every walk from an UNRET_BEGIN annotation, in file order; returns the warnings. */
export function validateUnrets(file: ObjFile): number {
  let warnings = 0;
  for (const cs of file.codeSections) {
    const { flags } = cs.a;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if (!(flags[pos]! & InsnBit.UNRET)) continue;
      const insn = new Insn(cs, pos);
      const r = walk(file, insn);
      if (r < 0) {
        file.warnInsn(insn, 'Failed UNRET validation');
        throw new FatalCheckError('Failed UNRET validation');
      }
      warnings += r;
    }
  }
  return warnings;
}
