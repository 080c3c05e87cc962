// SPDX-License-Identifier: GPL-2.0-only
// Alternatives of every kind attached to instructions (objtool add_special_section_alts() with
// handle_group_alt() and handle_jump_alt()): each ALTERNATIVE replacement becomes an alternative
// group sharing the site's byte-offset CFI array, with a filler NOP when it is shorter than the
// original; jump labels and exception fixups become plain alternative paths.
import type { SpecialAlt } from '../kernel/alternatives.js';
import { InsnType } from '../x86/index.js';
import { groupLength, Insn, type AltGroup, type Alternative } from './insn.js';
import type { ObjFile } from './objfile.js';

/** Add a path to an instruction's list at the end this version's objtool adds it. */
export function addAlternative(file: ObjFile, insn: Insn, alt: Alternative): void {
  const list = (insn.alts ??= []);
  if (file.layout.check.altsOrder === 'prepend') list.unshift(alt);
  else list.push(alt);
}

function isStaticJump(t: number): boolean {
  return t === InsnType.JUMP_CONDITIONAL || t === InsnType.JUMP_UNCONDITIONAL;
}

function isJump(t: number): boolean {
  return isStaticJump(t) || t === InsnType.JUMP_DYNAMIC || t === InsnType.JUMP_DYNAMIC_CONDITIONAL;
}

function handleGroupAlt(file: ObjFile, alt: SpecialAlt, orig: Insn, newInsn: Insn | undefined): Insn {
  // 6.x: replacements of an ignored original are ignored; 7.x marks groups instead (see altSkip).
  const byGroup = file.layout.check.altSkip === 'group';
  const ignoreRepl = !byGroup && orig.ignoreAlts;
  // Up to 6.2 every entry builds its own original group (the instructions keep the last one).
  let origGroup = file.layout.check.altSharedOrigGroup ? orig.altGroup : undefined;
  if (!origGroup) {
    let last: Insn | undefined;
    for (let insn: Insn | undefined = orig; insn; insn = file.nextInsnSameSec(insn)) {
      if (insn.offset >= alt.origOff + alt.origLen) break;
      last = insn;
    }
    origGroup = { firstInsn: orig, lastInsn: last!, cfi: new Array(alt.origLen) };
    if (byGroup) origGroup.ignore = orig.ignoreAlts;
    for (let insn: Insn | undefined = orig; insn; insn = file.nextInsnSameSec(insn)) {
      insn.altGroup = origGroup;
      if (insn.is(last)) break;
    }
  } else {
    const len = groupLength(origGroup);
    if (len !== alt.origLen) file.fatalInsn(orig, `weirdly overlapping alternative! ${len} != ${alt.origLen}`);
  }

  const group: AltGroup = { origGroup, firstInsn: orig, lastInsn: orig, cfi: origGroup.cfi };
  if (byGroup && newInsn && alt.newLen) group.ignore = newInsn.ignoreAlts;
  let nop: Insn | undefined;
  if (alt.newLen < alt.origLen) {
    // The filler NOP carries the state after the replacement's last instruction into the array.
    // An empty replacement has no section of its own: the NOP only needs one for messages.
    const sec = file.code[alt.newSec] ?? orig.sec;
    nop = Insn.filler(sec, alt.newOff + alt.newLen, alt.origLen - alt.newLen, InsnType.NOP);
    nop.sym = orig.sym;
    nop.altGroup = group;
    nop.ignore = ignoreRepl;
  }
  if (alt.newLen === 0) {
    group.firstInsn = nop!;
    group.lastInsn = nop!;
    group.nop = nop;
    return nop!;
  }

  let last: Insn | undefined;
  for (let insn: Insn | undefined = newInsn; insn; insn = file.nextInsnSameSec(insn)) {
    if (insn.offset >= alt.newOff + alt.newLen) break;
    last = insn;
    insn.ignore = ignoreRepl;
    insn.sym = orig.sym;
    insn.altGroup = group;
    // Up to 6.3 the kernel re-targets only a branch at the replacement's start
    // (arch_support_alt_relocation()); from 6.4 every relocation.
    if (file.layout.check.altRelocsOnlyBranchAtStart && file.insnReloc(insn) &&
        !(insn.offset === alt.newOff && (insn.type === InsnType.CALL || isJump(insn.type)))) {
      file.fatalAt(insn.sec.index, insn.offset, 'unsupported relocation in alternatives section');
    }
    if (!isStaticJump(insn.type) || insn.immediate === 0) continue;
    const dest = insn.offset + insn.len + insn.immediate;
    if (dest === alt.newOff + alt.newLen) {
      // A jump to the end of the replacement lands after the original once patched.
      insn.jumpDest = file.nextInsnSameSec(origGroup.lastInsn);
      if (!insn.jumpDest) file.fatalInsn(insn, "can't find alternative jump destination");
    }
  }
  if (!last) file.fatalAt(alt.newSec, alt.newOff, "can't find last new alternative instruction");
  group.firstInsn = newInsn!;
  group.lastInsn = last;
  group.nop = nop;
  return newInsn!;
}

function handleJumpAlt(file: ObjFile, alt: SpecialAlt, orig: Insn, target: Insn | undefined): Insn | undefined {
  if (orig.type !== InsnType.JUMP_UNCONDITIONAL && orig.type !== InsnType.NOP) {
    file.fatalInsn(orig, 'unsupported instruction at jump label');
  }
  if (file.opts.hackJumpLabel && (alt.keyAddend & 2)) {
    file.jumpLabelNops.push(orig);
    orig.type = InsnType.NOP;
  }
  // A NOP site may jump to the target; a JMP site may fall through instead.
  if (orig.type === InsnType.NOP) return target;
  return file.nextInsnSameSec(orig);
}

/** Attach every alternative, jump label and exception fixup to its original instruction. */
export function addSpecialSectionAlts(file: ObjFile, alts: readonly SpecialAlt[]): void {
  for (const alt of alts) {
    const orig = file.findInsn(alt.origSec, alt.origOff);
    if (!orig) file.fatalAt(alt.origSec, alt.origOff, "special: can't find orig instruction");
    let newInsn: Insn | undefined;
    if (alt.kind !== 'alternative' || alt.newLen) {
      newInsn = file.findInsn(alt.newSec, alt.newOff);
      if (!newInsn) file.fatalAt(alt.newSec, alt.newOff, "special: can't find new instruction");
    }
    if (alt.kind === 'alternative') {
      if (!alt.origLen) {
        file.warnInsn(orig, 'empty alternative entry', file.layout.severity.nowFatal.emptyAlternativeIsError ? 'error' : undefined);
        continue;
      }
      newInsn = handleGroupAlt(file, alt, orig, newInsn);
    } else if (alt.kind === 'jump_label') {
      newInsn = handleJumpAlt(file, alt, orig, newInsn);
    }
    // The SMAP and POPCNT special cases went in 7.x.
    const byFeature = file.layout.check.altSkip === 'insn';
    addAlternative(file, orig, { insn: newInsn!, skipOrig: byFeature && alt.skipOrig });
    if (byFeature && alt.skipAlt) orig.ignoreAlts = true;
  }
}
