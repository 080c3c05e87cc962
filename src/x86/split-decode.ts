// SPDX-License-Identifier: GPL-2.0-only
// A big code section decoded on two threads: a worker decodes [mid, end) while the main thread
// is busy elsewhere (reading symbols) and then decodes [0, mid), and waits for the worker's part
// as threads.ts's jobs are waited for.
import { ThreadJob } from '../threads.js';
import { columnsView, sharedColumns, type Columns, type DecodedPart } from './decoder.js';
import type { DecoderVariant } from './variant.js';
import type { ElfFile } from '../elf/reader.js';
import type { Section } from '../elf/section.js';
import { STT_FUNC } from '../elf/constants.js';

/**
 * A code section at least this big is decoded on two threads: the worker's start-up (~50 ms of
 * module loading) is then well paid for, and small objects never pay it.
 */
const SPLIT_MIN_BYTES = 2 << 20;
/**
 * The worker's share of such a section: it starts before the symbols are read, so it gets
 * more than half. On vmlinux.o at 0.65 the main thread (symbols, then its part) finished
 * ~40 ms after the worker; 0.67 evens them out.
 */
const SPLIT_WORKER_SHARE = 0.67;

/**
 * Starts a worker on the end of the biggest code section if that is big (vmlinux.o's one
 * .text of ~15 MB), from the first function at or after its share (`share`: a caller with
 * longer work before it decodes gives the worker more): function starts are
 * instruction boundaries (and if one is not, the decoder finds out and decodes on by itself).
 * Undefined: no section to split, or no worker thread to be had (one thread decodes it all).
 */
export function startSplitDecode(elf: ElfFile, variant: DecoderVariant, share = SPLIT_WORKER_SHARE): { sec: number; job: SplitDecode } | undefined {
  let big: Section | undefined;
  for (const s of elf.sections) if (s.isExec && s.size >= (big?.size ?? SPLIT_MIN_BYTES)) big = s;
  const t = big && elf.symbols;
  if (!big || !t) return undefined;
  const size = big.size;
  const from = Math.floor(size * (1 - share));
  let mid = size;
  const { shndx, value, info } = t;
  for (let i = 1; i < t.count; i++) {
    if (shndx[i] === big.index && (info[i]! & 0xf) === STT_FUNC && value[i]! >= from && value[i]! < mid) mid = value[i]!;
  }
  if (mid >= size) return undefined;
  try {
    return { sec: big.index, job: SplitDecode.start(big.data, mid, big.name, variant) };
  } catch {
    return undefined;
  }
}

export class SplitDecode {
  private constructor(
    readonly mid: number,
    /** The columns both threads decode into: this thread's part from 0, the worker's from `at`. */
    readonly shared: { cols: Columns; at: number },
    private readonly job: ThreadJob<DecodedPart>,
  ) {}

  /**
   * Starts decoding bytes[mid, end) of section `section` on a worker thread; throws if there
   * is no worker module (a build without dist/x86).
   */
  static start(bytes: Uint8Array, mid: number, section: string, variant: DecoderVariant): SplitDecode {
    const part = bytes.slice(mid); // its own buffer, moved to the worker
    // Room for 3 bytes an instruction in each part (decodeSection()'s estimate).
    const at = Math.ceil(mid / 3) + 16;
    const cols = sharedColumns(at + Math.ceil(part.length / 3) + 16);
    const data: DecodeJob = { buffer: part.buffer, base: mid, section, variant: { ...variant }, cols: columnsView(cols, at, cols.offset.length) };
    const job = ThreadJob.start<DecodedPart>(new URL('./decode-worker.js', import.meta.url), data, [part.buffer]);
    return new SplitDecode(mid, { cols, at }, job);
  }

  /** The worker's part, waiting for it; undefined if the worker failed (decode it here). */
  wait(): DecodedPart | undefined {
    return this.job.wait();
  }

  /** Stops the worker if it still runs (its part is no longer wanted). */
  cancel(): void {
    this.job.cancel();
  }
}

/** What the decoding worker is given. */
export interface DecodeJob {
  buffer: ArrayBuffer;
  base: number;
  section: string;
  variant: DecoderVariant;
  /** Where to decode to (shared with the main thread). */
  cols: Columns;
}
