// SPDX-License-Identifier: GPL-2.0-only
// The mutation sweep: deterministic, structure-aware damage to real objects (section headers,
// symbols, relocations, the kernel's special sections, ORC, hints and annotations, string tables,
// code bytes, the ELF header, truncations, overlapping and huge sizes), each damaged object sent
// through one of orctool's commands in-process. Every case must end in success, or in a refusal:
// exit status 1 (or 255 after an objtool message, where objtool fails so), one error line, no
// stack trace, no internal error, the file byte-identical, and nothing left beside it but what
// the command writes on purpose. Used by src/cli/sweep.test.ts (a CI sample) and
// src/corpus/sweep.ts (all).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '../elf/reader.js';
import { SHDR_SIZE, SYM_SIZE } from '../elf/constants.js';
import { main } from '../cli/main.js';
import { rng } from '../verify/plant.js';

export const MUTATION_KINDS = [
  'elf header', 'section header', 'symbol', 'relocation', 'special section', 'orc', 'annotation', 'string table',
  'code bytes', 'truncation', 'huge or overlapping size',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

const SPECIAL = ['.altinstructions', '.altinstr_replacement', '__jump_table', '__ex_table', '__bug_table', '.static_call_sites',
  '.return_sites', '.retpoline_sites', '.call_sites', '.parainstructions', '__patchable_function_entries', '.orc_header'];

/** Damage a copy of `good` (parsed as `elf`) in one way of `kind`; a description, or undefined when the object has nothing of that kind. */
export function mutate(good: Buffer, elf: ElfFile, kind: MutationKind, rand: () => number): { bytes: Buffer; what: string } | undefined {
  const b = Buffer.from(good);
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[Math.floor(rand() * xs.length)] : undefined);
  const value = (old: bigint, width: number): bigint => {
    const all = (1n << BigInt(width * 8)) - 1n;
    const choices = [0n, 1n, all, all >> 1n, old + 1n, old - 1n, old * 2n, old << 16n, BigInt(b.length), BigInt(b.length + 1), BigInt(Math.floor(rand() * 2 ** 32))];
    return pick(choices)! & all;
  };
  const put = (at: number, width: number): string => {
    if (at < 0 || at + width > b.length) return 'nothing';
    const old = width === 8 ? b.readBigUInt64LE(at) : width === 4 ? BigInt(b.readUInt32LE(at)) : width === 2 ? BigInt(b.readUInt16LE(at)) : BigInt(b[at]!);
    const v = value(old, width);
    if (width === 8) b.writeBigUInt64LE(v, at);
    else if (width === 4) b.writeUInt32LE(Number(v), at);
    else if (width === 2) b.writeUInt16LE(Number(v), at);
    else b[at] = Number(v);
    return `0x${old.toString(16)} -> 0x${v.toString(16)}`;
  };
  const bytesOf = (names: (n: string) => boolean): string | undefined => {
    const s = pick(elf.sections.filter((x) => names(x.name) && x.size > 0 && x.type !== 8));
    if (!s) return undefined;
    const n = 1 + Math.floor(rand() * 4);
    const at = s.offset + Math.floor(rand() * s.size);
    for (let k = 0; k < n && at + k < s.offset + s.size; k++) b[at + k] = Math.floor(rand() * 256);
    return `${s.name}+0x${(at - s.offset).toString(16)}: ${n} random bytes`;
  };
  const shdr = (i: number) => elf.header.shoff + i * SHDR_SIZE;
  switch (kind) {
    case 'elf header': {
      const [name, at, w] = pick([['e_shoff', 0x28, 8], ['e_shentsize', 0x3a, 2], ['e_shnum', 0x3c, 2], ['e_shstrndx', 0x3e, 2], ['e_type', 0x10, 2], ['e_ehsize', 0x34, 2]] as const)!;
      return { bytes: b, what: `${name}: ${put(at, w)}` };
    }
    case 'section header': {
      const s = pick(elf.sections.filter((x) => x.index > 0))!;
      const [name, off, w] = pick([['sh_name', 0, 4], ['sh_type', 4, 4], ['sh_flags', 8, 8], ['sh_offset', 24, 8], ['sh_size', 32, 8], ['sh_link', 40, 4], ['sh_info', 44, 4], ['sh_addralign', 48, 8], ['sh_entsize', 56, 8]] as const)!;
      return { bytes: b, what: `${s.name} ${name}: ${put(shdr(s.index) + off, w)}` };
    }
    case 'symbol': {
      const syms = elf.symbols;
      if (!syms || syms.count < 2) return undefined;
      const i = 1 + Math.floor(rand() * (syms.count - 1));
      const [name, off, w] = pick([['st_name', 0, 4], ['st_info', 4, 1], ['st_other', 5, 1], ['st_shndx', 6, 2], ['st_value', 8, 8], ['st_size', 16, 8]] as const)!;
      return { bytes: b, what: `symbol ${i} ${name}: ${put(syms.section.offset + i * SYM_SIZE + off, w)}` };
    }
    case 'relocation': {
      const s = pick(elf.sections.filter((x) => x.type === 4 && x.size >= 24));
      if (!s) return undefined;
      const i = Math.floor(rand() * (s.size / 24));
      const [name, off, w] = pick([['r_offset', 0, 8], ['r_type', 8, 4], ['r_sym', 12, 4], ['r_addend', 16, 8]] as const)!;
      return { bytes: b, what: `${s.name}[${i}] ${name}: ${put(s.offset + i * 24 + off, w)}` };
    }
    case 'special section': {
      const w = bytesOf((n) => SPECIAL.includes(n) || SPECIAL.some((x) => n === `.rela${x}`));
      return w ? { bytes: b, what: w } : undefined;
    }
    case 'orc': {
      const w = bytesOf((n) => n.startsWith('.orc_') || n === '.rela.orc_unwind_ip');
      return w ? { bytes: b, what: w } : undefined;
    }
    case 'annotation': {
      const w = bytesOf((n) => n.startsWith('.discard.') || n.startsWith('.rela.discard.'));
      return w ? { bytes: b, what: w } : undefined;
    }
    case 'string table': {
      const s = pick(elf.sections.filter((x) => x.type === 3 && x.size > 0))!;
      // A terminator turned into a letter (names run into each other), or a random byte.
      const at = s.offset + Math.floor(rand() * s.size);
      const nul = b.indexOf(0, at);
      const p = rand() < 0.5 && nul >= 0 && nul < s.offset + s.size ? nul : at;
      b[p] = rand() < 0.5 ? 0x41 : Math.floor(rand() * 256);
      return { bytes: b, what: `${s.name}+0x${(p - s.offset).toString(16)}` };
    }
    case 'code bytes': {
      const w = bytesOf((n) => elf.sections.some((x) => x.name === n && x.isExec));
      return w ? { bytes: b, what: w } : undefined;
    }
    case 'truncation': {
      const n = Math.floor(rand() * b.length);
      return { bytes: b.subarray(0, n), what: `cut to ${n} bytes` };
    }
    case 'huge or overlapping size': {
      const s = pick(elf.sections.filter((x) => x.index > 0 && x.type !== 8))!;
      const other = pick(elf.sections.filter((x) => x.index > 0 && x !== s))!;
      if (rand() < 0.5) {
        b.writeBigUInt64LE(BigInt(other.offset), shdr(s.index) + 24);
        return { bytes: b, what: `${s.name} placed over ${other.name}` };
      }
      b.writeBigUInt64LE(rand() < 0.5 ? 1n << 40n : (1n << 63n) - 1n, shdr(s.index) + 32);
      return { bytes: b, what: `${s.name} size huge` };
    }
  }
}

/** The commands a case may go through; FILE stands for the damaged object. */
export const SWEEP_COMMANDS: readonly string[][] = [
  ['--orc', '--link', '--module', 'FILE'],
  ['--hacks=jump_label', '--hacks=noinstr', '--hacks=skylake', '--ibt', '--orc', '--retpoline', '--rethunk', '--sls', '--static-call', '--uaccess', '--prefix=16', '--link', '--module', 'FILE'],
  ['--orc', '--uaccess', '--stackval', 'FILE'],
  ['--dump=orc', 'FILE'],
  ['verify', 'FILE'],
  ['patch', 'FILE', '--features', 'XENPV,SMAP,ALWAYS', '-o', 'OUT'],
  ['explain', 'FILE', 'init_module+0x0'],
];

export interface CaseResult {
  ok: boolean;
  /** What was wrong, for a failed case. */
  problem?: string;
  status: number;
  ms: number;
}

/** main() in this process, with what it writes to stdout and stderr captured. */
export async function mainCaptured(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((t: string | Uint8Array) => ((stdout += t.toString()), true)) as typeof out;
  process.stderr.write = ((t: string | Uint8Array) => ((stderr += t.toString()), true)) as typeof err;
  try {
    return { status: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** One case: `bytes` written to a fresh directory, one command run on it, the outcome judged. */
export async function runCase(dir: string, bytes: Buffer, command: readonly string[]): Promise<CaseResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'm.o');
  const outFile = join(dir, 'out.o');
  writeFileSync(file, bytes);
  const argv = command.map((a) => (a === 'FILE' ? file : a === 'OUT' ? outFile : a));
  const t0 = performance.now();
  const r = await mainCaptured(argv);
  const ms = performance.now() - t0;
  const fail = (problem: string): CaseResult => ({ ok: false, problem, status: r.status, ms });
  if (/internal error|^\s+at /m.test(r.stderr)) return fail(`internal error: ${r.stderr.trim().split('\n').slice(-1)[0]}`);
  // (objtool's own failures exit 255 after its message: a 7.x fatal error, a --dump of a broken table)
  const fatal7 = r.status === 255 && /(error|warning): objtool: /.test(r.stderr);
  if (r.status !== 0 && r.status !== 1 && !fatal7) return fail(`exit status ${r.status}`);
  // (status 1 alone may be a check's warnings, after which the file is written)
  const errors = r.stderr.split('\n').filter((l) => /^orctool: error: /.test(l));
  if (errors.length > 1) return fail(`${errors.length} error lines`);
  if ((errors.length || fatal7) && !readFileSync(file).equals(bytes)) return fail('a refused file was changed');
  const left = readdirSync(dir).filter((f) => f !== 'm.o' && !(f === 'out.o' && command[0] === 'patch'));
  if (left.length) return fail(`files left: ${left.join(', ')}`);
  return { ok: true, status: r.status, ms };
}

export interface SweepInput {
  name: string;
  /** The object as shipped (with its ORC): for --dump=orc, verify, patch, explain. */
  shipped: Buffer;
  /** The same without ORC: for the check commands. */
  stripped: Buffer;
}

export interface SweepReport {
  cases: number;
  ok: number;
  byKind: Record<string, { cases: number; refused: number }>;
  failures: string[];
  slowest: { ms: number; what: string };
}

/** `count` cases from `seed` over `inputs`, in `dir`. */
export async function sweep(inputs: readonly SweepInput[], count: number, seed: number, dir: string, progress?: (done: number) => void): Promise<SweepReport> {
  const rand = rng(seed);
  const parsed = inputs.map((x) => ({ x, shipped: ElfFile.fromBytes(x.shipped, x.name), stripped: ElfFile.fromBytes(x.stripped, x.name) }));
  const report: SweepReport = { cases: 0, ok: 0, byKind: {}, failures: [], slowest: { ms: 0, what: '' } };
  for (let i = 0; i < count; i++) {
    const input = parsed[i % parsed.length]!;
    const command = SWEEP_COMMANDS[Math.floor(rand() * SWEEP_COMMANDS.length)]!;
    const check = command[0]!.startsWith('--') && command[0] !== '--dump=orc';
    const [good, elf] = check ? [input.x.stripped, input.stripped] : [input.x.shipped, input.shipped];
    let m: { bytes: Buffer; what: string } | undefined;
    let kind: MutationKind = 'code bytes';
    for (let tries = 0; !m && tries < 8; tries++) {
      kind = MUTATION_KINDS[Math.floor(rand() * MUTATION_KINDS.length)]!;
      m = mutate(good, elf, kind, rand);
    }
    if (!m) continue;
    const r = await runCase(dir, m.bytes, command);
    report.cases++;
    const k = (report.byKind[kind] ??= { cases: 0, refused: 0 });
    k.cases++;
    if (r.status !== 0) k.refused++;
    const what = `case ${i}: ${input.x.name}, ${kind} (${m.what}), ${command.filter((a) => a !== 'FILE').join(' ')}`;
    if (r.ok) report.ok++;
    else report.failures.push(`${what}: ${r.problem}`);
    if (r.ms > report.slowest.ms) report.slowest = { ms: r.ms, what };
    progress?.(i + 1);
  }
  rmSync(dir, { recursive: true, force: true });
  return report;
}
