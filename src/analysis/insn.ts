// SPDX-License-Identifier: GPL-2.0-only
// The analysis' view of an instruction (objtool's struct instruction): the decoded facts plus
// what the passes attach — symbol, branch and call destinations, alternatives, hints, the CFI
// state recorded at the first visit — and the alternative-group record shared by the streams
// of one site.
import type { Section } from '../elf/section.js';
import type { DecodedSection, StackOp } from '../x86/index.js';
import { stackOps } from '../x86/index.js';
import type { CfiState } from './cfi.js';
import type { Sym } from './symbols.js';

/** An executable section with its decoded instructions. */
export interface CodeSection {
  readonly index: number;
  readonly name: string;
  readonly size: number;
  readonly elf: Section;
  readonly ds: DecodedSection;
  readonly insns: Insn[];
  /** objtool sec->text: not .altinstr_replacement, .altinstr_aux or .discard.*. */
  readonly text: boolean;
  readonly noinstr: boolean;
  readonly init: boolean;
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

export class Insn {
  sym: Sym | undefined;
  jumpDest: Insn | undefined;
  firstJumpSrc: Insn | undefined;
  callDest: Sym | undefined;
  /** The switch table relocation (section index of the table and relocation index). */
  jumpTable: { sec: number; reloc: number } | undefined;
  /** In objtool's list order, the order the paths are walked (CheckRules.altsOrder). */
  alts: Alternative[] | undefined;
  altGroup: AltGroup | undefined;
  cfi: CfiState | undefined;
  visited = 0;
  deadEnd = false;
  ignore = false;
  ignoreAlts = false;
  hint = false;
  save = false;
  restore = false;
  retpolineSafe = false;
  noendbr = false;
  unret = false;
  noReloc = false;
  /** insn_reloc() was asked with the file at hand (6.1 kept the answer on the instruction). */
  relocLookedUp = false;
  instr = 0;
  /** Stack operations; undefined until first asked for, null once removed (calls). */
  private opsCache: StackOp[] | null | undefined;

  constructor(
    readonly sec: CodeSection,
    readonly offset: number,
    readonly len: number,
    public type: number,
    readonly immediate: number,
    /** Position in sec.insns; -1 for a filler NOP that is in no section. */
    readonly pos: number,
  ) {}

  get ops(): readonly StackOp[] {
    if (this.opsCache === undefined) this.opsCache = this.pos >= 0 ? stackOps(this.sec.ds, this.pos) : [];
    return this.opsCache ?? [];
  }

  removeOps(): void {
    this.opsCache = null;
  }

  /** objtool insn_func(): the containing symbol when it is a function. */
  get func(): Sym | undefined {
    const s = this.sym;
    return s && s.type === 2 ? s : undefined;
  }
}
