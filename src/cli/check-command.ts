// SPDX-License-Identifier: GPL-2.0-only
// objtool's own command line: `orctool <actions> [<options>] file.o...` with objtool 6.12's
// options, its option checks and messages, and --dump=orc. Options orctool does not implement
// yet are refused by name rather than ignored. Several files are checked by a pool of workers
// (batch.ts) running the same per-file path as the sequential loop here.
import { copyFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { ElfEditor, RELOCATE_MIN_BYTES } from '../elf/writer.js';
import { startGlobalRefs } from '../elf/global-refs.js';
import { recoverInterruptedWrite } from '../elf/atomic-write.js';
import { STT_FILE } from '../elf/constants.js';
import { OrctoolError, UsageError } from '../errors.js';
import { detectLayout, kbuildRelease } from '../kernel/detect.js';
import { type KernelLayout, LAYOUT_NAMES, OPTION_SPELLING, layoutByName } from '../kernel/versions.js';
import { check } from '../analysis/check.js';
import { phase } from '../phases.js';
import { collectGarbage } from '../gc.js';
import { defaultOptions, type CheckOptions } from '../analysis/options.js';
import type { Warning } from '../analysis/warnings.js';
import { writeOutputs } from '../actions/output.js';
import { printFunctions } from '../actions/disas.js';
import { dumpOrcFile } from '../orc/dump.js';
import { errorLine } from './error-line.js';
import type { BatchOutput } from './batch.js';
import { ORCTOOL_VERSION, type SarifWarning, toSarif } from './sarif.js';

export interface CommandLine {
  opts: CheckOptions;
  dumpOrc: boolean;
  kernel?: KernelLayout;
  json: boolean;
  /** --format=sarif: the JSON records are gathered into one SARIF log (sarif.ts) at the end. */
  sarif?: boolean;
  /** orctool's --jobs=N: threads for a batch of files (the main one and N-1 workers); 1: no workers. */
  jobs?: number;
  /** 7.x -o/--output: the file is copied here and the copy is worked on (and named in messages). */
  output?: string;
  /** The arguments as given (7.x --backup prints them to reproduce a run). */
  argv: readonly string[];
  /** 7.x --disas[=pattern]: list the matching functions (orctool's rendering). */
  disas?: string;
  /** 7.x --trace <pattern>: list the matching functions with the state recorded at each instruction. */
  trace?: string;
  /** 7.x --wide: listings show the instruction bytes too. */
  wide?: boolean;
  files: string[];
}

export interface CheckOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const BOOL_OPTIONS: Record<string, keyof CheckOptions> = {
  '--orc': 'orc', '-o': 'orc', '--werror': 'werror', '--stackval': 'stackval', '-s': 'stackval', '--uaccess': 'uaccess', '-u': 'uaccess',
  '--link': 'link', '--module': 'module', '--dry-run': 'dryRun', '--backtrace': 'backtrace', '--no-unreachable': 'noUnreachable',
  '--sec-address': 'secAddress', '--stats': 'stats', '--verbose': 'verbose', '-v': 'verbose',
  '--noinstr': 'noinstr', '-n': 'noinstr', '--retpoline': 'retpoline', '-r': 'retpoline', '--rethunk': 'rethunk',
  '--sls': 'sls', '-l': 'sls', '--static-call': 'staticCall', '-t': 'staticCall', '--mcount': 'mcount', '-m': 'mcount',
  '--mnop': 'mnop', '--ibt': 'ibt', '-i': 'ibt', '--backup': 'backup', '--unret': 'unret',
  '--noabs': 'noabs', '--cfi': 'cfi', '--fineibt': 'fineibt', '--klp-symids': 'klpSymids',
};

/** objtool options that orctool does not implement yet: refused, never ignored. */
const NOT_YET = new Set<string>([]);

/**
 * objtool's command line. As objtool does, the options in OBJTOOL_ARGS (split at single spaces)
 * come first, and OBJTOOL_VERBOSE=1 means --verbose; `env` is the process environment.
 */
export function parseCommandLine(args: string[], env: NodeJS.ProcessEnv = process.env): CommandLine {
  const opts = defaultOptions();
  const cl: CommandLine = { opts, dumpOrc: false, json: false, files: [], argv: args };
  // (words of OBJTOOL_ARGS that are not options are dropped, as objtool's parse_options() leaves them)
  const fromEnv = env['OBJTOOL_ARGS'] ? env['OBJTOOL_ARGS'].split(' ').filter((w) => w.startsWith('-')) : [];
  const argv = [...fromEnv, ...args];
  if (env['OBJTOOL_VERBOSE'] === '1') opts.verbose = true;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const [name, value] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--output' || (name === '-o' && outputMeansO())) {
      // 6.x's -o is --orc; 7.x made it --output (see outputMeansO()).
      const v = value ?? argv[++k];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a file name`);
      cl.output = v;
    } else if (name === '--disas' || name === '-d') {
      cl.disas = value ?? '*';
    } else if (name === '--trace') {
      const v = value ?? argv[++k];
      if (v === undefined) throw new UsageError('--trace needs a function pattern');
      cl.trace = v;
    } else if (name === '--wide') {
      cl.wide = true;
    } else if (BOOL_OPTIONS[name]) {
      (opts as unknown as Record<string, boolean>)[BOOL_OPTIONS[name]!] = true;
    } else if (NOT_YET.has(name)) {
      throw new UsageError(`option ${name} is not implemented by orctool yet`);
    } else if (name === '--dump') {
      if (value !== undefined && value !== 'orc') throw new UsageError(`--dump: unknown kind '${value}' (only orc)`);
      cl.dumpOrc = true;
    } else if (name === '--hacks' || name === '-h') {
      for (const h of (value ?? 'jump_label,noinstr,skylake').split(',')) {
        if (h === 'jump_label') opts.hackJumpLabel = true;
        else if (h === 'noinstr') opts.hackNoinstr = true;
        else if (h === 'skylake') opts.hackSkylake = true;
        else throw new UsageError(`--hacks: unknown hack '${h}'`);
      }
    } else if (name === '--prefix') {
      const v = value ?? argv[++k];
      if (v === undefined || !/^\d+$/.test(v)) throw new UsageError('--prefix needs a number');
      opts.prefix = Number(v);
    } else if (name === '--kernel') {
      const v = value ?? argv[++k];
      const l = v ? layoutByName(v) : undefined;
      if (!l) throw new UsageError(`--kernel: unknown kernel layout '${v}' (one of ${LAYOUT_NAMES.join(', ')})`);
      cl.kernel = l;
    } else if (name === '--format') {
      const v = value ?? argv[++k];
      if (v !== 'json' && v !== 'text' && v !== 'sarif') throw new UsageError(`--format: '${v}' (text, json or sarif)`);
      cl.json = v === 'json' || v === 'sarif';
      cl.sarif = v === 'sarif';
    } else if (name === '--jobs') {
      const v = value ?? argv[++k];
      if (v === undefined || !/^[1-9]\d*$/.test(v)) throw new UsageError('--jobs needs a positive number');
      cl.jobs = Number(v);
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option '${a}'`);
    } else {
      cl.files.push(a);
    }
  }
  if (cl.files.length === 0) throw new UsageError('no input file');
  if (cl.output !== undefined && cl.files.length !== 1) throw new UsageError('--output takes one input file');
  return cl;
}

/**
 * `-o` is `--orc` in objtool up to 6.12 and `--output` from 7.x. orctool takes the meaning of the
 * kernel being built when kbuild runs it (its exported VERSION), else 6.x's; `--output` is never
 * ambiguous.
 */
function outputMeansO(): boolean {
  const r = kbuildRelease();
  return r !== undefined && Number(r.split('.')[0]) >= 7;
}

/** objtool has_multiple_files(): more than one STT_FILE symbol means a linked object. */
export function isLinkedObject(elf: ElfFile): boolean {
  const syms = elf.symbols;
  let files = 0;
  if (syms) for (let i = 0; i < syms.count && files < 2; i++) if (syms.type(i) === STT_FILE) files++;
  return files > 1;
}

/** objtool opts_valid(): returns the error text, if any. */
function optionsError(cl: CommandLine): string | undefined {
  const o = cl.opts;
  const action = o.hackJumpLabel || o.hackNoinstr || o.noinstr || o.orc || o.stackval || o.uaccess || o.prefix > 0 ||
    o.mcount || o.retpoline || o.rethunk || o.sls || o.staticCall || o.ibt || o.noabs || o.klpSymids || cl.disas !== undefined;
  if (action) {
    if (cl.dumpOrc) return "--dump can't be combined with other actions";
    return o.mnop && !o.mcount ? '--mnop requires --mcount' : undefined;
  }
  if (cl.dumpOrc) return undefined;
  return 'At least one action required';
}


/** 7.x make_backup(): `<obj>.orig`, and the command line that runs on it again. */
function backup(cl: CommandLine, path: string, out: CheckOutput): void {
  const orig = `${path}.orig`;
  copyFileSync(path, orig);
  const words = cl.argv.map((a) => (cl.output === undefined && a === path ? `${orig} -o ${path}` : a));
  out.stderr(`orctool ${words.join(' ')}\n`);
}

/** One file, as objtool checks it; returns its exit status. Throws on bad input. */
function checkOneFile(cl: CommandLine, path: string, out: CheckOutput): number {
  if (cl.dumpOrc) {
    const r = dumpOrcFile(path, cl.kernel?.orc);
    out.stdout(r.stdout);
    out.stderr(r.stderr);
    return r.status;
  }
  // (a run killed while writing this file left a marker: what it half did is undone first)
  recoverInterruptedWrite(path);
  let elf = ElfFile.open(path);
  const layout = cl.kernel ?? detectLayout(elf).layout;
  const opts = { ...cl.opts };
  // 7.x --output: work on a copy (not made with --dry-run, which writes nothing), named in messages.
  if (cl.output !== undefined && !opts.dryRun) {
    copyFileSync(path, cl.output);
    path = cl.output;
    elf = ElfFile.open(path);
  }
  if (!opts.link && isLinkedObject(elf)) {
    // 7.x refuses what 6.x went on with.
    if (layout.severity.nowFatal.linkedObject) {
      out.stderr(`${path}: error: objtool: Linked object requires --link\n`);
      return 1;
    }
    out.stderr('error: objtool: Linked object detected, forcing --link\n');
    opts.link = true;
  }
  if (!opts.link && opts.noinstr) {
    out.stderr('error: objtool: --noinstr requires --link\n');
    return 1;
  }
  if (!opts.link && opts.ibt) {
    out.stderr('error: objtool: --ibt requires --link\n');
    return 1;
  }
  if (!opts.link && opts.unret) {
    out.stderr('error: objtool: --unret requires --link\n');
    return 1;
  }
  // The version's own option pairs (7.x: --cfi needs --prefix, --fineibt --cfi, --klp-symids --link).
  for (const [option, needs] of layout.optionNeeds) {
    if (opts[option] && !opts[needs]) {
      out.stderr(`error: objtool: ${OPTION_SPELLING[option]} requires ${OPTION_SPELLING[needs]}\n`);
      return 1;
    }
  }
  // 6.x --backup: <obj>.orig before anything is changed.
  if (opts.backup && layout.backup === 'always') copyFileSync(path, `${path}.orig`);
  const emit = cl.json
    ? (_: string, w: Warning) => {
        // A conflict comes with the command that draws its per-offset table.
        // Each warning comes with the command that explains it (with this run's options).
        const extra: { explain?: string; fileOffset?: number } = {};
        const place = w.location?.split(' ')[0] ?? /^(\S+)\(\) falls through/.exec(w.message)?.[1];
        if (place && w.kind === 'warning') {
          const flags = cl.argv.filter((a) => a.startsWith('-') && !a.startsWith('--format') && !a.startsWith('--jobs') && !a.startsWith('--output') && a !== '-o');
          extra.explain = ['orctool', 'explain', path, place, ...flags].join(' ');
        }
        // (SARIF's physical location: the instruction's offset in the file)
        const sec = cl.sarif && w.section !== undefined && w.sectionOffset !== undefined ? elf.sectionByName(w.section) : undefined;
        if (sec) extra.fileOffset = sec.offset + w.sectionOffset!;
        out.stdout(JSON.stringify({ ...w, ...extra }) + '\n');
      }
    : (line: string) => out.stderr(line + '\n');
  // (the analysis is made and used in analyse(): nothing here holds it while the file is written)
  // A big object's relocations naming globals are looked for on another thread (global-refs.ts)
  // from when the code is decoded: before, the decoding's worker has that core.
  let refs: ReturnType<typeof startGlobalRefs>;
  const decoded = !opts.dryRun && elf.size >= RELOCATE_MIN_BYTES ? () => void (refs = startGlobalRefs(elf)) : undefined;
  try {
    return analyseAndWrite(cl, elf, layout, opts, path, emit, out, decoded, () => refs?.wait());
  } finally {
    refs?.cancel();
  }
}

/** analyse() and the file written as the options say; the exit status. */
function analyseAndWrite(cl: CommandLine, elf: ElfFile, layout: KernelLayout, opts: CheckOptions, path: string,
  emit: Parameters<typeof check>[4], out: CheckOutput, decoded: Parameters<typeof check>[5], globalRefs: ElfEditor['globalRefs']): number {
  const r = analyse(cl, elf, layout, opts, path, emit, out, decoded, globalRefs);
  if (r.written === 'fatal' || r.warned) {
    // 7.x --backup: <obj>.orig only when something was reported, and the command that repeats it.
    if (opts.backup && layout.backup === 'on-warning') backup(cl, path, out);
  }
  if (r.written === 'fatal') return layout.severity.fatalExit;
  // --werror: a warning fails the run, and nothing is written.
  if (opts.werror && r.warned) return 1;
  const editor = r.editor!;
  const changed = r.written === 'changed';
  if (r.big) collectGarbage();
  phase('release analysis');
  if (changed && !opts.dryRun) editor.write();
  phase('write');
  return 0;
}

/**
 * check() and the outputs it makes into an editor, with the listings asked for. A big object's
 * walk state goes before the outputs are made, and its whole analysis before it is written.
 */
function analyse(cl: CommandLine, elf: ElfFile, layout: KernelLayout, opts: CheckOptions, path: string,
  emit: Parameters<typeof check>[4], out: CheckOutput, decoded?: Parameters<typeof check>[5], globalRefs?: ElfEditor['globalRefs']): { written: 'changed' | 'unchanged' | 'fatal'; warned: boolean; big?: boolean; editor?: ElfEditor } {
  const result = check(elf, layout, opts, path, emit, decoded);
  // (iced's formatter, and its wrapper, load only when a listing is asked for)
  if (cl.disas !== undefined || cl.trace !== undefined) {
    if (cl.trace !== undefined) printFunctions(result.file, cl.trace, { wide: !!cl.wide, trace: true }, out.stdout);
    if (cl.disas !== undefined) printFunctions(result.file, cl.disas, { wide: !!cl.wide, trace: false }, out.stdout);
  }
  if (result.fatal) return { written: 'fatal', warned: true };
  const big = result.file.big;
  if (big) {
    for (const cs of result.file.codeSections) cs.releaseWalkState();
    collectGarbage();
  }
  phase('release walk state');
  const editor = new ElfEditor(elf);
  editor.globalRefs = globalRefs;
  const written = writeOutputs(result.file, editor, out.stdout);
  return { written, warned: result.file.warnings.count > 0, big, editor };
}

/**
 * One file of a command line, sequential or in a worker. Bad input (OrctoolError) is reported
 * for that file as main reports it, and the other files still run; an internal error (a bug)
 * is thrown, as before, unless `reportInternal` (a worker, where it would end the batch).
 */
export function checkFile(cl: CommandLine, path: string, out: CheckOutput, reportInternal = false): number {
  try {
    return checkOneFile(cl, path, out);
  } catch (e) {
    if (!(e instanceof OrctoolError) && !reportInternal) throw e;
    out.stderr(errorLine(e));
    return 1;
  }
}

/** A batch's exit status: that of the last file that failed. */
export function combineStatus(status: number, fileStatus: number): number {
  return fileStatus ? fileStatus : status;
}

function runSequential(cl: CommandLine, out: CheckOutput): number {
  let status = 0;
  for (const path of cl.files) status = combineStatus(status, checkFile(cl, path, out));
  return status;
}

/** The command in-process, file after file (what library callers and tests use). */
export function runCheckCommand(argv: string[], out: CheckOutput): number {
  const cl = parseCommandLine(argv);
  const err = optionsError(cl);
  if (err) {
    out.stderr(`error: objtool: ${err}\n`);
    return 1;
  }
  return runSequential(cl, out);
}

/**
 * The command line's entry: several files are checked on min(files, --jobs or the cores but
 * one) threads, the main one and workers (batch.ts), output still in input order; one file, or
 * one job, runs in the main thread alone.
 */
export async function runCheckCommandJobs(argv: string[], out: BatchOutput): Promise<number> {
  const cl = parseCommandLine(argv);
  if (cl.sarif) {
    // Every file's JSON records, then one SARIF log of them all.
    const records: SarifWarning[] = [];
    let pending = '';
    const status = await runCheckCommandJobsAs(cl, argv, {
      ...out,
      stdout: (t) => {
        pending += t;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.startsWith('{')) records.push(JSON.parse(line) as SarifWarning);
          else out.stdout(line + '\n');
        }
      },
    });
    out.stdout(JSON.stringify(toSarif(records, ORCTOOL_VERSION), null, 2) + '\n');
    return status;
  }
  return runCheckCommandJobsAs(cl, argv, out);
}

async function runCheckCommandJobsAs(cl: CommandLine, argv: string[], out: BatchOutput): Promise<number> {
  const err = optionsError(cl);
  if (err) {
    out.stderr(`error: objtool: ${err}\n`);
    return 1;
  }
  // The same file twice must be checked in order (the second sees the first's ORC).
  const distinct = new Set(cl.files.map((f) => resolve(f))).size === cl.files.length;
  // By default one core is left to V8's own threads (the optimizing compiler and the garbage
  // collector), which a main thread alone keeps busy: on 2 cores a batch of 200 modules took
  // 1.2-1.4 s on the main thread alone and 1.6-1.8 s with a worker beside it.
  const jobs = Math.min(cl.files.length, cl.jobs ?? Math.max(1, availableParallelism() - 1));
  if (jobs <= 1 || !distinct) return runSequential(cl, out);
  // Worker threads are loaded only for a batch: node:worker_threads alone costs ~3 ms of start-up.
  const { runBatch } = await import('./batch.js');
  return runBatch(argv, cl, jobs, out);
}
