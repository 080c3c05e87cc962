// SPDX-License-Identifier: GPL-2.0-only
// Where the kernel goes on where the code alone does not say: WARN ud2s, __ex_table fixups
// and jump labels.
import { firstAtOrAfter } from '../elf/offset-index.js';
import type { ElfFile } from '../elf/reader.js';
import type { KernelLayout } from '../kernel/versions.js';
import { ANNOTATE_INSN, readAnnotations } from '../kernel/annotations.js';
import { readWarnSites } from '../kernel/bug-table.js';
import type { SpecialAlt } from '../kernel/alternatives.js';

/**
 * Where the kernel goes on where the code alone does not say: after a WARN's ud2 (__bug_table's
 * BUGFLAG_WARNING entries, REACHABLE annotations), at __ex_table fixups, and at the targets of
 * jump labels (static keys turn the site's NOP into a JMP, or back, at run time).
 */
export class Traps {
  /** Per section: offsets of trapping instructions the kernel returns from. */
  private readonly at = new Map<number, Set<number>>();
  /** Per section: offsets of instructions after such a trap (6.x `.discard.reachable` names the next one). */
  private readonly after = new Map<number, Set<number>>();
  /** Per section: faulting instruction and fixup offsets, sorted by the instruction's. */
  private readonly fixups = new Map<number, { insn: Float64Array; fixup: Float64Array }>();
  /** Per section: jump label sites -> the target's offset (same section). */
  private readonly jumps = new Map<number, Map<number, number>>();

  /** `special`: the object's special section entries (specialGetAlts(), read once with the patcher's). */
  constructor(elf: ElfFile, layout: KernelLayout, special: readonly SpecialAlt[]) {
    const add = (m: Map<number, Set<number>>, sec: number, off: number) => {
      const s = m.get(sec);
      if (s) s.add(off);
      else m.set(sec, new Set([off]));
    };
    for (const w of readWarnSites(elf, layout)) add(this.at, w.sec, w.off);
    try {
      const a = readAnnotations(elf, layout, new Set(['.discard.reachable', ANNOTATE_INSN]));
      for (const t of a.byKind.reachable) add(t.source === ANNOTATE_INSN ? this.at : this.after, t.sec, t.off);
    } catch {
      // (malformed annotations: the check reports them; here they only add reach)
    }
    const fix = new Map<number, [number, number][]>();
    for (const x of special) {
      if (x.origSec !== x.newSec || !x.origSec) continue;
      if (x.kind === 'jump_label') {
        let m = this.jumps.get(x.origSec);
        if (!m) {
          this.jumps.set(x.origSec, (m = new Map()));
          this.sizes.set(x.origSec, elf.section(x.origSec)?.size ?? 0);
        }
        m.set(x.origOff, x.newOff);
      } else if (x.kind === 'ex_table') {
        const l = fix.get(x.origSec);
        if (l) l.push([x.origOff, x.newOff]);
        else fix.set(x.origSec, [[x.origOff, x.newOff]]);
      }
    }
    for (const [sec, l] of fix) {
      l.sort((a, b) => a[0] - b[0]);
      this.fixups.set(sec, { insn: Float64Array.from(l, (x) => x[0]), fixup: Float64Array.from(l, (x) => x[1]) });
    }
  }

  /** The jump label sites of a section: offset -> target (one view per section: every walk asks). */
  jumpLabels(sec: number): JumpLabels | undefined {
    const m = this.jumps.get(sec);
    if (!m) return undefined;
    let view = this.views.get(sec);
    if (view) return view;
    let bits = this.jumpBits.get(sec);
    if (!bits) {
      // (sized by the section, not by the sites: a damaged table may name any offset, and no
      // instruction starts past the section's end)
      const size = this.sizes.get(sec) ?? 0;
      bits = new Uint8Array(Math.floor(size / 8) + 1);
      for (const off of m.keys()) if (off >= 0 && off < size) bits[off >>> 3]! |= 1 << (off & 7);
      this.jumpBits.set(sec, bits);
    }
    const b = bits;
    this.views.set(sec, (view = { at: (off) => ((b[off >>> 3]! >>> (off & 7)) & 1 ? m.get(off) : undefined) }));
    return view;
  }
  private readonly views = new Map<number, JumpLabels>();
  /** Per section, a bit per byte offset: a jump label site starts there (most boundaries have none). */
  private readonly jumpBits = new Map<number, Uint8Array>();
  /** The sizes of the sections with jump label sites. */
  private readonly sizes = new Map<number, number>();

  /** The (instruction, fixup) pairs of __ex_table whose instruction is in [start, end). */
  fixupsIn(sec: number, start: number, end: number): [number, number][] {
    const f = this.fixups.get(sec);
    if (!f) return NO_FIXUPS;
    const out: [number, number][] = [];
    for (let k = firstAtOrAfter(f.insn, start); k < f.insn.length && f.insn[k]! < end; k++) out.push([f.insn[k]!, f.fixup[k]!]);
    return out.length ? out : NO_FIXUPS;
  }

  /** Whether the trap at `off` (`len` bytes) returns to the next instruction. */
  resumes(sec: number, off: number, len: number): boolean {
    return this.at.get(sec)?.has(off) === true || this.after.get(sec)?.has(off + len) === true;
  }
}

/** (what fixupsIn() gives where there are none: most functions; never written to) */
const NO_FIXUPS: [number, number][] = [];

/** A section's jump label sites: the target of the one at `off`, if there is one. */
export interface JumpLabels {
  at(off: number): number | undefined;
}
