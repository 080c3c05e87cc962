// SPDX-License-Identifier: GPL-2.0-only
// The only file that touches iced-x86. iced answers two questions per instruction: is this a
// valid x86-64 instruction, and how long is it. Everything objtool derives from the bytes
// (prefixes, opcode, ModRM, stack ops) we read ourselves in layout.ts, because every iced
// getter is a call across the JS/wasm boundary.
import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

// Loaded on first use with require(): importing the 900 KB CommonJS wrapper through ESM makes
// Node scan it with its CJS lexer, which alone cost ~50 ms of every run, and commands that
// decode nothing (--help, --dump=orc) need no wasm at all.
let icedModule: typeof Iced | undefined;
function iced(): typeof Iced {
  icedModule ??= createRequire(import.meta.url)('iced-x86') as typeof Iced;
  return icedModule;
}

/** Where the displacement and immediates sit inside one instruction, as iced reports them. */
export interface IcedFieldOffsets {
  dispPos: number;
  dispSize: number;
  immPos: number;
  immSize: number;
  imm2Pos: number;
  imm2Size: number;
}

/**
 * Decodes one section's bytes front to back. Holds wasm memory: call free() when done.
 * next() is the hot path: one decodeOut plus two getters.
 */
export class LengthDecoder {
  private readonly decoder: Iced.Decoder;
  private readonly insn: Iced.Instruction;
  private readonly invalid: number;
  private freed = false;

  constructor(bytes: Uint8Array) {
    // iced copies the bytes into wasm memory once, here.
    const m = iced();
    // Lenient like the kernel's insn decoder, which does not reject e.g. a stray LOCK prefix.
    this.decoder = new m.Decoder(64, bytes, m.DecoderOptions.NoInvalidCheck);
    this.insn = new m.Instruction();
    this.invalid = m.Code.INVALID;
  }

  /** Moves the decoder to a byte position (only needed after skipping bytes). */
  seek(pos: number): void {
    this.decoder.position = pos;
  }

  /**
   * Decodes the instruction at the current position and advances past it.
   * Returns its length, or 0 if the bytes there are not a valid instruction (or are cut short
   * by the end of the section); the position then still moves past what iced consumed,
   * so callers that go on must seek().
   */
  next(): number {
    const insn = this.insn;
    this.decoder.decodeOut(insn);
    if (insn.code === this.invalid) return 0;
    return insn.length;
  }

  /** Field offsets of the instruction last returned by next(); slow, for tests only. */
  lastFieldOffsets(): IcedFieldOffsets {
    const co = this.decoder.getConstantOffsets(this.insn);
    try {
      return {
        dispPos: co.hasDisplacement ? co.displacementOffset : 0,
        dispSize: co.hasDisplacement ? co.displacementSize : 0,
        immPos: co.hasImmediate ? co.immediateOffset : 0,
        immSize: co.hasImmediate ? co.immediateSize : 0,
        imm2Pos: co.hasImmediate2 ? co.immediateOffset2 : 0,
        imm2Size: co.hasImmediate2 ? co.immediateSize2 : 0,
      };
    } finally {
      co.free();
    }
  }

  /** Intel-syntax text of the instruction last returned by next(); for test messages only. */
  lastText(): string {
    return this.insn.toString();
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.insn.free();
    this.decoder.free();
  }
}

/**
 * AT&T text of each instruction in `bytes` (for `explain` and listings, not a hot path).
 * Relative targets are shown as offsets from the start of `bytes` plus `base`.
 */
export function formatInstructions(bytes: Uint8Array, base = 0): { offset: number; length: number; text: string }[] {
  const m = iced();
  const decoder = new m.Decoder(64, bytes, m.DecoderOptions.NoInvalidCheck);
  decoder.ip = BigInt(base);
  const formatter = new m.Formatter(m.FormatterSyntax.Gas);
  // Read like objdump: lower-case hex without padding.
  formatter.uppercaseHex = false;
  formatter.branchLeadingZeros = false;
  formatter.leadingZeros = false;
  const out: { offset: number; length: number; text: string }[] = [];
  try {
    while (decoder.canDecode) {
      const insn = decoder.decode();
      const offset = Number(insn.ip) - base;
      out.push({ offset, length: insn.length, text: insn.code === m.Code.INVALID ? '(bad)' : formatter.format(insn) });
      insn.free();
    }
  } finally {
    formatter.free();
    decoder.free();
  }
  return out;
}
