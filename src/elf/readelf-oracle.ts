// SPDX-License-Identifier: GPL-2.0-only
// Test-only: parse `readelf -W` output so tests can hold the ELF layer against binutils.
import assert from 'node:assert/strict';
import { runTool } from '../testing/toolchain.js';
import { ElfFile } from './reader.js';
import { sectionTypeName, SHT_REL, SHT_RELA, symbolBindName, symbolTypeName } from './constants.js';

export interface OracleSection { index: number; name: string; type: string; offset: number; size: number; entsize: number; flags: string; link: number; info: number; align: number }
export interface OracleSymbol { index: number; value: bigint; size: number; type: string; bind: string; ndx: string; name: string }
export interface OracleReloc { section: string; offset: number; sym: number; type: number; addend: number }

function readelf(args: string[], file: string): string {
  const r = runTool('readelf', ['-W', ...args, file]);
  if (r.status !== 0 || r.stderr !== '') throw new Error(`readelf ${args.join(' ')} ${file}: ${r.stderr}`);
  return r.stdout;
}

export function oracleSections(file: string): OracleSection[] {
  const out: OracleSection[] = [];
  for (const line of readelf(['-S'], file).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s?(.*)$/.exec(line);
    if (!m) continue;
    const t = m[2]!.replace('SYMTAB SECTION INDICES', 'SYMTAB_SHNDX').trim().split(/\s+/);
    if (t[0] === 'NULL') continue;
    const [name, type, , off, size, es] = t;
    const hasFlags = t.length === 10;
    out.push({
      index: Number(m[1]), name: name!, type: type!, offset: parseInt(off!, 16), size: parseInt(size!, 16), entsize: parseInt(es!, 16),
      flags: hasFlags ? t[6]! : '', link: Number(t[hasFlags ? 7 : 6]), info: Number(t[hasFlags ? 8 : 7]), align: Number(t[hasFlags ? 9 : 8]),
    });
  }
  return out;
}

export function oracleSymbols(file: string): OracleSymbol[] {
  const out: OracleSymbol[] = [];
  for (const line of readelf(['-s'], file).split('\n')) {
    const m = /^\s*(\d+):\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      index: Number(m[1]), value: BigInt('0x' + m[2]), size: m[3]!.startsWith('0x') ? parseInt(m[3]!, 16) : Number(m[3]),
      type: m[4]!, bind: m[5]!, ndx: m[7]!, name: m[8]!.replace(/ \(\d+\)$/, ''),
    });
  }
  return out;
}

export function oracleRelocs(file: string): OracleReloc[] {
  const out: OracleReloc[] = [];
  let section = '';
  for (const line of readelf(['-r'], file).split('\n')) {
    const h = /^Relocation section '([^']+)'/.exec(line);
    if (h) {
      section = h[1]!;
      continue;
    }
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const info = BigInt('0x' + m[2]);
    const add = /([+-]) ([0-9a-f]+)\s*$/.exec(m[4]!);
    out.push({
      section, offset: parseInt(m[1]!, 16), sym: Number(info >> 32n), type: Number(info & 0xffffffffn),
      addend: add ? (add[1] === '-' ? -1 : 1) * parseInt(add[2]!, 16) : 0,
    });
  }
  return out;
}

/** Hold every section, symbol and relocation orctool reads against readelf's view. */
export function assertMatchesReadelf(path: string): void {
  const elf = ElfFile.open(path);
  const secs = oracleSections(path);
  assert.equal(secs.length, elf.sections.length - 1, 'section count');
  for (const o of secs) {
    const s = elf.section(o.index)!;
    assert.deepEqual(
      [s.name, sectionTypeName(s.type), s.offset, s.size, s.entsize, s.link, s.info, s.addralign],
      [o.name, o.type, o.offset, o.size, o.entsize, o.link, o.info, o.align], `section ${o.index}`);
  }
  const syms = elf.symbols!;
  const osyms = oracleSymbols(path);
  assert.equal(osyms.length, syms.count, 'symbol count');
  for (const o of osyms) {
    const i = o.index;
    const ndx = syms.rawShndx[i] === 0 ? 'UND' : o.ndx === 'ABS' || o.ndx === 'COM' ? o.ndx : String(syms.shndx[i]);
    assert.deepEqual(
      [syms.valueBig(i), syms.value[i], syms.size[i], symbolTypeName(syms.type(i)), symbolBindName(syms.bind(i)), ndx],
      [o.value, Number(o.value), o.size, o.type, o.bind, o.ndx], `symbol ${i}`);
    // readelf names section symbols after their section; so does displayName.
    assert.equal(syms.displayName(i), o.name, `symbol ${i} name`);
  }
  const orel = oracleRelocs(path);
  let k = 0;
  for (const s of elf.sections) {
    if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
    const t = elf.relocTable(s);
    for (let i = 0; i < t.count; i++, k++) {
      const o = orel[k]!;
      assert.deepEqual([s.name, t.offset(i), t.sym(i), t.type(i), t.addend(i)], [o.section, o.offset, o.sym, o.type, o.addend], `${s.name} reloc ${i}`);
    }
  }
  assert.equal(k, orel.length, 'relocation count');
}

