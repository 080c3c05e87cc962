// SPDX-License-Identifier: GPL-2.0-only
// Instruction boundaries over the kernel module corpora: every SHF_EXECINSTR section of every
// module is decoded by orctool (bytes from our ELF reader) and compared, offset by offset and
// length by length, with `objdump -d -z -w` of the same module. One objdump run per module,
// read as a stream; its n-th "Disassembly of section" block is the n-th executable section
// with contents in header order, so sections sharing a name are told apart.
// `npm run corpus:boundaries [-- CORPUS...]` runs every module; the CI test runs a sample.
import { readFileSync } from 'node:fs';
import { ElfFile } from '../elf/reader.js';
import type { Section } from '../elf/section.js';
import { decodeSection } from '../x86/decoder.js';
import type { DecodedSection } from '../x86/insn.js';
import { objdumpStream } from '../x86/objdump-oracle.js';
import { eachCorpus } from '../testing/corpus.js';

const SHT_NOBITS = 8;

export interface SectionBoundaries {
  index: number;
  name: string;
  size: number;
  /** Instructions orctool decoded. */
  count: number;
  identical: boolean;
  /** The first difference, when not identical. */
  detail?: string;
}

export interface ModuleBoundaries {
  path: string;
  sections: SectionBoundaries[];
  /** A failure that stopped the comparison of the whole module (unreadable ELF, objdump error). */
  error?: string;
}

/** Comparison state of the section objdump is printing. */
class Cursor {
  k = 0;
  detail: string | undefined;
  constructor(readonly sec: Section, readonly ds: DecodedSection, readonly vma: number) {}

  insn(address: number, length: number, text: string): void {
    if (this.detail !== undefined) return;
    const off = address - this.vma;
    const ds = this.ds;
    const k = this.k++;
    if (k >= ds.count) {
      this.detail = ds.error
        ? `orctool stopped at 0x${ds.size.toString(16)} (${ds.error.objtoolMessage}); objdump goes on at 0x${off.toString(16)} "${text}"`
        : `objdump has more: 0x${off.toString(16)} len ${length} "${text}" after orctool's ${ds.count} instructions`;
      return;
    }
    if (ds.offset[k] !== off || ds.len[k] !== length) {
      this.detail = `at 0x${ds.offset[k].toString(16)}: orctool len ${ds.len[k]}; objdump 0x${off.toString(16)} len ${length} "${text}"`;
    }
  }

  finish(): SectionBoundaries {
    const ds = this.ds;
    let detail = this.detail;
    if (detail === undefined && this.k < ds.count) {
      detail = `objdump stops after ${this.k} instructions; orctool has ${ds.count} (next at 0x${ds.offset[this.k].toString(16)})`;
    }
    if (detail === undefined && ds.error) detail = ds.error.objtoolMessage;
    return {
      index: this.sec.index, name: this.sec.name, size: this.sec.size, count: ds.count,
      identical: detail === undefined, ...(detail !== undefined ? { detail } : {}),
    };
  }
}

/** Compares every executable section of one module with objdump. Never rejects. */
export async function compareModule(path: string): Promise<ModuleBoundaries> {
  let elf: ElfFile;
  try {
    elf = ElfFile.fromBytes(readFileSync(path), path);
  } catch (e) {
    return { path, sections: [], error: (e as Error).message };
  }
  // The sections objdump -d disassembles, in the order it prints them.
  const exec = elf.sections.filter((s) => s.isExec && s.size > 0 && s.type !== SHT_NOBITS);
  const results: SectionBoundaries[] = [];
  let next = 0;
  let cur: Cursor | undefined;
  let error: string | undefined;
  const close = (): void => {
    if (cur) results.push(cur.finish());
    cur = undefined;
  };
  try {
    await objdumpStream(path, {
      section(name) {
        close();
        if (error !== undefined) return;
        const sec = exec[next++];
        if (!sec || sec.name !== name) {
          error = `objdump's section #${next} is ${name}, expected ${sec ? `[${sec.index}] ${sec.name}` : 'none'}`;
          return;
        }
        const ds = decodeSection(sec.data, sec.name, { file: path });
        cur = new Cursor(sec, ds, Number(sec.addr));
      },
      insn(address, length, text) {
        cur?.insn(address, length, text);
      },
    });
    close();
  } catch (e) {
    error ??= (e as Error).message;
  }
  if (error === undefined && next < exec.length) {
    error = `objdump printed ${next} sections, the module has ${exec.length} executable ones (first missing: [${exec[next]!.index}] ${exec[next]!.name})`;
  }
  return { path, sections: results, ...(error !== undefined ? { error } : {}) };
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface CorpusBoundaries {
  modules: number;
  sections: number;
  identical: number;
  /** Modules with a differing section or a module-level error. */
  bad: ModuleBoundaries[];
}

/** Compares the given modules, `jobs` objdump processes at a time. */
export async function compareModules(paths: readonly string[], jobs = 2,
  progress?: (done: number, total: number) => void): Promise<CorpusBoundaries> {
  let done = 0;
  const res = await mapLimit(paths, jobs, async (p) => {
    const r = await compareModule(p);
    progress?.(++done, paths.length);
    return r;
  });
  const out: CorpusBoundaries = { modules: paths.length, sections: 0, identical: 0, bad: [] };
  for (const r of res) {
    out.sections += r.sections.length;
    let ok = r.error === undefined;
    for (const s of r.sections) {
      if (s.identical) out.identical++;
      else ok = false;
    }
    if (!ok) out.bad.push({ ...r, sections: r.sections.filter((s) => !s.identical) });
  }
  return out;
}

async function main(args: string[]): Promise<number> {
  const jobs = Math.max(1, Number(process.env['ORCTOOL_JOBS'] ?? 2) || 2);
  let failed = 0;
  // (awaited before adding: the callback counts into failed meanwhile)
  const missing = await eachCorpus(args, async (name, mods) => {
    const t0 = performance.now();
    const tty = process.stderr.isTTY;
    const r = await compareModules(mods, jobs, (done, total) => {
      if (tty) process.stderr.write(`\r${name}: ${done}/${total} modules`);
      else if (done % 250 === 0 || done === total) process.stderr.write(`${name}: ${done}/${total} modules\n`);
    });
    if (tty) process.stderr.write('\n');
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${name}: ${r.identical}/${r.sections} sections identical (${r.modules} modules, ${secs} s)`);
    for (const m of r.bad) {
      if (m.error !== undefined) console.log(`  ${m.path}: ${m.error}`);
      for (const s of m.sections) console.log(`  ${m.path} [${s.index}] ${s.name}: ${s.detail}`);
    }
    if (r.bad.length) failed++;
  });
  failed += missing;
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
