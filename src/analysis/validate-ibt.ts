// SPDX-License-Identifier: GPL-2.0-only
// --ibt: every address of code taken by an instruction or by data must land on an ENDBR (objtool
// validate_ibt()), and every function-start ENDBR nothing takes the address of is listed for the
// kernel to seal (`.ibt_endbr_seal`, written by src/actions/ibt-seal.ts).
//
// The candidates are the ENDBRs at the start of functions (each function once: no aliases, no
// symbols inside another instruction), in section and address order as decode_instructions()
// meets them; a relocation to one marks it used. A relocation to code that is not an ENDBR warns,
// unless it stays within its function (_THIS_IP_), lands on an ANNOTATE_NOENDBR instruction or
// just past a symbol that starts with (no)endbr (a code range's end).
import { R_X86_64_PC32, R_X86_64_PLT32, STT_FUNC } from '../elf/constants.js';
import { InsnType as T } from '../x86/index.js';
import { Insn } from './insn.js';
import { noRelocIn, type ObjFile } from './objfile.js';

/** The seal candidates and what validation left of them. */
export interface EndbrSeal {
  /** Function-start ENDBRs in objtool's order; `used` ones are dropped when the table is written. */
  list: Insn[];
  used: Set<Insn>;
  /** ENDBRs inside functions (--stats). */
  inner: number;
  /** `list` by section index * 2^32 + position, for marking. */
  byKey: Map<number, Insn>;
}

const seals = new WeakMap<ObjFile, EndbrSeal>();

/** decode_instructions()' endbr_list, made once. */
export function endbrSeal(file: ObjFile): EndbrSeal {
  let s = seals.get(file);
  if (s) return s;
  s = { list: [], used: new Set(), inner: 0, byKey: new Map() };
  seals.set(file, s);
  const byKey = s.byKey;
  const notype = file.layout.check.decodeNotypeSymbols;
  // Only a function's first instruction starts at its address; the ENDBRs after it are counted
  // for --stats alone, so the bodies are scanned only then.
  const inner = file.opts.stats;
  for (const cs of file.codeSections) {
    const type = cs.a.type;
    for (const func of file.syms.inSection(cs.index)) {
      if (func.type !== STT_FUNC || func.offset === cs.size || (func.embeddedInsn && notype) || func.alias !== func) continue;
      const first = cs.posAt(func.offset);
      if (first < 0) continue;
      if (type[first] === T.ENDBR) {
        const key = cs.index * 2 ** 32 + first;
        if (!byKey.has(key)) {
          const insn = new Insn(cs, first);
          byKey.set(key, insn);
          s.list.push(insn);
        }
      }
      if (!inner) continue;
      const end = cs.posFrom(func.offset + func.len);
      for (let pos = first + 1; pos < end; pos++) if (type[pos] === T.ENDBR && !byKey.has(cs.index * 2 ** 32 + pos)) s.inner++;
    }
  }
  return s;
}

function markUsed(s: EndbrSeal, dest: Insn): void {
  const insn = s.byKey.get(dest.sec.index * 2 ** 32 + dest.pos);
  if (insn) s.used.add(insn);
}

/** noendbr_range(): `dest` is just past a symbol whose first instruction is ENDBR or ANNOTATE_NOENDBR. */
function noendbrRange(file: ObjFile, dest: Insn): boolean {
  const sym = file.syms.findSymbolContaining(dest.sec.index, dest.offset - 1);
  if (!sym) return false;
  const first = file.findInsn(sym.sec, sym.offset);
  if (!first || (first.type !== T.ENDBR && !first.noendbr)) return false;
  return dest.offset === sym.offset + sym.len;
}

/** Branches take no address; every other instruction's relocations are looked at (by type: 1). */
const BRANCH = new Uint8Array(32);
for (const t of [T.CALL, T.CALL_DYNAMIC, T.JUMP_CONDITIONAL, T.JUMP_UNCONDITIONAL, T.JUMP_DYNAMIC, T.JUMP_DYNAMIC_CONDITIONAL, T.RETURN, T.NOP]) BRANCH[t] = 1;

function validateInsn(file: ObjFile, s: EndbrSeal, insn: Insn): number {
  const r = file.insnReloc(insn);
  if (!r) return 0;
  let warnings = 0;
  for (const i of r.table.inRange(r.table.offset(r.i), insn.offset + insn.len)) {
    const sym = file.syms.all[r.table.sym(i)]!;
    // static_call_update() takes the trampoline's address, which has no ENDBR (up to 6.12).
    if (sym.staticCallTramp && file.layout.ibt.skipStaticCallTramp) continue;
    const type = r.table.type(i);
    const addend = r.table.addend(i);
    // A PC-relative operand counts from the instruction's end: 6.x takes the field to be its last
    // 4 bytes (arch_dest_reloc_offset()), 7.x measures (arch_insn_adjusted_addend()).
    const pcrel = type === R_X86_64_PC32 || type === R_X86_64_PLT32;
    const toEnd = file.layout.ibt.pcrelFromInsnEnd ? insn.offset + insn.len - r.table.offset(i) : 4;
    const off = sym.offset + (pcrel ? addend + toEnd : addend);
    const dest = file.findInsn(sym.sec, off);
    if (!dest) continue;
    if (dest.type === T.ENDBR) {
      markUsed(s, dest);
      continue;
    }
    const df = dest.func;
    const f = insn.func;
    if (df && f && (file.layout.ibt.sameFunction === 'parent' ? df.pfunc === f.pfunc : df === f)) continue;
    if (dest.noendbr || (file.layout.ibt.noendbrRange && noendbrRange(file, dest))) continue;
    file.warnInsn(insn, `relocation to !ENDBR: ${file.offstr(dest.sec.index, dest.offset).text}`);
    warnings++;
  }
  return warnings;
}

export function validateIbt(file: ObjFile): number {
  const s = endbrSeal(file);
  let warnings = 0;
  for (const cs of file.codeSections) {
    const { type, flags } = cs.a;
    file.relocsOf(cs);
    for (let pos = 0; pos < cs.ds.count; pos++) {
      if (BRANCH[type[pos]!]) continue;
      if (!noRelocIn(flags, pos)) warnings += validateInsn(file, s, new Insn(cs, pos));
    }
  }
  const skip = file.layout.ibt.dataSectionsSkipped;
  for (const sec of file.elf.sections) {
    if (sec.isExec) continue;
    const skipped = (sec.name.startsWith('.discard') && sec.name !== '.discard.ibt_endbr_noseal') || sec.name.startsWith('.debug') ||
      skip.includes(sec.name) || (file.layout.ibt.patchableEntriesBySubstring && sec.name.includes('__patchable_function_entries'));
    if (skipped) continue;
    const rel = file.elf.relocationsFor(sec);
    if (!rel) continue;
    for (let i = 0; i < rel.count; i++) {
      const sym = file.syms.all[rel.sym(i)]!;
      const dest = file.findInsn(sym.sec, sym.offset + rel.addend(i));
      if (!dest) continue;
      if (dest.type === T.ENDBR) {
        markUsed(s, dest);
        continue;
      }
      if (dest.noendbr) continue;
      file.warnAt(sec.index, rel.offset(i), `data relocation to !ENDBR: ${file.offstr(dest.sec.index, dest.offset).text}`);
      warnings++;
    }
  }
  return warnings;
}
