// SPDX-License-Identifier: GPL-2.0-only
// Test-only oracle: instruction boundaries as GNU objdump sees them, to check the decoder
// against. orctool itself never runs objdump.
//
// One `objdump -d -z -w` run covers a whole object: it prints "Disassembly of section NAME:"
// for every section with SHF_EXECINSTR and a non-zero size, in section header order, so the
// n-th block belongs to the n-th such section even when several share a name (COMDAT groups,
// .text.unlikely in many groups, ...). -z keeps runs of zero bytes (objdump otherwise prints
// "..."), -w keeps all bytes of an instruction on one line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runTool } from '../testing/toolchain.js';

export const OBJDUMP_ARGS = ['-d', '-z', '-w'] as const;

export interface ObjdumpBoundaries {
  /** Section offsets (objdump's addresses; sections of relocatable objects start at 0). */
  offsets: number[];
  lengths: number[];
  /** objdump's text after the bytes ("push   %rbp", "(bad)", ...), for messages. */
  texts: string[];
}

export interface ObjdumpSection extends ObjdumpBoundaries {
  name: string;
}

/** What a streaming reader of objdump's output is told, line by line. */
export interface ObjdumpSink {
  /** A "Disassembly of section NAME:" header: the next section with code. */
  section(name: string): void;
  /** One instruction: its address, how many bytes objdump shows for it, and its text. */
  insn(address: number, length: number, text: string): void;
}

const HEADER = 'Disassembly of section ';

/**
 * Feeds one line of `objdump -d -z -w` output to `sink`. Instruction lines look like
 * "   1f:\t48 89 e5             \tmov    %rsp,%rbp" (the text part may be missing);
 * everything else (file header, "<symbol>:" labels, blank lines) is ignored.
 */
export function feedObjdumpLine(line: string, sink: ObjdumpSink): void {
  if (line.startsWith(HEADER)) {
    sink.section(line.slice(HEADER.length, line.endsWith(':') ? -1 : undefined));
    return;
  }
  const t1 = line.indexOf(':\t');
  if (t1 <= 0) return;
  // The address: hex digits after leading spaces, and nothing else before the ":\t".
  let a = 0;
  while (a < t1 && line.charCodeAt(a) === 0x20) a++;
  if (a === t1) return;
  let address = 0;
  for (let k = a; k < t1; k++) {
    const c = line.charCodeAt(k);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return;
    address = address * 16 + d;
  }
  const bStart = t1 + 2;
  let t2 = line.indexOf('\t', bStart);
  if (t2 < 0) t2 = line.length;
  // "48 89 e5 " then padding: each byte is two hex digits and a space.
  let n = 0;
  let k = bStart;
  while (k + 1 < t2 && isHex(line.charCodeAt(k)) && isHex(line.charCodeAt(k + 1))) {
    n++;
    k += 2;
    if (line.charCodeAt(k) !== 0x20) break;
    k++;
  }
  if (n === 0) return;
  sink.insn(address, n, t2 < line.length ? line.slice(t2 + 1).trim() : '');
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

/** Streams `objdump -d -z -w objPath` into `sink`; resolves when objdump has exited 0. */
export function objdumpStream(objPath: string, sink: ObjdumpSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('objdump', [...OBJDUMP_ARGS, objPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let failed: Error | undefined;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
    });
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (failed) return;
      try {
        feedObjdumpLine(line, sink);
      } catch (e) {
        failed = e as Error;
        child.kill();
      }
    });
    let exited: number | null | undefined;
    let closed = false;
    const finish = (): void => {
      if (exited === undefined || !closed) return;
      if (failed) reject(failed);
      else if (exited !== 0) reject(new Error(`objdump ${objPath} exited ${exited}: ${stderr.trim()}`));
      else resolve();
    };
    child.on('error', reject);
    child.on('exit', (code) => {
      exited = code;
      finish();
    });
    rl.on('close', () => {
      closed = true;
      finish();
    });
  });
}

/** Every disassembled section of objPath, in file order (synchronous; for small objects). */
export function objdumpSections(objPath: string): ObjdumpSection[] {
  const r = runTool('objdump', [...OBJDUMP_ARGS, objPath]);
  if (r.status !== 0) throw new Error(`objdump -d ${objPath}: ${r.stderr}`);
  const out: ObjdumpSection[] = [];
  let cur: ObjdumpSection | undefined;
  const sink: ObjdumpSink = {
    section(name) {
      cur = { name, offsets: [], lengths: [], texts: [] };
      out.push(cur);
    },
    insn(address, length, text) {
      if (!cur) throw new Error(`objdump ${objPath}: an instruction before any section header`);
      cur.offsets.push(address);
      cur.lengths.push(length);
      cur.texts.push(text);
    },
  };
  for (const line of r.stdout.split('\n')) feedObjdumpLine(line, sink);
  return out;
}

/**
 * Boundaries of the `nth` (from 0) disassembled section called `section`: several sections
 * may share a name, and objdump's --section=NAME would mix them up.
 */
export function objdumpBoundaries(objPath: string, section: string, nth = 0): ObjdumpBoundaries {
  const found = objdumpSections(objPath).filter((s) => s.name === section);
  const s = found[nth];
  if (!s) throw new Error(`objdump -d ${objPath}: no section ${section} #${nth} (${found.length} of that name)`);
  return { offsets: s.offsets, lengths: s.lengths, texts: s.texts };
}
