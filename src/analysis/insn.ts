// SPDX-License-Identifier: GPL-2.0-only
// The analysis' view of an instruction (objtool's struct instruction): the decoded facts plus
// what the passes attach — symbol, branch and call destinations, alternatives, hints, the CFI
// state recorded at the first visit — and the alternative-group record shared by the streams
// of one site.
import type { Section } from '../elf/section.js';
import type { DecodedSection, StackOp } from '../x86/index.js';
import { stackOps } from '../x86/index.js';
import type { CfiState } from './cfi.js';
import type { CfiInterner } from './cfi-state.js';
import type { Sym } from './symbols.js';

/** An executable section with its decoded instructions. */
export interface CodeSection {
  readonly index: number;
  readonly name: string;
  readonly size: number;
  readonly elf: Section;
  readonly ds: DecodedSection;
  readonly insns: Insn[];
  /** Per-instruction analysis state, indexed like `insns` (see Insn). */
  readonly a: InsnArrays;
  /** What `a.cfi` and `a.sym`/`a.callDest` numbers refer to. */
  readonly cfis: CfiInterner;
  readonly syms: readonly Sym[];
  /** objtool sec->text: not .altinstr_replacement, .altinstr_aux or .discard.*. */
  readonly text: boolean;
  readonly noinstr: boolean;
  readonly init: boolean;
}

/** The analysis state of a section's instructions as typed arrays (-1: none). */
export interface InsnArrays {
  readonly type: Uint8Array;
  readonly visited: Uint8Array;
  readonly flags: Uint16Array;
  /** Interned CFI state number. */
  readonly cfi: Int32Array;
  /** Symbol table index of the containing symbol. */
  readonly sym: Int32Array;
  readonly callDest: Int32Array;
}

export function insnArrays(ds: DecodedSection): InsnArrays {
  const n = ds.count;
  return {
    type: ds.type.slice(), visited: new Uint8Array(n), flags: new Uint16Array(n),
    cfi: new Int32Array(n).fill(-1), sym: new Int32Array(n).fill(-1), callDest: new Int32Array(n).fill(-1),
  };
}

export const VISITED_BRANCH = 0x1;
export const VISITED_BRANCH_UACCESS = 0x2;
export const VISITED_BRANCH_MASK = 0x3;

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
}

/** Bits of InsnArrays.flags: objtool's one-bit instruction properties. */
const enum F {
  DEAD_END = 1 << 0,
  IGNORE = 1 << 1,
  IGNORE_ALTS = 1 << 2,
  HINT = 1 << 3,
  SAVE = 1 << 4,
  RESTORE = 1 << 5,
  RETPOLINE_SAFE = 1 << 6,
  NOENDBR = 1 << 7,
  UNRET = 1 << 8,
  NO_RELOC = 1 << 9,
  RELOC_LOOKED_UP = 1 << 10,
  NO_OPS = 1 << 11,
}

/** What few instructions carry: kept apart so that the millions of others stay small. */
class InsnExtra {
  firstJumpSrc: Insn | undefined;
  jumpTable: { sec: number; reloc: number } | undefined;
  alts: Alternative[] | undefined;
  altGroup: AltGroup | undefined;
  instr = 0;
  // A filler NOP is in no section's arrays: its state lives here.
  fillerOffset = 0;
  fillerLen = 0;
  fillerType = 0;
  fillerVisited = 0;
  fillerFlags = 0;
  fillerCfi: CfiState | undefined;
  fillerSym: Sym | undefined;
  fillerCallDest: Sym | undefined;
}

const NO_OPS: readonly StackOp[] = Object.freeze([]);

/**
 * One instruction. A linked vmlinux.o has millions, so the object holds little: its section and
 * position; offset, length and immediate come from the decoded arrays, the analysis state
 * (type, visits, one-bit properties, CFI state, symbol, call destination) from the section's
 * InsnArrays, rare properties from an `InsnExtra` made on first write, and the stack operations
 * are read from the decoded arrays when needed.
 */
export class Insn {
  jumpDest: Insn | undefined = undefined;
  private x: InsnExtra | undefined = undefined;

  /** A decoded instruction: position `pos` of `sec.insns`. */
  constructor(
    readonly sec: CodeSection,
    /** Position in sec.insns; -1 for a filler NOP that is in no section. */
    readonly pos: number,
  ) {}

  /** The NOP making a replacement shorter than the original as long as it (no decoded bytes). */
  static filler(sec: CodeSection, offset: number, len: number, type: number): Insn {
    const insn = new Insn(sec, -1);
    const x = insn.extra();
    x.fillerOffset = offset;
    x.fillerLen = len;
    x.fillerType = type;
    return insn;
  }

  get offset(): number {
    return this.pos >= 0 ? this.sec.ds.offset[this.pos]! : this.x!.fillerOffset;
  }

  get len(): number {
    return this.pos >= 0 ? this.sec.ds.len[this.pos]! : this.x!.fillerLen;
  }

  /** objtool's insn->immediate (0 for a filler NOP). */
  get immediate(): number {
    return this.pos >= 0 ? this.sec.ds.immediate[this.pos]! : 0;
  }

  /** InsnType; passes retype calls and jumps (retpolines, return thunks, hacks). */
  get type(): number {
    return this.pos >= 0 ? this.sec.a.type[this.pos]! : this.x!.fillerType;
  }

  set type(v: number) {
    if (this.pos >= 0) this.sec.a.type[this.pos] = v;
    else this.x!.fillerType = v;
  }

  /** VISITED_* bits. */
  get visited(): number {
    return this.pos >= 0 ? this.sec.a.visited[this.pos]! : this.x!.fillerVisited;
  }

  set visited(v: number) {
    if (this.pos >= 0) this.sec.a.visited[this.pos] = v;
    else this.x!.fillerVisited = v;
  }

  /** The state recorded at the first visit (always an interned state). */
  get cfi(): CfiState | undefined {
    if (this.pos < 0) return this.x!.fillerCfi;
    const id = this.sec.a.cfi[this.pos]!;
    return id >= 0 ? this.sec.cfis.byId(id) : undefined;
  }

  set cfi(v: CfiState | undefined) {
    if (this.pos < 0) this.x!.fillerCfi = v;
    else this.sec.a.cfi[this.pos] = v ? this.sec.cfis.idOf(v) : -1;
  }

  /** The symbol containing the instruction (objtool insn->sym). */
  get sym(): Sym | undefined {
    if (this.pos < 0) return this.x!.fillerSym;
    const i = this.sec.a.sym[this.pos]!;
    return i >= 0 ? this.sec.syms[i] : undefined;
  }

  set sym(v: Sym | undefined) {
    if (this.pos < 0) this.x!.fillerSym = v;
    else this.sec.a.sym[this.pos] = v ? v.idx : -1;
  }

  get callDest(): Sym | undefined {
    if (this.pos < 0) return this.x!.fillerCallDest;
    const i = this.sec.a.callDest[this.pos]!;
    return i >= 0 ? this.sec.syms[i] : undefined;
  }

  set callDest(v: Sym | undefined) {
    if (this.pos < 0) this.x!.fillerCallDest = v;
    else this.sec.a.callDest[this.pos] = v ? v.idx : -1;
  }

  private get flags(): number {
    return this.pos >= 0 ? this.sec.a.flags[this.pos]! : this.x!.fillerFlags;
  }

  private set flags(v: number) {
    if (this.pos >= 0) this.sec.a.flags[this.pos] = v;
    else this.x!.fillerFlags = v;
  }

  private flag(f: F): boolean {
    return (this.flags & f) !== 0;
  }

  private setFlag(f: F, v: boolean): void {
    this.flags = v ? this.flags | f : this.flags & ~f;
  }

  private extra(): InsnExtra {
    return (this.x ??= new InsnExtra());
  }

  get deadEnd(): boolean { return this.flag(F.DEAD_END); }
  set deadEnd(v: boolean) { this.setFlag(F.DEAD_END, v); }
  get ignore(): boolean { return this.flag(F.IGNORE); }
  set ignore(v: boolean) { this.setFlag(F.IGNORE, v); }
  get ignoreAlts(): boolean { return this.flag(F.IGNORE_ALTS); }
  set ignoreAlts(v: boolean) { this.setFlag(F.IGNORE_ALTS, v); }
  get hint(): boolean { return this.flag(F.HINT); }
  set hint(v: boolean) { this.setFlag(F.HINT, v); }
  get save(): boolean { return this.flag(F.SAVE); }
  set save(v: boolean) { this.setFlag(F.SAVE, v); }
  get restore(): boolean { return this.flag(F.RESTORE); }
  set restore(v: boolean) { this.setFlag(F.RESTORE, v); }
  get retpolineSafe(): boolean { return this.flag(F.RETPOLINE_SAFE); }
  set retpolineSafe(v: boolean) { this.setFlag(F.RETPOLINE_SAFE, v); }
  get noendbr(): boolean { return this.flag(F.NOENDBR); }
  set noendbr(v: boolean) { this.setFlag(F.NOENDBR, v); }
  get unret(): boolean { return this.flag(F.UNRET); }
  set unret(v: boolean) { this.setFlag(F.UNRET, v); }
  get noReloc(): boolean { return this.flag(F.NO_RELOC); }
  set noReloc(v: boolean) { this.setFlag(F.NO_RELOC, v); }
  /** insn_reloc() was asked with the file at hand (6.1 kept the answer on the instruction). */
  get relocLookedUp(): boolean { return this.flag(F.RELOC_LOOKED_UP); }
  set relocLookedUp(v: boolean) { this.setFlag(F.RELOC_LOOKED_UP, v); }

  get firstJumpSrc(): Insn | undefined { return this.x?.firstJumpSrc; }
  set firstJumpSrc(v: Insn | undefined) { this.extra().firstJumpSrc = v; }
  /** The switch table relocation (section index of the table and relocation index). */
  get jumpTable(): { sec: number; reloc: number } | undefined { return this.x?.jumpTable; }
  set jumpTable(v: { sec: number; reloc: number } | undefined) { this.extra().jumpTable = v; }
  /** In objtool's list order, the order the paths are walked (CheckRules.altsOrder). */
  get alts(): Alternative[] | undefined { return this.x?.alts; }
  set alts(v: Alternative[] | undefined) { this.extra().alts = v; }
  get altGroup(): AltGroup | undefined { return this.x?.altGroup; }
  set altGroup(v: AltGroup | undefined) { this.extra().altGroup = v; }
  /** instrumentation_begin() minus instrumentation_end() annotations here (--noinstr). */
  get instr(): number { return this.x?.instr ?? 0; }
  set instr(v: number) { this.extra().instr = v; }

  /**
   * Stack operations, decoded afresh from the section's arrays on each request (the walk asks
   * once per visit; keeping them would cost more memory than decoding them again).
   */
  get ops(): readonly StackOp[] {
    if (this.pos < 0 || this.flag(F.NO_OPS) || this.sec.ds.opCount[this.pos] === 0) return NO_OPS;
    return stackOps(this.sec.ds, this.pos);
  }

  /** How many stack operations `ops` would give (see readStackOp for reading them in place). */
  get opCount(): number {
    if (this.pos < 0 || this.flag(F.NO_OPS)) return 0;
    return this.sec.ds.opCount[this.pos]!;
  }

  /** A call's stack effect is undone by the callee's return: objtool drops its operations. */
  removeOps(): void {
    this.setFlag(F.NO_OPS, true);
  }

  /** objtool insn_func(): the containing symbol when it is a function. */
  get func(): Sym | undefined {
    const s = this.sym;
    return s && s.type === 2 ? s : undefined;
  }
}
