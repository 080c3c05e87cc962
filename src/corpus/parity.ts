// SPDX-License-Identifier: GPL-2.0-only
// orctool against Debian's objtool on the module corpora: strip the three ORC sections from a
// shipped module, give one copy to each tool with the same flags, and compare the warnings and
// the `objtool --dump=orc` output of the two written files. Test and benchmark harness only:
// orctool itself never runs objtool.
//   npm run corpus:parity [-- [--limit N] [--set base|uaccess|stackval|all] [CORPUS...]]
// Flag sets: `base` is each corpus' build flags (CORPUS_FLAGS); `uaccess` and `stackval` add
// that action to them, `werror` (7.x corpora only) that option, `sites` the build's other module
// actions and `full` those plus --prefix=16 (the whole command line); `all` runs them in turn.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCheckCommand } from '../cli/check-command.js';
import { firstElfDiff } from '../testing/elf-compare.js';
import { type CorpusName, type ObjtoolVersion, eachCorpus, runObjtool } from '../testing/corpus.js';

export const CORPUS_FLAGS: Record<CorpusName, { objtool: ObjtoolVersion; flags: string[] }> = {
  '6.12-cloud': { objtool: '6.12', flags: ['--orc', '--link', '--module'] },
  '6.12-generic': { objtool: '6.12', flags: ['--orc', '--link', '--module'] },
  '6.1-generic': { objtool: '6.1', flags: ['--orc', '--module'] },
  '7.3-cloud': { objtool: '7.3', flags: ['--orc', '--link', '--module'] },
  '7.3-generic': { objtool: '7.3', flags: ['--orc', '--link', '--module'] },
  // objtool 7.3 on 7.2 modules: the two objtools differ only in klp parts (facts §9).
  '7.2-cloud': { objtool: '7.3', flags: ['--orc', '--link', '--module'] },
};

/** Named flag sets: what each adds to a corpus' base flags. */
export const FLAG_SETS: Record<string, string[]> = {
  base: [],
  uaccess: ['--uaccess'],
  stackval: ['--stackval'],
  // 7.x only: warnings become errors, the run fails and writes nothing.
  werror: ['--werror'],
  // The build's other module actions (but --prefix: the module has its __pfx_ symbols).
  sites: ['--hacks=jump_label', '--hacks=noinstr', '--hacks=skylake', '--ibt', '--retpoline', '--rethunk', '--sls', '--static-call', '--uaccess'],
  // The build's whole module command line: `sites` plus --prefix=16, with the shipped __pfx_
  // symbols stripped so that both tools make them again (6.1 has no --prefix).
  full: ['--hacks=jump_label', '--hacks=noinstr', '--hacks=skylake', '--ibt', '--retpoline', '--rethunk', '--sls', '--static-call', '--uaccess', '--prefix=16'],
};

/** What a shipped module carries of each action's output: stripped before both tools run. */
const ACTION_SECTIONS = ['.retpoline_sites', '.return_sites', '.call_sites', '.static_call_sites', '.ibt_endbr_seal'];

/** Whether a flag set applies to a corpus (objtool 6.x has no --werror). */
export function setAppliesTo(set: string, corpus: CorpusName): boolean {
  return set !== 'werror' || CORPUS_FLAGS[corpus].objtool === '7.3';
}

/** What a flag set adds to a corpus' base flags (objtool 6.1 has no --hacks=skylake, nor --link before 6.3 needs it). */
export function setFlags(set: string, corpus: CorpusName): string[] {
  const flags = FLAG_SETS[set]!;
  if (CORPUS_FLAGS[corpus].objtool !== '6.1' || (set !== 'sites' && set !== 'full')) return flags;
  return [...flags.filter((f) => f !== '--hacks=skylake' && !f.startsWith('--prefix')), '--link'];
}

export interface ParityResult {
  module: string;
  warningsEqual: boolean;
  orcEqual: boolean;
  /** The same ELF content (every section's header and bytes; src/testing/elf-compare.ts). */
  elfEqual: boolean;
  /** objtool's warning lines for the module (how much the run exercised). */
  objtoolWarnings: number;
  /** First differing lines, for the report. */
  detail?: string;
}

function firstDiff(a: string[], b: string[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: orctool '${a[i] ?? '<none>'}' objtool '${b[i] ?? '<none>'}'`;
  }
  return '';
}

/** Warning lines with the temporary file name replaced, sorted (the tools' orders may differ). */
function normalizeWarnings(text: string, path: string): string[] {
  return text.split('\n').filter((l) => /(^|: )(warning|error): objtool/.test(l)).map((l) => l.split(path).join('FILE')).sort();
}

export function parityForModule(module: string, corpus: CorpusName, extraFlags: string[] = []): ParityResult {
  const { objtool, flags } = CORPUS_FLAGS[corpus];
  const dir = mkdtempSync(join(tmpdir(), 'orctool-parity-'));
  try {
    const base = join(dir, 'in.ko');
    const sections = ['.orc_unwind', '.orc_unwind_ip', '.rela.orc_unwind_ip'];
    if (extraFlags.includes('--retpoline')) for (const s of ACTION_SECTIONS) sections.push(s, `.rela${s}`);
    const symbols = extraFlags.some((f) => f.startsWith('--prefix')) ? ['--wildcard', '--strip-symbol=__pfx_*'] : [];
    const strip = spawnSync('objcopy', [...sections.map((s) => `--remove-section=${s}`), ...symbols, module, base]);
    if (strip.status !== 0) throw new Error(`objcopy failed on ${module}: ${strip.stderr}`);
    const ours = join(dir, 'orctool.ko');
    const theirs = join(dir, 'objtool.ko');
    copyFileSync(base, ours);
    copyFileSync(base, theirs);
    let ourErr = '';
    const status = runCheckCommand([...flags, ...extraFlags, ours], { stdout: () => {}, stderr: (s) => (ourErr += s) });
    const ref = runObjtool(objtool, [...flags, ...extraFlags, theirs]);
    // The exit status is compared with the warnings (7.x: a fatal error exits 255).
    const w1 = [...normalizeWarnings(ourErr, ours), `exit ${status}`];
    const w2 = [...normalizeWarnings(ref.stderr, theirs), `exit ${ref.status}`];
    const d1 = runObjtool(objtool, ['--dump=orc', ours]).stdout.split('\n');
    const d2 = runObjtool(objtool, ['--dump=orc', theirs]).stdout.split('\n');
    const warningsEqual = w1.join('\n') === w2.join('\n');
    const orcEqual = d1.join('\n') === d2.join('\n');
    const elf = firstElfDiff(ours, theirs);
    const detail = [
      !warningsEqual ? `warnings ${firstDiff(w1, w2)}` : '', !orcEqual ? `orc ${firstDiff(d1, d2)}` : '', elf ? `elf ${elf}` : '',
    ].filter(Boolean).join('; ');
    return { module, warningsEqual, orcEqual, elfEqual: elf === undefined, objtoolWarnings: w2.length - 1, detail: detail || undefined };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(args: string[]): Promise<number> {
  let limit = 0;
  const names: CorpusName[] = [];
  const sets: string[] = [];
  for (let k = 0; k < args.length; k++) {
    if (args[k] === '--limit') limit = Number(args[++k]);
    else if (args[k] === '--set') {
      const v = args[++k] ?? '';
      if (v === 'all') sets.push(...Object.keys(FLAG_SETS));
      else if (FLAG_SETS[v]) sets.push(v);
      else throw new Error(`--set: unknown flag set '${v}' (${Object.keys(FLAG_SETS).join(', ')}, all)`);
    } else names.push(args[k] as CorpusName);
  }
  if (sets.length === 0) sets.push('base');
  let failed = 0;
  // (awaited before adding: the callback counts into failed meanwhile)
  const missing = await eachCorpus(names, (name, mods) => {
    for (const set of sets) {
      if (!setAppliesTo(set, name)) continue;
      const extra = setFlags(set, name);
      const label = `${name} [${[...CORPUS_FLAGS[name].flags, ...extra].join(' ')}]`;
      let w = 0;
      let o = 0;
      let e = 0;
      let warned = 0;
      let lines = 0;
      const t0 = performance.now();
      mods.forEach((m, i) => {
        const r = parityForModule(m, name, extra);
        if (r.warningsEqual) w++;
        if (r.orcEqual) o++;
        if (r.elfEqual) e++;
        if (r.objtoolWarnings) warned++;
        lines += r.objtoolWarnings;
        if (r.detail) console.log(`  ${m.replace(/^.*\/kernel\//, '')}: ${r.detail}`);
        if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${i + 1}/${mods.length}`);
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      console.log(`${label}: warnings identical ${w}/${mods.length}, ORC identical ${o}/${mods.length}, whole ELF identical ${e}/${mods.length}; objtool warned on ${warned} modules (${lines} lines) (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      if (w !== mods.length || o !== mods.length) failed++;
    }
  }, limit);
  failed += missing;
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
