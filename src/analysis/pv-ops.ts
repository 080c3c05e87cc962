// SPDX-License-Identifier: GPL-2.0-only
// --noinstr and paravirt: an indirect call through pv_ops[] from noinstr code is allowed when
// every function that slot can hold is noinstr itself. The candidates are the static
// initialisers of pv_ops and the Xen tables (typeof(pv_ops), so the slot numbers agree) and
// the `movq $func, pv_ops+off(%rip)` stores of .init.text (objtool init_pv_ops(),
// add_pv_ops(), objtool_pv_add(), pv_call_dest()).
import { KernelMetadataError } from '../kernel/common.js';
import { STT_SECTION } from '../elf/constants.js';
import type { Insn } from './insn.js';
import type { ObjFile } from './objfile.js';
import type { Sym } from './symbols.js';

/** The tables whose static initialisers name pv_ops[] targets. */
const PV_OPS_TABLES = ['pv_ops', 'xen_cpu_ops', 'xen_irq_ops', 'xen_mmu_ops'];

/** Functions the kernel patches into native code instead of calling (paravirt_patch()). */
const PATCHED_NATIVE = new Set(['_paravirt_nop', '_paravirt_ident_64']);

/** One pv_ops[] slot: the functions it may hold, newest first, and whether all are noinstr. */
interface PvSlot {
  targets: Sym[];
  clean: boolean;
}

export class PvOps {
  private readonly slots: PvSlot[];
  /** A function is listed under the first slot it was found for only (objtool's pv_target). */
  private readonly listed = new Set<Sym>();

  private constructor(private readonly file: ObjFile, nr: number) {
    this.slots = Array.from({ length: nr }, () => ({ targets: [], clean: false }));
  }

  /** objtool init_pv_ops(): only with --noinstr, and only when the object defines pv_ops. */
  static init(file: ObjFile): PvOps | undefined {
    if (!file.opts.noinstr) return undefined;
    const sym = file.syms.byName('pv_ops');
    if (!sym) return undefined;
    // (objtool callocs a slot per 8 bytes of the symbol; a size past its section is bad input)
    const sec = file.elf.section(sym.sec);
    if (!sec || sym.offset + sym.len > sec.size) {
      throw new KernelMetadataError(file.elf.path, sec?.name ?? 'pv_ops', sym.offset, `pv_ops (size 0x${sym.len.toString(16)}) runs past the end of its section`);
    }
    const pv = new PvOps(file, Math.trunc(sym.len / 8));
    for (const name of PV_OPS_TABLES) pv.addTable(name);
    return pv;
  }

  /** objtool add_pv_ops(): each relocation inside the table's symbol is a slot's initialiser. */
  private addTable(name: string): void {
    const file = this.file;
    const sym = file.syms.byName(name);
    if (!sym || !sym.sec) return;
    const table = file.elf.relocationsFor(file.elf.section(sym.sec)!);
    if (!table) return;
    const end = sym.offset + sym.len;
    for (let off = sym.offset; off < end;) {
      const i = table.firstInRange(off, end);
      if (i < 0) break;
      let func: Sym | undefined = file.syms.all[table.sym(i)];
      if (func && func.type === STT_SECTION) func = file.syms.findSymbolByOffset(func.sec, table.addend(i));
      if (func) this.add(Math.trunc((table.offset(i) - sym.offset) / 8), func);
      off = table.offset(i) + 1;
    }
  }

  /** objtool objtool_pv_add(). */
  add(idx: number, func: Sym): void {
    if (PATCHED_NATIVE.has(func.name) || this.listed.has(func)) return;
    const slot = this.slots[idx];
    if (!slot) return;
    this.listed.add(func);
    slot.targets.unshift(func);
    slot.clean = false;
  }

  /**
   * objtool's decoder on `movq $func, pv_ops+off(%rip)` (c7, 11 bytes) in .init.text: the
   * displacement's relocation names the slot, the immediate's the function stored there.
   */
  addInitStore(insn: Insn): void {
    const file = this.file;
    const table = file.elf.relocationsFor(insn.sec.elf);
    if (!table) return;
    const slotRel = table.at(insn.offset + 3);
    if (slotRel < 0 || file.syms.all[table.sym(slotRel)]!.name !== 'pv_ops') return;
    const funcRel = table.at(insn.offset + 7);
    if (funcRel < 0) return;
    let func: Sym | undefined = file.syms.all[table.sym(funcRel)];
    if (func && func.type === STT_SECTION) func = file.syms.findSymbolByOffset(func.sec, table.addend(funcRel));
    if (!func) return file.fatal('no func for pv_ops[]');
    this.add(Math.trunc((table.addend(slotRel) + 8) / 8), func);
  }

  /**
   * objtool pv_call_dest(): a call through pv_ops[idx] is fine when every target is noinstr.
   * A clean slot is remembered; a slot with targets that are not reports them at each question.
   */
  callIsNoinstr(insn: Insn): boolean {
    const file = this.file;
    const r = file.insnReloc(insn);
    if (!r || file.relocSym(r).name !== 'pv_ops') return false;
    // The displacement's addend is relative to the end of the instruction's 4-byte field.
    const idx = Math.trunc((r.table.addend(r.i) + 4) / 8);
    const slot = this.slots[idx];
    if (!slot) return false;
    if (slot.clean) return true;
    slot.clean = true;
    for (const t of slot.targets) {
      if (!file.code[t.sec]?.noinstr) {
        file.warn(`pv_ops[${idx}]: ${t.name}`);
        slot.clean = false;
      }
    }
    return slot.clean;
  }
}
