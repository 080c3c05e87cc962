// SPDX-License-Identifier: GPL-2.0-only
// The object under analysis (objtool's struct objtool_file): the ELF file, the kernel layout,
// the options, symbols, decoded code sections and the instruction look-ups every pass uses,
// and the warning helpers in objtool's shapes.
import type { ElfFile } from '../elf/reader.js';
import { OrctoolError } from '../errors.js';
import type { RelocTable } from '../elf/relocations.js';
import type { KernelLayout } from '../kernel/versions.js';
import { decodeSection, decodeWarnings } from '../x86/index.js';
import { decodeSectionSplit } from '../x86/decoder.js';
import { type SplitDecode, startSplitDecode } from '../x86/split-decode.js';
import { CodeSection, Insn, InsnBit, InsnList } from './insn.js';
import { COLLECT_FROM_INSNS } from '../gc.js';
import type { CheckOptions } from './options.js';
import { SymbolIndex, type Sym } from './symbols.js';
import { WarningSink } from './warnings.js';
import { STT_FUNC } from '../elf/constants.js';
import { type CfiState, UnwindType } from './cfi.js';
import { CfiInterner, funcCfi, undefinedCfi } from './cfi-state.js';
import type { PvOps } from './pv-ops.js';
import { InsnFlag, InsnType } from '../x86/index.js';

/** A relocation: its table and index there. */
export interface RelocRef {
  table: RelocTable;
  i: number;
}

/** Raised by a pass that objtool treats as fatal (its -1 returns): the analysis stops. */
export class FatalCheckError extends Error {}

/**
 * ObjFile.noRelocAt() on the flags of a section whose relocsOf() was already asked for: a pass
 * over each of vmlinux.o's ~4.6 million instructions calls this rather than the method.
 */
export function noRelocIn(flags: Uint16Array, pos: number): boolean {
  return ((flags[pos]! |= InsnBit.RELOC_LOOKED_UP) & InsnBit.HAS_RELOC) === 0;
}

export class ObjFile {
  readonly syms: SymbolIndex;
  readonly code: (CodeSection | undefined)[] = [];
  readonly codeSections: CodeSection[] = [];
  readonly warnings: WarningSink;
  ignoreUnreachables = false;
  hints = false;
  rodata = false;
  nrInsns = 0;

  /** A run big enough (vmlinux.o) to let go of each pass's state as soon as no later pass reads it, and collect. */
  get big(): boolean {
    return this.nrInsns >= COLLECT_FROM_INSNS;
  }
  readonly rodataSections = new Set<number>();
  readonly cfis = new CfiInterner();
  /** relocsOf()'s tables by code section index (null: none). */
  private readonly relocTables = new Map<number, RelocTable | null>();
  /** The state a FUNC hint gives, and the one an UNDEFINED hint forces. */
  readonly funcCfi: CfiState;
  readonly forceUndefinedCfi: CfiState;
  // Sites later passes write sections or patches for (objtool's per-kind lists).
  readonly jumpLabelNops = new InsnList();
  readonly returnThunkSites = new InsnList();
  readonly staticCallSites = new InsnList();
  readonly retpolineSites = new InsnList();
  readonly mcountSites = new InsnList();
  readonly callSites = new InsnList();
  readonly noinstrHackSites: { insn: Insn; sibling: boolean; reloc: RelocRef | undefined }[] = [];
  readonly mnopSites: { insn: Insn; reloc: RelocRef | undefined }[] = [];
  /** Functions that get a __pfx_ symbol with --prefix. */
  readonly prefixSymbols: Sym[] = [];
  /** Alternative conflicts found, for `explain`. */
  readonly conflicts: { site: Insn; at: Insn }[] = [];
  nrInsnsVisited = 0;
  /** --noinstr: the pv_ops[] slots and their possible targets, when the object defines pv_ops. */
  pvOps: PvOps | undefined;
  /** The biggest code section's end, being decoded on a worker thread (see decode()). */
  private split: { sec: number; job: SplitDecode } | undefined;

  constructor(
    readonly elf: ElfFile,
    readonly layout: KernelLayout,
    readonly opts: CheckOptions,
    /** The name in warnings (objtool's objname). */
    readonly objname: string,
    emit?: ConstructorParameters<typeof WarningSink>[1],
  ) {
    this.warnings = new WarningSink(objname, emit);
    this.split = startSplitDecode(elf, layout.decoder);
    this.syms = new SymbolIndex(elf, layout.check);
    this.funcCfi = this.cfis.intern(funcCfi());
    const fu = undefinedCfi();
    fu.forceUndefined = true;
    // objtool's init_cfi_state() leaves the type 0: whatever hint type number 0 is in this
    // version (UNDEFINED from 6.4, so such a state gives an ORC_TYPE_UNDEFINED entry; CALL before).
    fu.type = layout.hint.types.UNDEFINED === 0 ? UnwindType.UNDEFINED : UnwindType.CALL;
    this.forceUndefinedCfi = this.cfis.intern(fu);
  }

  findInsn(sec: number, offset: number): Insn | undefined {
    const cs = this.code[sec];
    if (!cs) return undefined;
    const i = cs.posAt(offset);
    return i >= 0 ? new Insn(cs, i) : undefined;
  }

  nextInsnSameSec(insn: Insn): Insn | undefined {
    return insn.pos >= 0 && insn.pos + 1 < insn.sec.ds.count ? new Insn(insn.sec, insn.pos + 1) : undefined;
  }

  prevInsnSameSec(insn: Insn): Insn | undefined {
    return insn.pos > 0 ? new Insn(insn.sec, insn.pos - 1) : undefined;
  }

  prevInsnSameSym(insn: Insn): Insn | undefined {
    const p = this.prevInsnSameSec(insn);
    return p && p.func === insn.func ? p : undefined;
  }

  /** objtool next_insn_same_func(): continues into the .cold child at the parent's end. */
  nextInsnSameFunc(insn: Insn): Insn | undefined {
    const func = insn.func;
    if (!func) return undefined;
    const next = this.nextInsnSameSec(insn);
    if (next && next.func === func) return next;
    if (func === func.cfunc) return undefined;
    return this.findInsn(func.cfunc.sec, func.cfunc.offset);
  }

  /**
   * func_for_each_insn from the instruction at `offset` by position, without handles (the passes
   * walk every function): `fn` is given each instruction of its function and .cold part, and
   * returns true to stop.
   */
  forEachFuncPos(sec: number, offset: number, fn: (cs: CodeSection, pos: number) => boolean | void): void {
    this.forEachFuncRun(sec, offset, (cs, start, end) => {
      for (let pos = start; pos < end; pos++) if (fn(cs, pos)) return true;
      return false;
    });
  }

  /**
   * forEachFuncPos() a run of positions at a time: `fn` is given [start, end) of the function,
   * then of its .cold part, and returns true to stop. (A pass over every function loops over
   * each run itself rather than calling back per instruction.)
   */
  forEachFuncRun(sec: number, offset: number, fn: (cs: CodeSection, start: number, end: number) => boolean | void): void {
    let cs = this.code[sec];
    let pos = cs ? cs.posAt(offset) : -1;
    while (cs && pos >= 0) {
      // As nextInsnSameFunc(): on while the containing function stays the same.
      const sym = cs.a.sym;
      const f = sym[pos]!;
      const func = f >= 0 ? this.syms.all[f]! : undefined;
      if (!func || func.type !== STT_FUNC) {
        fn(cs, pos, pos + 1);
        return;
      }
      let end = pos + 1;
      while (end < cs.ds.count && sym[end] === f) end++;
      if (fn(cs, pos, end) || func === func.cfunc) return;
      cs = this.code[func.cfunc.sec];
      pos = cs ? cs.posAt(func.cfunc.offset) : -1;
    }
  }

  /** Instructions of a function and its .cold part (func_for_each_insn). */
  *funcInsns(func: Sym): Generator<Insn> {
    for (let i = this.findInsn(func.sec, func.offset); i; i = this.nextInsnSameFunc(i)) yield i;
  }

  /** The first relocation inside the instruction's bytes (objtool insn_reloc()). */
  insnReloc(insn: Insn): RelocRef | undefined {
    if (insn.pos < 0) return undefined;
    insn.relocLookedUp = true;
    const table = this.relocsOf(insn.sec);
    if (!table || !insn.hasReloc) return undefined;
    return { table, i: table.firstInRange(insn.offset, insn.offset + insn.len) };
  }

  /**
   * insnReloc()'s look-up on the arrays, for the passes' fast paths: whether the instruction at
   * `pos` has no relocation, recorded as looked up as insnReloc() records it. (False leaves the
   * instruction to insnReloc().)
   */
  noRelocAt(cs: CodeSection, pos: number): boolean {
    this.relocsOf(cs);
    return noRelocIn(cs.a.flags, pos);
  }

  /**
   * A code section's relocations. On the first request each instruction that has one is marked
   * (found from the relocations, far fewer than the instructions), so that insnReloc() searches
   * only for those, and a pass over every instruction can read HAS_RELOC itself.
   */
  relocsOf(cs: CodeSection): RelocTable | undefined {
    let t = this.relocTables.get(cs.index);
    if (t !== undefined) return t ?? undefined;
    t = this.elf.relocationsFor(cs.elf) ?? null;
    this.relocTables.set(cs.index, t);
    if (!t) return undefined;
    const { offset, len } = cs.ds;
    const flags = cs.a.flags;
    const at = t.sortedOffsets();
    for (let k = 0; k < at.length; k++) {
      // The instruction holding this offset: the last one starting at or before it.
      const pos = cs.posFrom(at[k]! + 1) - 1;
      if (pos >= 0 && at[k]! < offset[pos]! + len[pos]!) flags[pos] |= InsnBit.HAS_RELOC;
    }
    return t;
  }

  relocSym(r: RelocRef): Sym {
    return this.syms.all[r.table.sym(r.i)]!;
  }

  /** Decode every executable section (objtool decode_instructions()). */
  decode(): void {
    const opts = this.opts;
    for (const s of this.elf.sections) {
      if (!s.isExec) continue;
      const name = s.name;
      const text = name !== '.altinstr_replacement' && name !== '.altinstr_aux' && !name.startsWith('.discard.');
      const ni = this.layout.noinstr;
      const noinstr = ni.sections.includes(name) || ni.sectionPrefixes.some((p) => name.startsWith(p));
      const dopts = {
        file: this.objname,
        variant: this.layout.decoder,
        isInFunc: (off: number) => this.syms.findSymbolContaining(s.index, off)?.type === STT_FUNC,
      };
      const split = this.split?.sec === s.index ? this.split.job : undefined;
      const ds = split ? decodeSectionSplit(s.data, name, dopts, split.mid, () => split.wait(), split.shared) : decodeSection(s.data, name, dopts);
      split?.cancel();
      // (the worker's part is copied into ds: its ops, ~20 MB for vmlinux.o, can go)
      if (split) this.split = undefined;
      // What objtool's decoder warns about as it goes (notrack prefixes, bad LEAs, ENQCMD).
      for (const w of decodeWarnings(ds)) this.warn(w.message);
      if (ds.error) this.fatal(ds.error.objtoolMessage);
      const cs = new CodeSection(s, ds, this.cfis, this.syms.all, text, noinstr, name === '.init.text' && !opts.module);
      // ud2 is a dead end unless annotated reachable (GCC emits it for divide by zero). (A
      // typed array's indexOf() finds the few among millions far faster than a loop here.)
      for (let i = ds.type.indexOf(InsnType.BUG); i >= 0; i = ds.type.indexOf(InsnType.BUG, i + 1)) cs.a.flags[i] = InsnBit.DEAD_END;
      this.nrInsns += ds.count;
      if (this.pvOps && name.startsWith('.init.text')) {
        for (let i = 0; i < ds.count; i++) if (ds.flags[i]! & InsnFlag.PV_MOV_IMM) this.pvOps.addInitStore(new Insn(cs, i));
      }
      this.code[s.index] = cs;
      this.codeSections.push(cs);

      const notype = this.layout.check.decodeNotypeSymbols;
      for (const func of this.syms.inSection(s.index)) {
        if (func.type !== STT_FUNC && (func.type !== 0 || !notype)) continue;
        if (func.offset === s.size && notype) {
          // An "end" label is fine; a function there is not.
          if (func.type === 0) continue;
          this.fatal(`${func.name}(): STT_FUNC at end of section`);
        }
        if ((func.embeddedInsn && notype) || func.alias !== func) continue;
        const first = cs.posAt(func.offset);
        if (first < 0) this.fatal(`${func.name}(): can't find starting instruction`);
        cs.a.sym.fill(func.idx, first, Math.max(first, cs.posFrom(func.offset + func.len)));
      }
    }
  }

  /** objtool offstr(): `func+0xoff`, else `sym+0xoff`, else `section+0xoff`. */
  offstr(sec: number, offset: number): { text: string; symbol?: string; symOffset: number; section: string } {
    const section = this.elf.section(sec)!;
    let sym = section.isExec ? this.syms.findFuncContaining(sec, offset) : undefined;
    sym ??= this.syms.findSymbolContaining(sec, offset);
    const secAddr = this.opts.secAddress ? ` (${section.name}+0x${offset.toString(16)})` : '';
    if (sym) return { text: `${sym.name}+0x${(offset - sym.offset).toString(16)}${secAddr}`, symbol: sym.name, symOffset: offset - sym.offset, section: section.name };
    return { text: `${section.name}+0x${offset.toString(16)}`, symOffset: offset, section: section.name };
  }

  /** objtool WARN() (ERROR() with `severity` 'error'; with --werror every warning is one). */
  warn(message: string, severity?: 'error'): void {
    if (this.opts.werror) severity = 'error';
    this.warnings.add({ kind: 'warning', message, ...(severity ? { severity } : {}) });
  }

  /** objtool WARN_FUNC(): a message at a section offset. */
  warnAt(sec: number, offset: number, message: string, severity?: 'error'): void {
    if (this.opts.werror) severity = 'error';
    const o = this.offstr(sec, offset);
    this.warnings.add({
      kind: 'warning', location: o.text, symbol: o.symbol, offset: o.symOffset, section: o.section, sectionOffset: offset, message,
      ...(severity ? { severity } : {}),
    });
  }

  /** objtool WARN_INSN(): from 6.4 on, one warning per symbol. */
  warnInsn(insn: Insn, message: string, severity?: 'error'): void {
    const once = this.layout.warnOncePerSymbol;
    if (!once || !insn.sym || !insn.sym.warned) this.warnAt(insn.sec.index, insn.offset, message, severity);
    if (once && insn.sym) insn.sym.warned = true;
  }

  /** How this kernel's objtool prints a fatal error: 'error' from 7.x, undefined (a warning) before. */
  private get fatalSeverity(): 'error' | undefined {
    return this.layout.severity.fatalWord === 'error' ? 'error' : undefined;
  }

  /** objtool BT_INSN(): a backtrace line with --backtrace or --verbose. */
  backtrace(insn: Insn, message: string): void {
    if (!this.opts.backtrace && !this.opts.verbose) return;
    const o = this.offstr(insn.sec.index, insn.offset);
    this.warnings.add({ ...(this.opts.werror ? { severity: 'error' as const } : {}), kind: 'backtrace', location: o.text, symbol: o.symbol, offset: o.symOffset, section: o.section, sectionOffset: insn.offset, message });
  }

  /**
   * Run a kernel-metadata reader: its errors on bad input are objtool's fatal errors here (the
   * message as objtool prints it, and no ORC).
   */
  kernelRead<T>(read: () => T): T {
    try {
      return read();
    } catch (e) {
      if (e instanceof OrctoolError) this.fatal(e.detail);
      throw e;
    }
  }

  /** Report and stop: objtool's fatal -1 paths. */
  fatal(message: string): never {
    this.warn(message, this.fatalSeverity);
    throw new FatalCheckError(message);
  }

  fatalAt(sec: number, offset: number, message: string): never {
    this.warnAt(sec, offset, message, this.fatalSeverity);
    throw new FatalCheckError(message);
  }

  fatalInsn(insn: Insn, message: string): never {
    this.warnInsn(insn, message, this.fatalSeverity);
    throw new FatalCheckError(message);
  }
}
