// SPDX-License-Identifier: GPL-2.0-only
// The only file that touches iced-x86. iced answers two questions per instruction: is this a
// valid x86-64 instruction, and how long is it. Everything objtool derives from the bytes
// (prefixes, opcode, ModRM, stack ops) we read ourselves in layout.ts, because every iced
// getter is a call across the JS/wasm boundary.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Iced from 'iced-x86';
import { keepWasmExports } from './wasm-exports.js';

// The full iced-x86 module (its 900 KB wasm-bindgen wrapper) is loaded on first use, and only
// for formatting and tests: parsing the wrapper alone cost ~25 ms of every run, a third of the
// start-up budget. The hot path binds the few wasm exports it needs itself (LeanIced below).
let icedModule: typeof Iced | undefined;
function iced(): typeof Iced {
  icedModule ??= createRequire(import.meta.url)('iced-x86') as typeof Iced;
  return icedModule;
}

/**
 * The raw exports of iced-x86's wasm that length decoding uses. These are wasm-bindgen's ABI for
 * iced-x86 1.21.0 (the version package.json pins): what its wrapper calls for
 * `new Decoder()`, `decodeOut()`, `position =`, `new Instruction()`, `length`, `code`, `free()`.
 */
interface LeanIced {
  readonly memory: WebAssembly.Memory;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_add_to_stack_pointer(delta: number): number;
  decoder_new(retptr: number, bitness: number, data: number, len: number, options: number): void;
  decoder_decodeOut(decoder: number, insn: number): void;
  decoder_set_position(retptr: number, decoder: number, pos: number): void;
  __wbg_decoder_free(decoder: number): void;
  instruction_new(): number;
  instruction_length(insn: number): number;
  instruction_code(insn: number): number;
  __wbg_instruction_free(insn: number): void;
}

const LEAN_EXPORTS = [
  'memory', '__wbindgen_malloc', '__wbindgen_add_to_stack_pointer', 'decoder_new', 'decoder_decodeOut',
  'decoder_set_position', '__wbg_decoder_free', 'instruction_new', 'instruction_length', 'instruction_code',
  '__wbg_instruction_free',
] as const;

/** iced's Code.INVALID and DecoderOptions.NoInvalidCheck (iced.test.ts checks them against the wrapper). */
export const ICED_CODE_INVALID = 0;
export const ICED_NO_INVALID_CHECK = 1;

// Node's WebAssembly global, as far as used here: @types/node leaves it to lib.dom, which a
// command-line tool does not load.
declare namespace WebAssembly {
  type ImportValue = (...args: number[]) => void;
  class Module {
    constructor(bytes: Uint8Array);
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, ImportValue>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}

let leanModule: LeanIced | undefined;
function leanIced(): LeanIced {
  if (leanModule) return leanModule;
  const require = createRequire(import.meta.url);
  const wasmPath = join(dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm');
  // Only our exports: instantiating all 762 of iced's cost more than the module's compilation.
  let bytes: Uint8Array;
  try {
    bytes = keepWasmExports(readFileSync(wasmPath), new Set(LEAN_EXPORTS));
  } catch (e) {
    throw new Error(`iced-x86 at ${wasmPath}: ${(e as Error).message}: orctool needs iced-x86 1.21.0`);
  }
  const module = new WebAssembly.Module(bytes);
  let memory: WebAssembly.Memory | undefined;
  // Length decoding never reaches the wrapper's callbacks (they build JS objects for the
  // instruction-info and error APIs); a Rust panic arrives as __wbindgen_throw.
  const imports: Record<string, WebAssembly.ImportValue> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.name] = imp.name === '__wbindgen_throw'
      ? (ptr: number, len: number) => {
          throw new Error(`iced-x86: ${Buffer.from(memory!.buffer, ptr >>> 0, len >>> 0).toString('utf8')}`);
        }
      : imp.name === '__wbindgen_object_drop_ref'
        ? () => {}
        : () => {
            throw new Error(`iced-x86: unexpected call of ${imp.name} while length decoding`);
          };
  }
  const exports = new WebAssembly.Instance(module, { __wbindgen_placeholder__: imports }).exports;
  memory = exports['memory'] as WebAssembly.Memory;
  leanModule = exports as unknown as LeanIced;
  return leanModule;
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

/** Bytes of a section copied into wasm memory at a time (see LengthDecoder). */
const WINDOW = 64 << 10;
/** The longest x86 instruction: a window ending sooner than this after the position is moved. */
const MAX_INSN = 15;

/**
 * Decodes one section's bytes front to back. Holds wasm memory: call free() when done.
 * next() is the hot path: three calls into wasm, no JS objects.
 * iced sees a window of the section at a time, moved as decoding goes: wasm memory never
 * shrinks, and a whole .text of vmlinux.o in it would stay resident to the end (~16 MB).
 */
export class LengthDecoder {
  private readonly w: LeanIced;
  private decoder = 0;
  private readonly insn: number;
  private readonly bytes: Uint8Array;
  /** Where next() decodes; `last` is where the instruction it returned started. */
  private pos = 0;
  private last = 0;
  /** The window iced decodes: bytes [winStart, winEnd). */
  private winStart = 0;
  private winEnd = 0;
  private freed = false;

  /** `windowBytes`: how much to copy at a time (less for a decoder of a few short stretches). */
  constructor(bytes: Uint8Array, private readonly windowBytes = WINDOW) {
    const w = leanIced();
    this.w = w;
    this.bytes = bytes;
    this.insn = w.instruction_new() >>> 0;
    this.window(0);
  }

  /** A decoder over the window starting at `pos`, positioned there. */
  private window(pos: number): void {
    const w = this.w;
    if (this.decoder) w.__wbg_decoder_free(this.decoder);
    this.decoder = 0;
    const end = Math.min(this.bytes.length, pos + this.windowBytes);
    // iced copies the bytes into wasm memory; the decoder owns and frees the copy.
    const data = w.__wbindgen_malloc(end - pos, 1) >>> 0;
    new Uint8Array(w.memory.buffer).set(this.bytes.subarray(pos, end), data);
    const ret = w.__wbindgen_add_to_stack_pointer(-16);
    try {
      // Lenient like the kernel's insn decoder, which does not reject e.g. a stray LOCK prefix.
      w.decoder_new(ret, 64, data, end - pos, ICED_NO_INVALID_CHECK);
      const out = new Int32Array(w.memory.buffer, ret, 3);
      if (out[2] !== 0) throw new Error('iced-x86: cannot create a 64-bit decoder');
      this.decoder = out[0]! >>> 0;
    } finally {
      w.__wbindgen_add_to_stack_pointer(16);
    }
    this.winStart = pos;
    this.winEnd = end;
    this.pos = pos;
  }

  /** Moves the decoder to a byte position (only needed after skipping bytes). */
  seek(pos: number): void {
    if (pos < this.winStart || pos > this.winEnd) {
      this.window(pos);
      return;
    }
    const w = this.w;
    const ret = w.__wbindgen_add_to_stack_pointer(-16);
    try {
      w.decoder_set_position(ret, this.decoder, pos - this.winStart);
      if (new Int32Array(w.memory.buffer, ret, 2)[1] !== 0) throw new RangeError(`iced-x86: cannot seek to ${pos}`);
    } finally {
      w.__wbindgen_add_to_stack_pointer(16);
    }
    this.pos = pos;
  }

  /** next() at byte position `pos`, seeking there first if the decoder is elsewhere. */
  nextAt(pos: number): number {
    if (pos !== this.pos) this.seek(pos);
    return this.next();
  }

  /**
   * Decodes the instruction at the current position and advances past it.
   * Returns its length, or 0 if the bytes there are not a valid instruction (or are cut short
   * by the end of the section); the position then still moves past what iced consumed,
   * so callers that go on must seek().
   */
  next(): number {
    const w = this.w;
    // (an instruction near the window's end may go on past it: the window moves first)
    if (this.pos + MAX_INSN > this.winEnd && this.winEnd < this.bytes.length) this.window(this.pos);
    w.decoder_decodeOut(this.decoder, this.insn);
    const len = w.instruction_length(this.insn) >>> 0;
    this.last = this.pos;
    this.pos += len;
    return w.instruction_code(this.insn) === ICED_CODE_INVALID ? 0 : len;
  }

  /** Field offsets of the instruction last returned by next(); slow, for tests only. */
  lastFieldOffsets(): IcedFieldOffsets {
    return this.withWrapperInsn((decoder, insn) => {
      const co = decoder.getConstantOffsets(insn);
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
    });
  }

  /** Intel-syntax text of the instruction last returned by next(); for test messages only. */
  lastText(): string {
    return this.withWrapperInsn((_, insn) => insn.toString());
  }

  /** The last instruction decoded again through iced's own wrapper, for its richer API. */
  private withWrapperInsn<T>(f: (decoder: Iced.Decoder, insn: Iced.Instruction) => T): T {
    const m = iced();
    const decoder = new m.Decoder(64, this.bytes, m.DecoderOptions.NoInvalidCheck);
    try {
      decoder.position = this.last;
      const insn = decoder.decode();
      try {
        return f(decoder, insn);
      } finally {
        insn.free();
      }
    } finally {
      decoder.free();
    }
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.w.__wbg_instruction_free(this.insn);
    this.w.__wbg_decoder_free(this.decoder);
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
