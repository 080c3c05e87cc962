// SPDX-License-Identifier: GPL-2.0-only
// The analysis' view of an instruction (objtool's struct instruction): the decoded facts plus
// what the passes attach — symbol, branch and call destinations, alternatives, hints, the CFI
// state recorded at the first visit — and the alternative-group record shared by the streams
// of one site.
import type { Section } from '../elf/section.js';
import { STT_FUNC } from '../elf/constants.js';
import type { DecodedSection, StackOp } from '../x86/index.js';
import { InsnType, stackOps } from '../x86/index.js';
import { OffsetIndex } from '../elf/offset-index.js';
import type { CfiState } from './cfi.js';
import type { CfiInterner } from './cfi-state.js';
import type { Sym } from './symbols.js';

/**
 * An executable section with its decoded instructions. There is no object per instruction (a
 * linked vmlinux.o has millions): an instruction is its position in `ds`, its analysis state
 * lives in `a`, and Insn is a short-lived handle over the two.
 */
export class CodeSection {
  readonly index: number;
  readonly name: string;
  readonly size: number;
  /** Per-instruction analysis state, indexed like `ds` (see Insn). */
  readonly a: InsnArrays;
  /** What few instructions carry, by position (flagged in `a.flags`). */
  readonly extras = new Map<number, InsnExtra>();
  /**
   * objtool's insn->first_jump_src when it is in this section, as its position + 1 (0: none),
   * made on first use: every forward jump target of vmlinux.o has one (~280K), too many for
   * `extras`, where each would also cost the walk its fast path.
   */
  private firstJumpSrcs: Int32Array | undefined = undefined;
  /** releaseFirstJumpSrcs() was called: first jump sources are gone. */
  private firstJumpSrcsReleased = false;
  /** The instructions' offsets, for posAt(). */
  private readonly positions: OffsetIndex;

  constructor(
    readonly elf: Section,
    readonly ds: DecodedSection,
    /** What `a.cfi` numbers refer to. */
    readonly cfis: CfiInterner,
    /** What `a.sym`/`a.callDest` numbers refer to. */
    readonly syms: readonly Sym[],
    /** objtool sec->text: not .altinstr_replacement, .altinstr_aux or .discard.*. */
    readonly text: boolean,
    readonly noinstr: boolean,
    readonly init: boolean,
  ) {
    this.index = elf.index;
    this.name = elf.name;
    this.size = elf.size;
    this.a = insnArrays(ds);
    this.positions = new OffsetIndex(ds.offset, ds.count);
  }

  /** Position of the instruction starting at `offset`, or -1 (indexAt()). */
  posAt(offset: number): number {
    return this.positions.indexOf(offset);
  }

  /** Position of the first instruction starting at or after `offset` (the count if none). */
  posFrom(offset: number): number {
    return this.positions.lowerBound(offset);
  }

  /** Position of the first jump in this section to instruction `pos` from before it; -1: none. */
  firstJumpSrcPos(pos: number): number {
    if (this.firstJumpSrcsReleased) throw new Error(`${this.name}: first jump sources were released`);
    return this.firstJumpSrcs ? this.firstJumpSrcs[pos]! - 1 : -1;
  }

  /**
   * Records the jump at `src` as instruction `pos`'s first jump source unless it has one, here
   * or (from another section) in its extra.
   */
  markFirstJumpSrc(pos: number, src: number): void {
    if (!this.hasFirstJumpSrc(pos)) (this.firstJumpSrcs ??= new Int32Array(this.ds.count))[pos] = src + 1;
  }

  /** After the jump tables are found, the only pass that follows first jump sources. */
  releaseFirstJumpSrcs(): void {
    this.firstJumpSrcs = undefined;
    this.firstJumpSrcsReleased = true;
  }

  /** Once jump and call destinations are known: nothing reads immediates after that. */
  releaseImmediates(): void {
    this.ds.releaseColumns?.(['immediate']);
  }

  /**
   * After the walk and the passes after it, before the outputs: the stack ops go (see
   * DecodedSection.releaseColumns()), and the visited marks and jump destinations, which no
   * output reads (vmlinux.o: ~23 MB less at the outputs' peak). First jump sources went with
   * the jump tables.
   */
  releaseWalkState(): void {
    this.ds.releaseColumns?.(['opStart', 'opCount', 'ops']);
    this.a.visited = new Uint8Array(0);
    this.a.jumpDest = new Int32Array(0);
  }

  /** Instruction `pos` has a first jump source, here or (from another section) in its extra. */
  private hasFirstJumpSrc(pos: number): boolean {
    if (this.firstJumpSrcPos(pos) >= 0) return true;
    return (this.a.flags[pos]! & InsnBit.EXTRA) !== 0 && this.extras.get(pos)!.firstJumpSrc !== undefined;
  }

  /**
   * markFirstJumpSrc() for each forward jump inside this section in positions [start, end), in
   * order, up to the first instruction that needs more than that: a jump to another section or
   * a dynamic jump. Returns its position (or `end`). A pass over every function's
   * instructions spends most of its time here, so this is one loop on the arrays.
   */
  markForwardJumps(start: number, end: number): number {
    const { jumpDest, type } = this.a;
    const off = this.ds.offset;
    for (let pos = start; pos < end; pos++) {
      const jd = jumpDest[pos]!;
      if (jd >= 0) {
        if (off[jd]! > off[pos]!) this.markFirstJumpSrc(jd, pos);
      } else if (jd !== -1) {
        return pos;
      }
      if (type[pos] === InsnType.JUMP_DYNAMIC) return pos;
    }
    return end;
  }
}

/** The analysis state of a section's instructions as typed arrays (-1: none). */
export interface InsnArrays {
  /** The decoded types (ds.type itself: the analysis owns its decoding), retyped by passes. */
  readonly type: Uint8Array;
  /** (emptied by CodeSection.releaseWalkState()) */
  visited: Uint8Array;
  readonly flags: Uint16Array;
  /** Interned CFI state number. */
  readonly cfi: Int32Array;
  /** Symbol table index of the containing symbol. */
  readonly sym: Int32Array;
  readonly callDest: Int32Array;
  /** Position of the jump destination in this section; JUMP_ELSEWHERE: in the extra. (Emptied as `visited`.) */
  jumpDest: Int32Array;
}

/** InsnArrays.jumpDest: the destination is in another section (kept in the instruction's extra). */
export const JUMP_ELSEWHERE = -2;

function insnArrays(ds: DecodedSection): InsnArrays {
  const n = ds.count;
  // (a section decoded on two threads has its columns in shared memory: its states go there
  // too, for the ORC table's thread, actions/orc.ts)
  const cfi = ds.offset.buffer instanceof SharedArrayBuffer ? new Int32Array(new SharedArrayBuffer(n * 4) as unknown as ArrayBuffer) : new Int32Array(n);
  return {
    type: ds.type, visited: new Uint8Array(n), flags: new Uint16Array(n),
    cfi: cfi.fill(-1), sym: new Int32Array(n).fill(-1), callDest: new Int32Array(n).fill(-1),
    jumpDest: new Int32Array(n).fill(-1),
  };
}

export const VISITED_BRANCH = 0x1;
export const VISITED_BRANCH_UACCESS = 0x2;
export const VISITED_BRANCH_MASK = 0x3;
/** --unret's own walk (validate_unret()). */
export const VISITED_UNRET = 0x4;

/** One replacement path of an instruction: an alternative stream, jump label or table target. */
export interface Alternative {
  insn: Insn;
  skipOrig: boolean;
}

/**
 * The instructions of one stream of an alternative site. All streams of a site share `cfi`,
 * the byte-offset-addressed array of states (Josh Poimboeuf's design, upstream since 5.12).
 */
export interface AltGroup {
  /** The original stream's group; undefined for the original itself. */
  origGroup?: AltGroup;
  firstInsn: Insn;
  lastInsn: Insn;
  /** The filler NOP making a shorter replacement as long as the original. */
  nop?: Insn;
  cfi: (CfiState | undefined)[];
  /** 7.x: ANNOTATE_IGNORE_ALTERNATIVE at the group's first instruction: paths stop in it. */
  ignore?: boolean;
}

/** The bytes a group's instructions span (the length of its `cfi`). */
export function groupLength(g: AltGroup): number {
  return g.lastInsn.offset + g.lastInsn.len - g.firstInsn.offset;
}

/** Bits of InsnArrays.flags: objtool's one-bit instruction properties. */
export const enum InsnBit {
  DEAD_END = 1 << 0,
  IGNORE = 1 << 1,
  IGNORE_ALTS = 1 << 2,
  HINT = 1 << 3,
  SAVE = 1 << 4,
  RESTORE = 1 << 5,
  RETPOLINE_SAFE = 1 << 6,
  NOENDBR = 1 << 7,
  UNRET = 1 << 8,
  HAS_RELOC = 1 << 9,
  RELOC_LOOKED_UP = 1 << 10,
  NO_OPS = 1 << 11,
  /** The section's `extras` has an entry for the instruction. */
  EXTRA = 1 << 12,
  /** Has an alternative group (so that the walk asks the map only then). */
  ALT_GROUP = 1 << 13,
  /** Has alternative paths. */
  ALTS = 1 << 14,
}

/** What few instructions carry: kept apart so that the millions of others stay small. */
export class InsnExtra {
  firstJumpSrc: Insn | undefined = undefined;
  jumpTable: { sec: number; reloc: number } | undefined = undefined;
  alts: Alternative[] | undefined = undefined;
  altGroup: AltGroup | undefined = undefined;
  /** A jump destination in another section. */
  jumpDest: Insn | undefined = undefined;
  instr = 0;
}

/** A filler NOP is in no section's arrays: its whole state lives here. */
class FillerState {
  readonly x = new InsnExtra();
  visited = 0;
  flags = 0;
  cfi: CfiState | undefined = undefined;
  sym: Sym | undefined = undefined;
  callDest: Sym | undefined = undefined;
  constructor(readonly offset: number, readonly len: number, public type: number) {}
}

const NO_OPS: readonly StackOp[] = Object.freeze([]);

/**
 * One instruction: a handle made where it is needed, holding only its section and position
 * (compare with `is`, not ===). Offset, length and immediate come from the decoded arrays, the
 * analysis state (type, visits, one-bit properties, CFI state, symbol, call and jump
 * destinations) from the section's InsnArrays, rare properties from the section's `extras`, and
 * the stack operations are read from the decoded arrays when needed. A filler NOP is the one
 * kind made once and kept: its state is its own.
 */
export class Insn {
  private readonly f: FillerState | undefined;

  /** A decoded instruction: position `pos` of `sec.ds`. */
  constructor(
    readonly sec: CodeSection,
    /** Position in sec.ds; -1 for a filler NOP that is in no section. */
    readonly pos: number,
    filler?: FillerState,
  ) {
    this.f = filler;
  }

  /** The NOP making a replacement shorter than the original as long as it (no decoded bytes). */
  static filler(sec: CodeSection, offset: number, len: number, type: number): Insn {
    return new Insn(sec, -1, new FillerState(offset, len, type));
  }

  /** The same instruction (handles of a decoded one are made afresh; a filler is one object). */
  is(other: Insn | undefined): boolean {
    return other !== undefined && (this.pos >= 0 ? this.pos === other.pos && this.sec === other.sec : this === other);
  }

  get offset(): number {
    return this.pos >= 0 ? this.sec.ds.offset[this.pos]! : this.f!.offset;
  }

  get len(): number {
    return this.pos >= 0 ? this.sec.ds.len[this.pos]! : this.f!.len;
  }

  /** objtool's insn->immediate (0 for a filler NOP). */
  get immediate(): number {
    return this.pos >= 0 ? this.sec.ds.immediate[this.pos]! : 0;
  }

  /** InsnType; passes retype calls and jumps (retpolines, return thunks, hacks). */
  get type(): number {
    return this.pos >= 0 ? this.sec.a.type[this.pos]! : this.f!.type;
  }

  set type(v: number) {
    if (this.pos >= 0) this.sec.a.type[this.pos] = v;
    else this.f!.type = v;
  }

  /** VISITED_* bits. */
  get visited(): number {
    return this.pos >= 0 ? this.sec.a.visited[this.pos]! : this.f!.visited;
  }

  set visited(v: number) {
    if (this.pos >= 0) this.sec.a.visited[this.pos] = v;
    else this.f!.visited = v;
  }

  /** The state recorded at the first visit (always an interned state). */
  get cfi(): CfiState | undefined {
    if (this.pos < 0) return this.f!.cfi;
    const id = this.sec.a.cfi[this.pos]!;
    return id >= 0 ? this.sec.cfis.byId(id) : undefined;
  }

  set cfi(v: CfiState | undefined) {
    if (this.pos < 0) this.f!.cfi = v;
    else this.sec.a.cfi[this.pos] = v ? this.sec.cfis.idOf(v) : -1;
  }

  /** The symbol containing the instruction (objtool insn->sym). */
  get sym(): Sym | undefined {
    if (this.pos < 0) return this.f!.sym;
    const i = this.sec.a.sym[this.pos]!;
    return i >= 0 ? this.sec.syms[i] : undefined;
  }

  set sym(v: Sym | undefined) {
    if (this.pos < 0) this.f!.sym = v;
    else this.sec.a.sym[this.pos] = v ? v.idx : -1;
  }

  get callDest(): Sym | undefined {
    if (this.pos < 0) return this.f!.callDest;
    const i = this.sec.a.callDest[this.pos]!;
    return i >= 0 ? this.sec.syms[i] : undefined;
  }

  set callDest(v: Sym | undefined) {
    if (this.pos < 0) this.f!.callDest = v;
    else this.sec.a.callDest[this.pos] = v ? v.idx : -1;
  }

  /** The branch target the walk follows (objtool insn->jump_dest); never a filler NOP. */
  get jumpDest(): Insn | undefined {
    if (this.pos < 0) return this.f!.x.jumpDest;
    const d = this.sec.a.jumpDest[this.pos]!;
    if (d >= 0) return new Insn(this.sec, d);
    return d === JUMP_ELSEWHERE ? this.x!.jumpDest : undefined;
  }

  set jumpDest(v: Insn | undefined) {
    if (this.pos < 0) {
      this.f!.x.jumpDest = v;
    } else if (v && v.pos >= 0 && v.sec === this.sec) {
      this.sec.a.jumpDest[this.pos] = v.pos;
    } else {
      this.sec.a.jumpDest[this.pos] = v ? JUMP_ELSEWHERE : -1;
      if (v || this.x) this.extra().jumpDest = v;
    }
  }

  /** InsnBit bits. */
  get flags(): number {
    return this.pos >= 0 ? this.sec.a.flags[this.pos]! : this.f!.flags;
  }

  private set flags(v: number) {
    if (this.pos >= 0) this.sec.a.flags[this.pos] = v;
    else this.f!.flags = v;
  }

  private flag(f: InsnBit): boolean {
    return (this.flags & f) !== 0;
  }

  private setFlag(f: InsnBit, v: boolean): void {
    this.flags = v ? this.flags | f : this.flags & ~f;
  }

  private get x(): InsnExtra | undefined {
    if (this.pos < 0) return this.f!.x;
    return this.sec.a.flags[this.pos]! & InsnBit.EXTRA ? this.sec.extras.get(this.pos) : undefined;
  }

  private extra(): InsnExtra {
    let x = this.x;
    if (!x) {
      x = new InsnExtra();
      this.sec.extras.set(this.pos, x);
      this.sec.a.flags[this.pos] |= InsnBit.EXTRA;
    }
    return x;
  }

  get deadEnd(): boolean { return this.flag(InsnBit.DEAD_END); }
  set deadEnd(v: boolean) { this.setFlag(InsnBit.DEAD_END, v); }
  get ignore(): boolean { return this.flag(InsnBit.IGNORE); }
  set ignore(v: boolean) { this.setFlag(InsnBit.IGNORE, v); }
  get ignoreAlts(): boolean { return this.flag(InsnBit.IGNORE_ALTS); }
  set ignoreAlts(v: boolean) { this.setFlag(InsnBit.IGNORE_ALTS, v); }
  get hint(): boolean { return this.flag(InsnBit.HINT); }
  set hint(v: boolean) { this.setFlag(InsnBit.HINT, v); }
  get save(): boolean { return this.flag(InsnBit.SAVE); }
  set save(v: boolean) { this.setFlag(InsnBit.SAVE, v); }
  get restore(): boolean { return this.flag(InsnBit.RESTORE); }
  set restore(v: boolean) { this.setFlag(InsnBit.RESTORE, v); }
  get retpolineSafe(): boolean { return this.flag(InsnBit.RETPOLINE_SAFE); }
  set retpolineSafe(v: boolean) { this.setFlag(InsnBit.RETPOLINE_SAFE, v); }
  get noendbr(): boolean { return this.flag(InsnBit.NOENDBR); }
  set noendbr(v: boolean) { this.setFlag(InsnBit.NOENDBR, v); }
  get unret(): boolean { return this.flag(InsnBit.UNRET); }
  set unret(v: boolean) { this.setFlag(InsnBit.UNRET, v); }
  /** A relocation applies inside the instruction's bytes (known once its section's are read: see ObjFile.insnReloc()). */
  get hasReloc(): boolean { return this.flag(InsnBit.HAS_RELOC); }
  /** insn_reloc() was asked with the file at hand (6.1 kept the answer on the instruction). */
  get relocLookedUp(): boolean { return this.flag(InsnBit.RELOC_LOOKED_UP); }
  set relocLookedUp(v: boolean) { this.setFlag(InsnBit.RELOC_LOOKED_UP, v); }

  get firstJumpSrc(): Insn | undefined {
    const s = this.pos >= 0 ? this.sec.firstJumpSrcPos(this.pos) : -1;
    return s >= 0 ? new Insn(this.sec, s) : this.x?.firstJumpSrc;
  }

  set firstJumpSrc(v: Insn | undefined) {
    if (v && v.pos >= 0 && this.pos >= 0 && v.sec === this.sec) this.sec.markFirstJumpSrc(this.pos, v.pos);
    else this.extra().firstJumpSrc = v;
  }
  /** The switch table relocation (section index of the table and relocation index). */
  get jumpTable(): { sec: number; reloc: number } | undefined { return this.x?.jumpTable; }
  set jumpTable(v: { sec: number; reloc: number } | undefined) { this.extra().jumpTable = v; }
  /** In objtool's list order, the order the paths are walked (CheckRules.altsOrder). */
  get alts(): Alternative[] | undefined { return this.flag(InsnBit.ALTS) ? this.x!.alts : undefined; }
  set alts(v: Alternative[] | undefined) {
    this.extra().alts = v;
    this.setFlag(InsnBit.ALTS, v !== undefined);
  }

  get altGroup(): AltGroup | undefined { return this.flag(InsnBit.ALT_GROUP) ? this.x!.altGroup : undefined; }
  set altGroup(v: AltGroup | undefined) {
    this.extra().altGroup = v;
    this.setFlag(InsnBit.ALT_GROUP, v !== undefined);
  }

  /** instrumentation_begin() minus instrumentation_end() annotations here (--noinstr). */
  get instr(): number { return this.x?.instr ?? 0; }
  set instr(v: number) { this.extra().instr = v; }

  /**
   * Stack operations, decoded afresh from the section's arrays on each request (the walk asks
   * once per visit; keeping them would cost more memory than decoding them again).
   */
  get ops(): readonly StackOp[] {
    if (this.pos < 0 || this.flag(InsnBit.NO_OPS) || this.sec.ds.opCount[this.pos] === 0) return NO_OPS;
    return stackOps(this.sec.ds, this.pos);
  }

  /** How many stack operations `ops` would give (see readStackOp for reading them in place). */
  get opCount(): number {
    if (this.pos < 0 || this.flag(InsnBit.NO_OPS)) return 0;
    return this.sec.ds.opCount[this.pos]!;
  }

  /** A call's stack effect is undone by the callee's return: objtool drops its operations. */
  removeOps(): void {
    this.setFlag(InsnBit.NO_OPS, true);
  }

  /** objtool insn_func(): the containing symbol when it is a function. */
  get func(): Sym | undefined {
    const s = this.sym;
    return s && s.type === STT_FUNC ? s : undefined;
  }
}

/**
 * A list of instructions kept as (section, position) pairs, made into handles as they are read:
 * the site lists of vmlinux.o hold hundreds of thousands, too many for a handle each.
 */
export class InsnList implements Iterable<Insn> {
  private readonly secs: CodeSection[] = [];
  private readonly secNumber = new Map<CodeSection, number>();
  private secOf = new Int32Array(16);
  private posOf = new Int32Array(16);
  /** Filler NOPs (no position), by list index. */
  private fillers: Map<number, Insn> | undefined;
  length = 0;

  push(insn: Insn): void {
    const k = this.length++;
    if (k === this.posOf.length) {
      const n = k * 2;
      const s = new Int32Array(n);
      s.set(this.secOf);
      this.secOf = s;
      const p = new Int32Array(n);
      p.set(this.posOf);
      this.posOf = p;
    }
    this.posOf[k] = insn.pos;
    if (insn.pos < 0) {
      (this.fillers ??= new Map()).set(k, insn);
      return;
    }
    let s = this.secNumber.get(insn.sec);
    if (s === undefined) {
      s = this.secs.length;
      this.secs.push(insn.sec);
      this.secNumber.set(insn.sec, s);
    }
    this.secOf[k] = s;
  }

  at(k: number): Insn {
    const pos = this.posOf[k]!;
    return pos >= 0 ? new Insn(this.secs[this.secOf[k]!]!, pos) : this.fillers!.get(k)!;
  }

  forEach(f: (insn: Insn, k: number) => void): void {
    for (let k = 0; k < this.length; k++) f(this.at(k), k);
  }

  *[Symbol.iterator](): Iterator<Insn> {
    for (let k = 0; k < this.length; k++) yield this.at(k);
  }
}
