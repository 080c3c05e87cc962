// SPDX-License-Identifier: GPL-2.0-only
// What a walk asks of the code's references (where a jump goes, whether a call returns): by
// relocations in an object, patched or not (RelocView), by address in a linked image (LinkedRefs).
import type { RelocTable } from '../elf/relocations.js';
import type { SymbolTable } from '../elf/symbols.js';
import { STB_LOCAL } from '../elf/constants.js';
import type { KernelLayout } from '../kernel/versions.js';
import { LinkedImage } from '../elf/linked.js';
import type { PendingReloc } from '../patch/apply.js';
import { isNoreturnByName } from '../kernel/noreturns.js';
import { InsnFlag, type DecodedSection } from '../x86/index.js';
import { relTarget } from '../x86/decoder.js';

/**
 * The relocations of the code a variant runs: the object's own, less those of replaced bytes,
 * and those the patching added (sorted by offset). A handle is an index into the object's
 * table, or -2 - k for the k-th added one.
 */
export class RelocView implements CodeRefs {
  /** Whether the section has relocations at all. */
  readonly present: boolean;

  constructor(
    private readonly table: RelocTable | undefined, private readonly added: readonly PendingReloc[], private readonly dropped: ReadonlySet<number>,
    private readonly syms: SymbolTable, private readonly sectionSymbols: Map<number, number>,
  ) {
    this.present = table !== undefined || added.length > 0;
  }

  /** objtool's insn_reloc(): the first relocation in [start, end) by offset, or -1. */
  find(start: number, end: number): number {
    const table = this.table;
    let i = table ? table.firstInRange(start, end) : -1;
    if (i >= 0 && this.dropped.has(i)) {
      i = -1;
      for (let k = table!.lowerBound(start); k < table!.count; k++) {
        const j = table!.nth(k);
        if (table!.offset(j) >= end) break;
        if (!this.dropped.has(j)) {
          i = j;
          break;
        }
      }
    }
    const added = this.added;
    if (!added.length) return i;
    let lo = 0;
    let hi = added.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (added[mid]!.offset < start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < added.length && added[lo]!.offset < end && (i < 0 || added[lo]!.offset < table!.offset(i))) return -2 - lo;
    return i;
  }

  /** The symbol of handle h; -1 for a section symbol the patched object had to create. */
  sym(h: number): number {
    if (h >= 0) return this.table!.sym(h);
    const r = this.added[-2 - h]!;
    if (r.secSym === undefined) return r.sym;
    let s = this.sectionSymbols.get(r.secSym);
    if (s === undefined) this.sectionSymbols.set(r.secSym, (s = this.syms.sectionSymbol(r.secSym)));
    return s;
  }

  addend(h: number): number {
    return h >= 0 ? this.table!.addend(h) : this.added[-2 - h]!.addend;
  }

  /** The section of h's symbol, -1 when undefined. */
  symSection(h: number): number {
    const s = this.sym(h);
    if (s < 0) return this.added[-2 - h]!.secSym!;
    return this.syms.isDefined(s) ? this.syms.shndx[s]! : -1;
  }

  /** Whether h's symbol is a function the kernel's list says never returns. */
  noreturn(h: number, layout: KernelLayout): boolean {
    const s = this.sym(h);
    // A created section symbol is local: never on the list.
    if (s < 0) return isNoreturnByName(layout, '', STB_LOCAL);
    // (by symbol, once: vmlinux.o's walks ask at every call)
    let known = noreturnMemo.get(this.syms);
    if (!known || known.layout !== layout) noreturnMemo.set(this.syms, (known = { layout, by: new Uint8Array(this.syms.count) }));
    if (known.by[s] === 0) known.by[s] = isNoreturnByName(layout, this.syms.name(s), this.syms.bind(s)) ? 2 : 1;
    return known.by[s] === 2;
  }

  symValue(h: number): number {
    const s = this.sym(h);
    return s >= 0 ? this.syms.value[s]! : 0;
  }

  callsNoreturn(ds: DecodedSection, i: number, _sec: number, layout: KernelLayout): boolean {
    if (!this.present) return false;
    const rc = this.find(ds.offset[i]!, ds.offset[i]! + ds.len[i]!);
    return rc !== -1 && this.noreturn(rc, layout);
  }

  /** (what jumpTarget() returns, reused: a walk asks at every jump and call) */
  private readonly target = { sec: 0, off: 0 };

  /** A relocated jump's target is its relocation's (none when its symbol is undefined); others', the decoded one. */
  jumpTarget(ds: DecodedSection, i: number, sec: number): { sec: number; off: number } | undefined {
    const r0 = this.present ? this.find(ds.offset[i]!, ds.offset[i]! + ds.len[i]!) : -1;
    const t = this.target;
    if (r0 !== -1) {
      const ts = this.symSection(r0);
      if (ts <= 0) return undefined;
      t.sec = ts;
      t.off = this.symValue(r0) + this.addend(r0) + 4;
      return t;
    }
    if (!(ds.flags[i]! & InsnFlag.REL_TARGET)) return undefined;
    t.sec = sec;
    t.off = relTarget(ds, i);
    return t;
  }
}

/** Per symbol table: 1 for a symbol that returns, 2 for one on the kernel's noreturn list (0: not asked yet). */
const noreturnMemo = new WeakMap<SymbolTable, { layout: KernelLayout; by: Uint8Array }>();

/**
 * What the walk asks of the code's references, whether by relocations (objects: RelocView) or by
 * address (linked images: LinkedRefs).
 */
export interface CodeRefs {
  /** Whether the call at instruction i of section `sec` goes to a function the kernel's list says never returns. */
  callsNoreturn(ds: DecodedSection, i: number, sec: number, layout: KernelLayout): boolean;
  /** Where the jump at instruction i of section `sec` goes, when known (an object the next call may reuse: copy what is kept). */
  jumpTarget(ds: DecodedSection, i: number, sec: number): { sec: number; off: number } | undefined;
}

/**
 * A linked image's code refers by address: a relative operand's target is the instruction's
 * address + its length + the displacement (the decoder's section-relative target, placed in the
 * section holding it), and a call's callee is named by the symbols at its target. Patched code
 * needs nothing more: the patching wrote final displacements, as the kernel does.
 */
export class LinkedRefs implements CodeRefs {
  constructor(private readonly linked: LinkedImage, private readonly syms: SymbolTable) {}

  private target(ds: DecodedSection, i: number, sec: number): { sec: number; off: number } | undefined {
    if (!(ds.flags[i]! & InsnFlag.REL_TARGET)) return undefined;
    const t = relTarget(ds, i);
    const size = this.linked.elf.section(sec)!.size;
    return t >= 0 && t < size ? { sec, off: t } : this.linked.target(sec, 0, t);
  }

  callsNoreturn(ds: DecodedSection, i: number, sec: number, layout: KernelLayout): boolean {
    const t = this.target(ds, i, sec);
    return t !== undefined && this.linked.symbolsAt(t.sec, t.off).some((s) => isNoreturnByName(layout, this.syms.name(s), this.syms.bind(s)));
  }

  jumpTarget(ds: DecodedSection, i: number, sec: number): { sec: number; off: number } | undefined {
    return this.target(ds, i, sec);
  }
}
