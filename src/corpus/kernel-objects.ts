// SPDX-License-Identifier: GPL-2.0-only
// orctool against objtool on objects compiled from the kernel's own source: the ones
// scripts/build-kernel.sh keeps (per-TU objects objtool never touched, module objects and
// vmlinux.o as objtool was handed them). Each object is copied twice, one copy goes to orctool
// and one to objtool with the same flags, and the two results are compared: the warnings
// (file name normalised, sorted), the exit status, `objtool --dump=orc` of both written files,
// and the bytes of the code sections and their relocations (what --hacks=jump_label edits).
// Test and benchmark harness only: orctool itself never runs objtool.
//   npm run kbuild:parity [-- [--kernel 6.12|7.3] [--debug-info | --no-ibt] [--kind tu,modules,vmlinux] [--limit N] [--time [--rounds N]]]
// --no-ibt reads the build of scripts/build-kernel.sh --no-ibt (IBT off, so kbuild runs objtool on
// every translation unit and the wrapper keeps each TU as objtool was handed it): each TU is
// compared with its own logged command line.
// orctool runs with the variables kbuild exports to objtool's command (srctree, VERSION,
// PATCHLEVEL), as in the build, so that objects without a version marker are read as the tree's.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runCheckCommand, parseCommandLine } from '../cli/check-command.js';
import { ElfFile } from '../elf/reader.js';
import { SHT_REL, SHT_RELA } from '../elf/constants.js';
import type { Section } from '../elf/section.js';
import { OrctoolError, UsageError } from '../errors.js';
import { type ObjtoolVersion, objtoolPath, runObjtool } from '../testing/corpus.js';

/** The kernel whose build is compared (--kernel), and the oracle for it: Debian's objtool of that release. */
let kernel: ObjtoolVersion = '6.12';

/** --no-ibt: the build without IBT (scripts/build-kernel.sh --no-ibt, $CACHE/<version>-noibt). */
let noIbt = false;

/** What kbuild exports to objtool's command for this kernel. */
function kbuildEnv(): Record<string, string> {
  const [v, p] = kernel.split('.');
  return { srctree: join(kbuildRoot(), 'src', `linux-source-${kernel}`), VERSION: v!, PATCHLEVEL: p! };
}
import { repoRoot } from '../testing/toolchain.js';
import { firstElfDiff } from '../testing/elf-compare.js';

// --- the build cache ------------------------------------------------------------------------------

/** The cache root; must match scripts/build-kernel.sh (ORCTOOL_KBUILD, else ~/.cache/orctool-kbuild). */
export function kbuildRoot(): string {
  const env = process.env['ORCTOOL_KBUILD'];
  return resolve(env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'orctool-kbuild'));
}

/** One build variant's directory: 6.12 (no debug info), 6.12-debug or, with --no-ibt, 6.12-noibt (7.3, ...). */
export function kbuildDir(debugInfo = false): string {
  return join(kbuildRoot(), debugInfo ? `${kernel}-debug` : noIbt ? `${kernel}-noibt` : kernel);
}

export type ObjectKind = 'tu' | 'modules' | 'vmlinux';

export interface KernelObject {
  kind: ObjectKind;
  /** Path relative to the build tree, e.g. kernel/fork.o, fs/fuse/fuse.o, vmlinux.o. */
  name: string;
  /** The kept copy (never handed to a tool: callers copy it). */
  path: string;
}

function stageDone(dir: string, kind: ObjectKind): boolean {
  return existsSync(join(dir, 'objects', kind, '.stamp'));
}

function listFile(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

/** The kept objects of one stage, sorted by name; empty when the stage has not finished. */
export function kernelObjects(kind: ObjectKind, debugInfo = false): KernelObject[] {
  const dir = kbuildDir(debugInfo);
  if (!stageDone(dir, kind)) return [];
  const base = join(dir, 'objects', kind);
  // vmlinux.o first, then whatever else built in the build handed objtool (7.x: list.txt).
  if (kind === 'vmlinux') {
    const others = existsSync(join(base, 'list.txt')) ? listFile(join(base, 'list.txt')).filter((n) => n !== 'vmlinux.o') : [];
    return [{ kind, name: 'vmlinux.o', path: join(base, 'vmlinux.o') }, ...others.map((name) => ({ kind, name, path: join(base, name) }))];
  }
  const files = kind === 'tu' ? join(base, 'files') : base;
  return listFile(join(base, 'list.txt'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({ kind, name, path: join(files, name) }));
}

/** `count` items spread evenly over the list, so every machine with the same build tests the same ones. */
export function sampleEvenly<T>(all: readonly T[], count: number): T[] {
  if (count >= all.length) return [...all];
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(all[Math.floor((i * all.length) / count)]!);
  return out;
}

/**
 * Replace every Xen/KVM "emulate prefix" (ud2; .ascii "xen" or "kvm", which objtool's decoder,
 * the kernel's insn.c, reads as a prefix of the next instruction) in the code sections of a copy
 * of `src` with a 5-byte NOP, so that a tool whose decoder lacks the prefix can still be compared
 * and timed on the rest of the object. Returns the number of sites replaced.
 */
export function replaceEmulatePrefixes(src: string, dst: string): number {
  const bytes = readFileSync(src);
  const elf = ElfFile.fromBytes(bytes, src);
  const prefixes = [[0x0f, 0x0b, 0x78, 0x65, 0x6e], [0x0f, 0x0b, 0x6b, 0x76, 0x6d]];
  const nop5 = [0x0f, 0x1f, 0x44, 0x00, 0x00];
  let n = 0;
  for (const sec of elf.sections) {
    if (!sec.isExec || sec.type === 8 /* SHT_NOBITS */) continue;
    const end = sec.offset + sec.size - 5;
    for (let at = sec.offset; at <= end; at++) {
      if (bytes[at] !== 0x0f || bytes[at + 1] !== 0x0b) continue;
      if (!prefixes.some((p) => p.every((b, k) => bytes[at + k] === b))) continue;
      for (let k = 0; k < 5; k++) bytes[at + k] = nop5[k]!;
      n++;
    }
  }
  writeFileSync(dst, bytes);
  return n;
}

// --- the kernel's objtool command lines --------------------------------------------------------------

export interface LoggedFlags {
  /** The distinct flag sets (file dropped) objtool was run with on vmlinux.o. */
  vmlinux: string[][];
  /** ... and on module objects (run with --module). */
  modules: string[][];
  /** ... and on other objects: built-in objects of 7.x, every built-in TU of a build without IBT. */
  others: string[][];
  /** Each object's own command line (the last logged), by its path in the build tree. */
  byFile: Map<string, string[]>;
}

/** The flag sets of the build's objtool log (every command the wrapper saw). */
export function loggedFlags(debugInfo = false): LoggedFlags {
  const log = join(kbuildDir(debugInfo), 'objtool-commands.log');
  const out: LoggedFlags = { vmlinux: [], modules: [], others: [], byFile: new Map() };
  if (!existsSync(log)) return out;
  const seen = new Set<string>();
  for (const line of listFile(log)) {
    const words = line.split(' ').filter((w) => w !== '');
    if (words[0] !== 'objtool' || words.length < 3) continue;
    const file = words.at(-1)!;
    const flags = words.slice(1, -1);
    out.byFile.set(file, flags);
    // (7.x also runs objtool on built-in objects such as .vmlinux.export.o and the startup code:
    // their flag sets are compared on them, through byFile, not on vmlinux.o or the modules)
    const kind = file === 'vmlinux.o' ? 'vmlinux' : flags.includes('--module') ? 'modules' : 'others';
    const key = `${kind} ${flags.join(' ')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out[kind].push(flags);
  }
  return out;
}

/** Split a flag set into what orctool implements and what it refuses as not implemented yet. */
export function implementedFlags(flags: readonly string[]): { kept: string[]; missing: string[] } {
  const kept: string[] = [];
  const missing: string[] = [];
  for (const f of flags) {
    try {
      parseCommandLine([f, 'x.o']);
      kept.push(f);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      missing.push(f);
    }
  }
  return { kept, missing };
}

export interface FlagSet {
  name: string;
  /** The flags; with `perObject`, each object's own logged command line instead. */
  flags: string[];
  perObject?: boolean;
  /** The kernel's flags orctool does not implement, dropped from this set. */
  missing?: string[];
}

/**
 * The flag sets each kind of object is compared with. The TUs of a build without IBT
 * (`noIbtBuild`, --no-ibt) were each handed to objtool by kbuild: each with its own command line.
 */
export function flagSetsFor(kind: ObjectKind, logged: LoggedFlags, noIbtBuild = noIbt): FlagSet[] {
  if (kind === 'tu' && noIbtBuild) {
    return [{ name: `the build's own command line of each TU (IBT off)`, flags: [], perObject: true }];
  }
  if (kind === 'tu') {
    // With IBT the kernel never runs objtool on a TU; without it a TU gets the module flag set
    // minus --link/--module, so that (restricted) set is compared too.
    const sets: FlagSet[] = [
      { name: 'orc', flags: ['--orc'] },
      { name: 'orc prefix=16', flags: ['--orc', '--prefix=16'] },
      { name: 'orc stackval uaccess', flags: ['--orc', '--stackval', '--uaccess'] },
      { name: 'orc stackval uaccess prefix=16', flags: ['--orc', '--stackval', '--uaccess', '--prefix=16'] },
      { name: 'mitigation sites', flags: ['--orc', '--retpoline', '--rethunk', '--sls', '--static-call', '--hacks=skylake', '--mcount'] },
      { name: 'ibt link', flags: ['--orc', '--ibt', '--link'] },
    ];
    // A build without IBT runs objtool on each TU with the module flags but --link, --module and
    // --ibt (kbuild's objtool-args-y without delay-objtool): those, on this build's TUs.
    const mod = logged.modules[0] ?? logged.vmlinux[0];
    if (mod) {
      const { kept, missing } = implementedFlags(mod.filter((f) => f !== '--link' && f !== '--module' && f !== '--ibt'));
      sets.push({ name: 'the TU flags of a build without IBT', flags: kept, missing });
    }
    return sets;
  }
  const sets: FlagSet[] = [{ name: `the build's own command line of each object`, flags: [], perObject: true }];
  for (const flags of logged[kind]) {
    const { kept, missing } = implementedFlags(flags);
    sets.push({ name: `kernel ${kind} flags (restricted)`, flags: kept, missing });
  }
  const link = kind === 'modules' ? ['--link', '--module'] : ['--link'];
  sets.push({ name: `orc ${link.join(' ')}`, flags: ['--orc', ...link] });
  if (kind === 'modules') sets.push({ name: `orc prefix=16 ${link.join(' ')}`, flags: ['--orc', '--prefix=16', ...link] });
  // --noinstr alone walks only the noinstr sections (objtool validate_noinstr_sections()).
  if (kind === 'vmlinux') sets.push({ name: 'noinstr link', flags: ['--noinstr', '--link'] });
  return sets;
}

// --- one comparison ---------------------------------------------------------------------------------

export interface ObjectParity {
  name: string;
  warnings: boolean;
  status: boolean;
  orc: boolean;
  code: boolean;
  symbols: boolean;
  /** The same ELF content (every section's header fields and bytes; src/testing/elf-compare.ts). */
  elf: boolean;
  /** The symbol tables differ only by __pfx_ symbols objtool --prefix added and orctool did not. */
  onlyPfxSymbols?: number;
  /** First difference of each kind, for the report. */
  detail?: string;
}

/** Parity as issue 5 defines it: the same warnings and the same `objtool --dump=orc`. */
export function identical(r: ObjectParity): boolean {
  return r.warnings && r.orc;
}

function firstDiff(ours: readonly string[], theirs: readonly string[]): string {
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    if (ours[i] !== theirs[i]) return `line ${i + 1}: orctool '${ours[i] ?? '<none>'}' objtool '${theirs[i] ?? '<none>'}'`;
  }
  return '';
}

/** stderr lines with the file's path replaced, sorted (the tools' orders may differ). */
function normalizeStderr(text: string, path: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(path).join('FILE')).sort();
}

/**
 * The first difference in what a tool may edit besides adding ORC: the bytes of the code
 * sections (jump-label NOPs) and their relocations (R_X86_64_NONE), compared by meaning
 * (offset, type, symbol name, addend) since symbol indices move when symbols are added.
 */
function firstCodeDiff(ours: string, theirs: string): string | undefined {
  const a = ElfFile.open(ours);
  const b = ElfFile.open(theirs);
  const isCodeRel = (elf: ElfFile, s: Section) => (s.type === SHT_RELA || s.type === SHT_REL) && elf.section(s.info)?.isExec === true;
  for (const x of a.sections) {
    const y = b.section(x.index);
    const isCode = x.isExec || isCodeRel(a, x);
    if (!isCode) continue;
    if (!y || y.name !== x.name) return `[${x.index}] ${x.name}: not at the same index in objtool's output`;
    if (x.isExec) {
      const dx = x.data;
      const dy = y.data;
      if (dx.length !== dy.length) return `[${x.index}] ${x.name}: size 0x${dx.length.toString(16)} vs objtool 0x${dy.length.toString(16)}`;
      for (let i = 0; i < dx.length; i++) {
        if (dx[i] !== dy[i]) return `[${x.index}] ${x.name}+0x${i.toString(16)}: orctool 0x${dx[i]!.toString(16)} objtool 0x${dy[i]!.toString(16)}`;
      }
      continue;
    }
    const rx = a.relocTable(x);
    const ry = b.relocTable(y);
    if (rx.count !== ry.count) return `${x.name}: ${rx.count} relocations vs objtool ${ry.count}`;
    const sa = a.symbols!;
    const sb = b.symbols!;
    for (let i = 0; i < rx.count; i++) {
      const ea = `0x${rx.offset(i).toString(16)} type ${rx.type(i)} ${rx.sym(i) ? sa.displayName(rx.sym(i)) : '-'} ${rx.addend(i)}`;
      const eb = `0x${ry.offset(i).toString(16)} type ${ry.type(i)} ${ry.sym(i) ? sb.displayName(ry.sym(i)) : '-'} ${ry.addend(i)}`;
      if (ea !== eb) return `${x.name} entry ${i}: orctool ${ea} objtool ${eb}`;
    }
  }
  for (const y of b.sections) {
    if ((y.isExec || isCodeRel(b, y)) && a.section(y.index)?.name !== y.name) return `[${y.index}] ${y.name}: only in objtool's output`;
  }
  return undefined;
}

/** The symbol tables as sorted sets of (name, value, size, type, bind, section name). */
function firstSymbolDiff(ours: string, theirs: string): { detail: string; onlyPfx?: number } | undefined {
  const list = (path: string): string[] => {
    const elf = ElfFile.open(path);
    const t = elf.symbols;
    const out: string[] = [];
    if (t) {
      for (let i = 1; i < t.count; i++) {
        const r = t.record(i);
        const sec = r.shndx > 0 && r.shndx < 0xff00 ? elf.section(r.shndx)?.name ?? `#${r.shndx}` : `#${r.shndx}`;
        out.push(`${t.displayName(i)} ${sec}+0x${r.value.toString(16)} size ${r.size} type ${r.type} bind ${r.bind}`);
      }
    }
    return out.sort();
  };
  const a = list(ours);
  const b = list(theirs);
  if (a.length === b.length && a.every((x, i) => x === b[i])) return undefined;
  const setA = new Set(a);
  const setB = new Set(b);
  const onlyA = a.filter((x) => !setB.has(x));
  const onlyB = b.filter((x) => !setA.has(x));
  const show = (xs: string[]) => xs.slice(0, 2).join(', ') + (xs.length > 2 ? `, ... (${xs.length})` : '');
  const detail = `orctool ${a.length} symbols, objtool ${b.length}` + (onlyA.length ? `; only orctool: ${show(onlyA)}` : '') + (onlyB.length ? `; only objtool: ${show(onlyB)}` : '');
  const onlyPfx = onlyA.length === 0 && onlyB.every((x) => x.startsWith('__pfx_')) ? onlyB.length : undefined;
  return { detail, onlyPfx };
}

function runOrctoolInProcess(args: string[]): { status: number; stderr: string } {
  let stderr = '';
  const saved = { ...process.env };
  Object.assign(process.env, kbuildEnv());
  try {
    const status = runCheckCommand(args, { stdout: () => {}, stderr: (s) => (stderr += s) });
    return { status, stderr };
  } catch (e) {
    // As bin/orctool reports it (src/cli/main.ts).
    const kind = e instanceof OrctoolError || e instanceof UsageError ? 'error' : 'internal error';
    return { status: 1, stderr: stderr + `orctool: ${kind}: ${(e as Error).message}\n` };
  } finally {
    for (const k of Object.keys(kbuildEnv())) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  }
}

function runOrctoolChild(args: string[]): { status: number; stderr: string } {
  const r = spawnSync(join(repoRoot, 'bin', 'orctool'), args, { encoding: 'latin1', maxBuffer: 1 << 30, env: { ...process.env, ...kbuildEnv() } });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stderr: r.stderr };
}

/**
 * Copy `object` twice, run orctool on one and objtool 6.12 on the other with `flags`, and
 * compare. `inProcess: false` runs bin/orctool in a child (for vmlinux.o: its own heap).
 */
export function parityForObject(object: KernelObject, flags: readonly string[], opts: { inProcess?: boolean } = {}): ObjectParity {
  const dir = mkdtempSync(join(tmpdir(), 'orctool-kobj-'));
  try {
    // The same base name in two directories: warnings name the file, so they normalise alike.
    const ours = join(dir, 'orctool', basename(object.path));
    const theirs = join(dir, 'objtool', basename(object.path));
    mkdirSync(join(dir, 'orctool'));
    mkdirSync(join(dir, 'objtool'));
    copyFileSync(object.path, ours);
    copyFileSync(object.path, theirs);
    const o = opts.inProcess === false ? runOrctoolChild([...flags, ours]) : runOrctoolInProcess([...flags, ours]);
    const t = runObjtool(kernel, [...flags, theirs]);
    const w1 = normalizeStderr(o.stderr, ours);
    const w2 = normalizeStderr(t.stderr, theirs);
    const d1 = runObjtool(kernel, ['--dump=orc', ours]);
    const d2 = runObjtool(kernel, ['--dump=orc', theirs]);
    const l1 = (d1.stdout + d1.stderr.split(ours).join('FILE')).split('\n');
    const l2 = (d2.stdout + d2.stderr.split(theirs).join('FILE')).split('\n');
    const warnings = w1.join('\n') === w2.join('\n');
    const status = o.status === (t.status ?? -1);
    const orc = l1.join('\n') === l2.join('\n');
    const codeDiff = firstCodeDiff(ours, theirs);
    const symDiff = firstSymbolDiff(ours, theirs);
    const elfDiff = firstElfDiff(ours, theirs);
    const detail = [
      warnings ? '' : `warnings ${firstDiff(w1, w2)} (orctool ${w1.length} lines, objtool ${w2.length})`,
      status ? '' : `exit status orctool ${o.status} objtool ${t.status}`,
      orc ? '' : `orc ${firstDiff(l1, l2)}`,
      codeDiff === undefined ? '' : `code ${codeDiff}`,
      symDiff === undefined ? '' : `symbols ${symDiff.detail}`,
      elfDiff === undefined ? '' : `elf ${elfDiff}`,
    ].filter(Boolean).join('; ');
    return {
      name: object.name, warnings, status, orc, code: codeDiff === undefined, symbols: symDiff === undefined, elf: elfDiff === undefined,
      onlyPfxSymbols: symDiff?.onlyPfx, detail: detail || undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- timing ----------------------------------------------------------------------------------------------

export interface Timing {
  secs: number;
  rssMiB: number;
}

/** Wall time and peak RSS (GNU time's %M) of one command. */
export function timeCommand(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Timing {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'latin1', env, maxBuffer: 1 << 30 });
  const secs = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { secs, rssMiB: kb / 1024 };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** orctool and objtool alternately on fresh copies of `object`, `rounds` times each. */
export function timeBoth(object: KernelObject, flags: readonly string[], rounds: number): { orctool: Timing; objtool: Timing; runs: string[] } {
  const bin = objtoolPath(kernel);
  if (!bin) throw new Error(`objtool ${kernel} not fetched: run scripts/corpus.sh objtool-${kernel}`);
  const dir = mkdtempSync(join(tmpdir(), 'orctool-ktime-'));
  const ours: Timing[] = [];
  const theirs: Timing[] = [];
  const runs: string[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const a = join(dir, `orctool-${basename(object.path)}`);
      const b = join(dir, `objtool-${basename(object.path)}`);
      copyFileSync(object.path, a);
      copyFileSync(object.path, b);
      // Alternate who goes first, so neither always gets the warm page cache.
      const order = r % 2 === 0 ? ['orctool', 'objtool'] : ['objtool', 'orctool'];
      for (const who of order) {
        if (who === 'orctool') ours.push(timeCommand(join(repoRoot, 'bin', 'orctool'), [...flags, a]));
        else theirs.push(timeCommand(bin, [...flags, b], { ...process.env, SRCARCH: 'x86' }));
      }
      runs.push(`round ${r + 1}: orctool ${ours.at(-1)!.secs.toFixed(2)} s ${ours.at(-1)!.rssMiB.toFixed(0)} MiB, objtool ${theirs.at(-1)!.secs.toFixed(2)} s ${theirs.at(-1)!.rssMiB.toFixed(0)} MiB`);
      rmSync(a);
      rmSync(b);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    orctool: { secs: median(ours.map((t) => t.secs)), rssMiB: median(ours.map((t) => t.rssMiB)) },
    objtool: { secs: median(theirs.map((t) => t.secs)), rssMiB: median(theirs.map((t) => t.rssMiB)) },
    runs,
  };
}

// --- the command -----------------------------------------------------------------------------------------

function main(args: string[]): number {
  let debugInfo = false;
  let limit = 0;
  let kinds: ObjectKind[] = ['tu', 'modules', 'vmlinux'];
  let time = false;
  let rounds = 3;
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === '--debug-info') debugInfo = true;
    else if (a === '--no-ibt') noIbt = true;
    else if (a === '--kernel' && (args[k + 1] === '6.12' || args[k + 1] === '7.3')) kernel = args[++k] as ObjtoolVersion;
    else if (a === '--limit') limit = Number(args[++k]);
    else if (a === '--kind') kinds = args[++k]!.split(',') as ObjectKind[];
    else if (a === '--time') time = true;
    else if (a === '--rounds') rounds = Number(args[++k]);
    else {
      console.error(`usage: kernel-objects [--kernel 6.12|7.3] [--debug-info | --no-ibt] [--kind tu,modules,vmlinux] [--limit N] [--time [--rounds N]]`);
      return 2;
    }
  }
  if (debugInfo && noIbt) {
    console.error('kernel-objects: --debug-info and --no-ibt are two different builds: one at a time');
    return 2;
  }
  if (!objtoolPath(kernel)) {
    console.log(`objtool ${kernel} not fetched: scripts/corpus.sh objtool-${kernel}`);
    return 1;
  }
  const dir = kbuildDir(debugInfo);
  const logged = loggedFlags(debugInfo);
  console.log(`build: ${dir}`);
  const what = { vmlinux: 'vmlinux', modules: noIbt ? 'module TUs' : 'modules', others: noIbt ? 'built-in TUs' : 'other built-in objects' };
  for (const kind of ['vmlinux', 'modules', 'others'] as const) {
    for (const flags of logged[kind]) {
      const { missing } = implementedFlags(flags);
      console.log(`kernel's objtool flags for ${what[kind]}: ${flags.join(' ')}`);
      console.log(`  not implemented by orctool: ${missing.length ? missing.join(' ') : '(none)'}`);
    }
  }
  let failed = 0;
  for (const kind of kinds) {
    const all = kernelObjects(kind, debugInfo);
    if (all.length === 0) {
      console.log(`${kind}: not built (scripts/build-kernel.sh --kernel ${kernel}${debugInfo ? ' --debug-info' : noIbt ? ' --no-ibt' : ''})`);
      continue;
    }
    const objects = limit ? sampleEvenly(all, limit) : all;
    let scratch: string | undefined;
    if (kind === 'vmlinux') {
      // orctool's decoder may lack the Xen/KVM emulate prefix: also compare (and time) a copy
      // with those few sites replaced by NOPs, the same input for both tools.
      scratch = mkdtempSync(join(tmpdir(), 'orctool-kvmlinux-'));
      const path = join(scratch, 'vmlinux.o');
      const sites = replaceEmulatePrefixes(all[0]!.path, path);
      console.log(`vmlinux.o with its ${sites} Xen/KVM emulate-prefix sites replaced by 5-byte NOPs: compared as 'vmlinux.o (nop5)'`);
      objects.push({ kind, name: 'vmlinux.o (nop5)', path });
    }
    for (const set of flagSetsFor(kind, logged)) {
      const t0 = performance.now();
      let same = 0;
      const counts = { warnings: 0, status: 0, orc: 0, code: 0, symbols: 0, elf: 0 };
      const lines: string[] = [];
      let pfxObjects = 0;
      let pfxSymbols = 0;
      let compared = 0;
      const unlogged: string[] = [];
      objects.forEach((obj, i) => {
        const flags = set.perObject ? logged.byFile.get(obj.name.replace(/ \(nop5\)$/, '')) : set.flags;
        if (!flags) {
          unlogged.push(obj.name);
          return;
        }
        compared++;
        const r = parityForObject(obj, flags, { inProcess: !obj.name.startsWith('vmlinux.o') });
        if (identical(r)) same++;
        for (const key of Object.keys(counts) as (keyof typeof counts)[]) if (r[key]) counts[key]++;
        const onlyPfx = r.warnings && r.status && r.orc && r.code && r.onlyPfxSymbols !== undefined;
        if (onlyPfx) {
          pfxObjects++;
          pfxSymbols += r.onlyPfxSymbols!;
        } else if (r.detail) lines.push(`  ${r.name}: ${r.detail}`);
        if (process.stderr.isTTY) process.stderr.write(`\r${kind} [${set.name}]: ${i + 1}/${objects.length}`);
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      const n = compared;
      console.log(`${kind} [${set.name}: ${set.flags.join(' ')}]: ${same}/${n} objects identical ` +
        `(warnings ${counts.warnings}/${n}, ORC ${counts.orc}/${n}; also exit status ${counts.status}/${n}, code+relocs ${counts.code}/${n}, symbols ${counts.symbols}/${n}, whole ELF ${counts.elf}/${n}; ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s)` + (set.missing?.length ? `; kernel flags dropped: ${set.missing.join(' ')}` : ''));
      if (pfxObjects) console.log(`  ${pfxObjects} objects differ only by ${pfxSymbols} __pfx_ symbols that objtool added and orctool did not`);
      if (unlogged.length) {
        console.log(`  ${unlogged.length} objects with no logged command line, not compared: ${unlogged.slice(0, 5).join(' ')}${unlogged.length > 5 ? ' ...' : ''}`);
      }
      for (const l of lines) console.log(l);
      if (same !== n) failed++;
    }
    if (time && kind === 'vmlinux') {
      for (const obj of objects) {
        const size = statSync(obj.path).size;
        for (const set of flagSetsFor(kind, logged)) {
          const t = timeBoth(obj, set.flags, rounds);
          console.log(`time ${obj.name} (${(size / 2 ** 20).toFixed(0)} MiB) [${set.flags.join(' ')}], median of ${rounds}: ` +
            `orctool ${t.orctool.secs.toFixed(2)} s ${t.orctool.rssMiB.toFixed(0)} MiB, objtool ${t.objtool.secs.toFixed(2)} s ${t.objtool.rssMiB.toFixed(0)} MiB, ` +
            `ratio time ${(t.orctool.secs / t.objtool.secs).toFixed(2)} RSS ${(t.orctool.rssMiB / t.objtool.rssMiB).toFixed(2)}`);
          for (const r of t.runs) console.log(`  ${r}`);
        }
      }
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
