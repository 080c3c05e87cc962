// SPDX-License-Identifier: GPL-2.0-only
// Which entries of a big object's relocation sections name a global symbol, found on another
// thread while the main one analyses the object. Adding a local symbol moves globals (see
// writer.ts), and every relocation naming a moved one is renumbered: on a debug-info vmlinux.o
// that meant reading and scanning ~450 MB of DWARF relocations on the main thread at the end
// of the run (~0.4 s), for a few thousand entries. With the entries naming globals known
// beforehand, the writer reads none of those sections and patches just those entries.
import { ThreadJob } from '../threads.js';
import { SHT_REL, SHT_RELA } from './constants.js';
import type { ElfFile } from './reader.js';
import type { FileIdentity } from './atomic-write.js';

/** The entries of one relocation section that name a global symbol: their numbers and symbols, in order. */
export interface GlobalRefs {
  entries: Uint32Array;
  syms: Uint32Array;
}

/** What the worker is given. */
export interface GlobalRefsJob {
  path: string;
  source: FileIdentity;
  firstGlobal: number;
  sections: { index: number; offset: number; size: number; entsize: number }[];
}

/** Relocation sections at least this big are scanned (smaller ones cost little to read). */
const SCAN_MIN_BYTES = 1 << 20;

/**
 * The scan of `elf`'s relocation sections of `minBytes` or more, started (on an object read
 * from a file, with a symbol table); undefined when there are none or no thread is to be had.
 * The caller decides whether the object is big enough to be worth a thread (ElfEditor's
 * relocateFrom objects).
 */
export function startGlobalRefs(elf: ElfFile, minBytes = SCAN_MIN_BYTES): { wait(): Map<number, GlobalRefs> | undefined; cancel(): void } | undefined {
  const syms = elf.symbols;
  const source = elf.source;
  if (!syms || !source) return undefined;
  const sections = elf.sections
    .filter((s) => (s.type === SHT_RELA || s.type === SHT_REL) && s.link === syms.section.index && s.size > 0 && s.size >= minBytes)
    .map((s) => ({ index: s.index, offset: s.offset, size: s.size, entsize: s.type === SHT_RELA ? 24 : 16 }));
  if (!sections.length) return undefined;
  let job: ThreadJob<[number, GlobalRefs][]>;
  try {
    const data: GlobalRefsJob = { path: elf.path, source, firstGlobal: syms.firstGlobal, sections };
    job = ThreadJob.start(new URL('./global-refs-worker.js', import.meta.url), data);
  } catch {
    return undefined;
  }
  let got: Map<number, GlobalRefs> | undefined;
  return {
    wait: () => {
      if (got) return got;
      const r = job.wait();
      return (got = r && new Map(r));
    },
    cancel: () => job.cancel(),
  };
}
