// SPDX-License-Identifier: GPL-2.0-only
// Test-only: read back what the decoder tests need from an object file (section bytes, the
// executable sections, symbols, relocations) with binutils, so the decoder's tests do not
// depend on orctool's own ELF reader.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from '../testing/toolchain.js';

function run(cmd: string, args: string[]): string {
  const r = runTool(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The contents of one section, via objcopy into `tmpDir`. */
export function sectionBytes(objPath: string, section: string, tmpDir: string): Uint8Array {
  const out = join(tmpDir, `section-${section.replace(/[^A-Za-z0-9_.-]/g, '_')}.bin`);
  run('objcopy', ['-O', 'binary', `--only-section=${section}`, objPath, out]);
  return new Uint8Array(readFileSync(out));
}

/** Names of the SHF_EXECINSTR sections with contents. */
export function execSections(objPath: string): string[] {
  const out: string[] = [];
  for (const line of run('readelf', ['-SW', objPath]).split('\n')) {
    // "  [ 1] .text  PROGBITS  0000000000000000 000040 000123 00  AX  0   0 16"
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+PROGBITS\s+\S+\s+\S+\s+([0-9a-f]+)\s+\S+\s+(\S+)/.exec(line);
    if (m && m[3].includes('X') && parseInt(m[2], 16) > 0) out.push(m[1]);
  }
  return out;
}

export interface TestSymbol {
  name: string;
  value: number;
  size: number;
  type: string;
  /** Section index as readelf prints it. */
  ndx: string;
}

export function symbolsOf(objPath: string): TestSymbol[] {
  const out: TestSymbol[] = [];
  for (const line of run('readelf', ['-sW', objPath]).split('\n')) {
    const f = line.trim().split(/\s+/);
    // Num: Value Size Type Bind Vis Ndx Name
    if (f.length < 8 || !/^\d+:$/.test(f[0])) continue;
    out.push({ name: f[7], value: parseInt(f[1], 16), size: Number(f[2]), type: f[3], ndx: f[6] });
  }
  return out;
}

export interface TestReloc {
  offset: number;
  type: string;
  symbol: string;
  addend: number;
}

/** Relocations applying to `section`. */
export function relocsOf(objPath: string, section: string): TestReloc[] {
  const out: TestReloc[] = [];
  let inSection = false;
  for (const line of run('readelf', ['-rW', objPath]).split('\n')) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      inSection = head[1] === `.rela${section}`;
      continue;
    }
    if (!inSection) continue;
    // "0000000000000242  0000001800000002 R_X86_64_PC32  0000000000000000 .text.other - 2"
    const m = /^([0-9a-f]{16})\s+[0-9a-f]+\s+(\S+)\s+[0-9a-f]+\s+(\S+)\s*([+-])\s*([0-9a-f]+)/.exec(line);
    if (m) {
      const addend = parseInt(m[5], 16) * (m[4] === '-' ? -1 : 1);
      out.push({ offset: parseInt(m[1], 16), type: m[2], symbol: m[3], addend });
    }
  }
  return out;
}
