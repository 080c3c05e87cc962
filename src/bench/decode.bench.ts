// SPDX-License-Identifier: GPL-2.0-only
// Decoder throughput on real objects: every executable section of each file, decoded as the
// analysis would, then once more with iced alone (length and validity only) to show how the
// time splits between iced and our mapping to objtool's model.
import { ElfFile } from '../elf/reader.js';
import { decodeSection } from '../x86/decoder.js';
import { LengthDecoder } from '../x86/iced.js';
import { InsnFlag } from '../x86/insn.js';

export interface DecodeBenchResult {
  files: number;
  sections: number;
  bytes: number;
  insns: number;
  stackOps: number;
  /** Bytes that were not instructions (skipped one at a time; data in some binaries' .text). */
  invalidBytes: number;
  /** Best of `rounds` full decodes. */
  seconds: number;
  insnsPerSec: number;
  megabytesPerSec: number;
  /** Best of `rounds` iced-only passes over the same bytes. */
  icedSeconds: number;
  /** icedSeconds / seconds: the part of decoding spent in iced (decode + wasm boundary). */
  icedShare: number;
  /** Final typed-array footprint of the decoded model, bytes per instruction. */
  bytesPerInsn: number;
}

function icedOnly(bytes: Uint8Array): number {
  const dec = new LengthDecoder(bytes);
  let pos = 0;
  let n = 0;
  try {
    while (pos < bytes.length) {
      const len = dec.next();
      if (len === 0) {
        pos++;
        dec.seek(pos);
      } else {
        pos += len;
      }
      n++;
    }
  } finally {
    dec.free();
  }
  return n;
}

export async function benchDecode(files: string[], rounds = 3): Promise<DecodeBenchResult> {
  const sections: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const f of files) {
    const elf = ElfFile.open(f);
    for (const s of elf.sections) if (s.isExec && s.size > 0) sections.push({ name: s.name, bytes: s.data });
  }

  let best = Infinity;
  let bestIced = Infinity;
  let insns = 0, stackOps = 0, invalidBytes = 0, modelBytes = 0, bytes = 0;
  for (let r = 0; r < rounds; r++) {
    insns = stackOps = invalidBytes = modelBytes = bytes = 0;
    let t0 = performance.now();
    for (const s of sections) {
      const ds = decodeSection(s.bytes, s.name, { onInvalid: 'skip' });
      bytes += s.bytes.length;
      insns += ds.count;
      stackOps += ds.ops.length / 6;
      if (ds.error !== null) for (let i = 0; i < ds.count; i++) if (ds.flags[i] & InsnFlag.INVALID) invalidBytes++;
      // The columns the check reads (target, dispPos, immPos and fieldSizes are made on first use).
      for (const a of [ds.offset, ds.len, ds.type, ds.flags, ds.immediate, ds.opStart, ds.opCount, ds.ops]) modelBytes += a.byteLength;
    }
    best = Math.min(best, (performance.now() - t0) / 1000);

    t0 = performance.now();
    for (const s of sections) icedOnly(s.bytes);
    bestIced = Math.min(bestIced, (performance.now() - t0) / 1000);
    // Let the previous round's arrays go before timing the next.
    await new Promise((resolve) => setImmediate(resolve));
  }

  return {
    files: files.length,
    sections: sections.length,
    bytes,
    insns,
    stackOps,
    invalidBytes,
    seconds: best,
    insnsPerSec: insns / best,
    megabytesPerSec: bytes / best / 1e6,
    icedSeconds: bestIced,
    icedShare: bestIced / best,
    bytesPerInsn: insns ? modelBytes / insns : 0,
  };
}
