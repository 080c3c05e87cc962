// SPDX-License-Identifier: GPL-2.0-only
// The checks of the speculation mitigations, over every instruction in file order (objtool's
// for_each_insn()): --retpoline's validate_retpoline() (indirect branches and, with --rethunk,
// bare returns outside .init text) and --sls's validate_sls() (an INT3 after every return and
// indirect jump). Instructions marked retpoline-safe (annotations, thunk calls turned into
// returns) are exempt from both.
import { STT_FUNC, STT_NOTYPE } from '../elf/constants.js';
import { InsnType as T } from '../x86/index.js';
import { Insn } from './insn.js';
import type { ObjFile } from './objfile.js';

export function validateRetpoline(file: ObjFile): number {
  let warnings = 0;
  for (const cs of file.codeSections) {
    if (cs.init) continue;
    const { type } = cs.a;
    for (let pos = 0; pos < cs.ds.count; pos++) {
      const t = type[pos];
      if (t !== T.JUMP_DYNAMIC && t !== T.CALL_DYNAMIC && t !== T.RETURN) continue;
      const insn = new Insn(cs, pos);
      if (insn.retpolineSafe) continue;
      if (t === T.RETURN) {
        if (!file.opts.rethunk) continue;
        file.warnInsn(insn, `'naked' return found in ${file.layout.messages.rethunkBuild}`);
      } else {
        file.warnInsn(insn, `indirect ${t === T.JUMP_DYNAMIC ? 'jump' : 'call'} found in ${file.layout.messages.retpolineBuild}`);
      }
      warnings++;
    }
  }
  if (file.opts.cfi && file.layout.cfi === 'grow') warnings += validateKcfiCalls(file);
  return warnings;
}

/**
 * 7.x --retpoline with --cfi: a retpoline call in a function must be a kCFI call, whose hash
 * check ends in a UD2 just before it, unless the function is ANNOTATE_NOCFI_SYM.
 */
function validateKcfiCalls(file: ObjFile): number {
  let warnings = 0;
  for (const insn of file.retpolineSites) {
    const sym = insn.sym;
    if (!sym || (sym.type !== STT_NOTYPE && sym.type !== STT_FUNC) || sym.nocfi) continue;
    const prev = file.prevInsnSameSym(insn);
    if (prev && prev.type === T.BUG) continue;
    file.warnInsn(insn, 'no-cfi indirect call!');
    warnings++;
  }
  return warnings;
}

export function validateSls(file: ObjFile): number {
  let warnings = 0;
  for (const cs of file.codeSections) {
    const { type } = cs.a;
    const n = cs.ds.count;
    for (let pos = 0; pos < n; pos++) {
      const t = type[pos];
      if (t !== T.RETURN && t !== T.JUMP_DYNAMIC) continue;
      const insn = new Insn(cs, pos);
      if (insn.retpolineSafe) continue;
      if (pos + 1 < n && type[pos + 1] === T.TRAP) continue;
      file.warnInsn(insn, t === T.RETURN ? 'missing int3 after ret' : 'missing int3 after indirect jump');
      warnings++;
    }
  }
  return warnings;
}
