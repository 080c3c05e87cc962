// SPDX-License-Identifier: GPL-2.0-only
// Addresses in a linked image (ET_EXEC: a vmlinux). A relocatable object says where a field
// points with a relocation (symbol + addend); a linked image has none left: every field the
// kernel reads is the resolved value, self-relative (`.long X - .`: the field's own address plus
// its value) or absolute (`.quad X`), and symbols' st_value are addresses. This module turns
// those into what the readers work with, a (section index, section offset) pair: the SHF_ALLOC
// section whose [sh_addr, sh_addr + sh_size) holds the address.
//
// Addresses are 64-bit (0xffffffff81000000...), beyond a double's 53 bits: each placed section
// gets its start relative to one anchor (the lowest sh_addr of an executable section), exactly,
// and all arithmetic is done on those small numbers. Sections too far from the anchor to be
// represented (a .data..percpu linked at 0) are left out: nothing there is code.
import { SHN_UNDEF, SHT_NOBITS, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_NOTYPE, SYM_SIZE } from './constants.js';
import type { ElfFile } from './reader.js';
import { Section } from './section.js';
import type { FileImage } from './file-image.js';
import { SymbolTable } from './symbols.js';
import { viewOf } from './bytes.js';

/** A place in the image: section index and offset from its start. */
export interface SecOff {
  sec: number;
  off: number;
}

/** A section whose bytes are given (a rewritten copy of .symtab), standing in for the file's. */
class GivenSection extends Section {
  constructor(s: Section, private readonly given: Uint8Array) {
    // (the image is never read: `data` is the given bytes)
    super(s.index, s.name, s.nameOffset, s.type, s.flags, s.addr, s.offset, s.size, s.link, s.info, s.addralign, s.entsize, undefined as unknown as FileImage);
  }

  override get data(): Uint8Array {
    return this.given;
  }
}

const cache = new WeakMap<ElfFile, LinkedImage | null>();

export class LinkedImage {
  /** Per section index: its start relative to the anchor, NaN when not placed. */
  private readonly base: Float64Array;
  /** Placed sections with bytes in memory order: start, end (relative), index. */
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly order: Int32Array;
  private symtab?: SymbolTable | null;
  private atAddress?: Map<string, number[]>;

  private constructor(readonly elf: ElfFile, readonly anchor: bigint) {
    const n = elf.sections.length;
    this.base = new Float64Array(n).fill(NaN);
    const placed: [number, number, number][] = [];
    for (const s of elf.sections) {
      if (!s.isAlloc || s.index === 0) continue;
      const d = s.addr - anchor;
      // (within 2^52 of the anchor: exact as a double, and far more than any kernel spans)
      if (d < -(2n ** 52n) || d > 2n ** 52n) continue;
      const b = Number(d);
      this.base[s.index] = b;
      if (s.size > 0) placed.push([b, b + s.size, s.index]);
    }
    // By start; of sections starting at one address, the larger first.
    placed.sort((x, y) => x[0] - y[0] || y[1] - x[1] || x[2] - y[2]);
    this.starts = Float64Array.from(placed, (p) => p[0]);
    this.ends = Float64Array.from(placed, (p) => p[1]);
    this.order = Int32Array.from(placed, (p) => p[2]);
  }

  /** The image's address layer, or undefined for a relocatable object (ET_REL: use relocations). */
  static of(elf: ElfFile): LinkedImage | undefined {
    let l = cache.get(elf);
    if (l === undefined) {
      l = null;
      if (!elf.isRelocatable) {
        let anchor: bigint | undefined;
        for (const s of elf.sections) if (s.isAlloc && s.isExec && s.size > 0 && (anchor === undefined || s.addr < anchor)) anchor = s.addr;
        if (anchor !== undefined) l = new LinkedImage(elf, anchor);
      }
      cache.set(elf, l);
    }
    return l ?? undefined;
  }

  /** Whether the section is placed (allocated, near the code). */
  placed(sec: number): boolean {
    return !Number.isNaN(this.base[sec] ?? NaN);
  }

  /** The address of (sec, off) relative to the anchor (NaN when the section is not placed). */
  rel(sec: number, off: number): number {
    return (this.base[sec] ?? NaN) + off;
  }

  /**
   * The section holding the relative address `a`, and the offset in it; an address just past the
   * end of a section no other section starts at belongs to that section's end (where ORC puts
   * its terminators). Undefined outside every placed section.
   */
  locate(a: number): SecOff | undefined {
    if (!Number.isFinite(a)) return undefined;
    const s = this.starts;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= a) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo - 1; k >= 0; k--) if (a < this.ends[k]!) return { sec: this.order[k]!, off: a - s[k]! };
    // In no section: just past the end of one (nothing else starts there, or it would hold it).
    for (let k = lo - 1; k >= 0; k--) if (a === this.ends[k]!) return { sec: this.order[k]!, off: a - s[k]! };
    return undefined;
  }

  /** Where (sec, off) + delta is: the target of a relative displacement. */
  target(sec: number, off: number, delta: number): SecOff | undefined {
    return this.locate(this.rel(sec, off) + delta);
  }

  /** A self-relative 32-bit field (`.long X - .`) at `off` in `sec`: where X is. */
  selfRel32(sec: Section, off: number): SecOff | undefined {
    return this.target(sec.index, off, viewOf(sec.data).getInt32(off, true));
  }

  /** The raw value of a self-relative 64-bit field (`.quad X - .`), exact where it matters (low bits, distances). */
  selfRel64Value(sec: Section, off: number): bigint {
    return viewOf(sec.data).getBigInt64(off, true);
  }

  /** An absolute 64-bit pointer (`.quad X`) at `off` in `sec`: where X is; 'null' for 0. */
  pointer(sec: Section, off: number): SecOff | 'null' | undefined {
    const v = viewOf(sec.data).getBigUint64(off, true);
    if (v === 0n) return 'null';
    return this.at(v);
  }

  /** The place of a 64-bit address. */
  at(addr: bigint): SecOff | undefined {
    const d = addr - this.anchor;
    if (d < -(2n ** 52n) || d > 2n ** 52n) return undefined;
    return this.locate(Number(d));
  }

  /**
   * The symbol table with every st_value made an offset in its symbol's section, as in a
   * relocatable object (symbols of sections not placed, and absolute ones, keep theirs), so that
   * everything reading symbols by section offset reads a linked image alike. Read from a copy of
   * .symtab (the only copy made).
   */
  get symbols(): SymbolTable | undefined {
    if (this.symtab === undefined) {
      this.symtab = null;
      const orig = this.elf.symbols;
      if (orig) {
        const bytes = new Uint8Array(orig.section.data);
        const v = viewOf(bytes);
        for (let i = 1; i < orig.count; i++) {
          if (!orig.isDefined(i)) continue;
          const s = this.elf.section(orig.shndx[i]!);
          if (!s || !this.placed(s.index)) continue;
          const at = i * SYM_SIZE + 8;
          v.setBigUint64(at, BigInt.asUintN(64, v.getBigUint64(at, true) - s.addr), true);
        }
        this.symtab = SymbolTable.read(this.elf, new GivenSection(orig.section, bytes));
      }
    }
    return this.symtab ?? undefined;
  }

  /**
   * The function and untyped (assembly) symbols that start at (sec, off), global and weak ones
   * first: what a call to that place names.
   */
  symbolsAt(sec: number, off: number): readonly number[] {
    const syms = this.symbols;
    if (!syms) return [];
    if (!this.atAddress) {
      const m = new Map<string, number[]>();
      for (let i = 1; i < syms.count; i++) {
        const t = syms.type(i);
        if ((t !== STT_FUNC && t !== STT_NOTYPE) || !syms.isDefined(i) || syms.rawShndx[i] === SHN_UNDEF) continue;
        const s = this.elf.section(syms.shndx[i]!);
        if (!s?.isExec) continue;
        const key = `${syms.shndx[i]}:${syms.value[i]}`;
        const l = m.get(key);
        if (l) l.push(i);
        else m.set(key, [i]);
      }
      const rank = (i: number) => (syms.bind(i) === STB_GLOBAL ? 0 : syms.bind(i) === STB_WEAK ? 1 : 2);
      for (const l of m.values()) l.sort((a, b) => rank(a) - rank(b) || a - b);
      this.atAddress = m;
    }
    return this.atAddress.get(`${sec}:${off}`) ?? [];
  }

  /**
   * A table the kernel's linker script places: its own output section (`.altinstructions`,
   * `__ex_table`), or the bytes between the `__start_`/`__stop_` symbols the script puts around it
   * inside another section (`__jump_table` is in .rodata). Undefined when neither is there.
   */
  table(name: string, start = `__start_${name}`, stop = `__stop_${name}`): { sec: Section; start: number; end: number } | undefined {
    const own = this.elf.sectionByName(name);
    if (own) return own.type === SHT_NOBITS ? undefined : { sec: own, start: 0, end: own.size };
    const syms = this.symbols;
    const a = syms ? syms.byNameIndex(start) : -1;
    const b = syms ? syms.byNameIndex(stop) : -1;
    if (a < 0 || b < 0 || !syms!.isDefined(a) || syms!.shndx[a] !== syms!.shndx[b]) return undefined;
    const sec = this.elf.section(syms!.shndx[a]!)!;
    const from = syms!.value[a]!;
    const to = syms!.value[b]!;
    if (sec.type === SHT_NOBITS || from > to || to > sec.size) return undefined;
    return { sec, start: from, end: to };
  }
}

/** The symbols of an object as the code readers want them: by section offset, for a linked image too. */
export function sectionSymbols(elf: ElfFile): SymbolTable | undefined {
  return LinkedImage.of(elf)?.symbols ?? elf.symbols;
}

