// SPDX-License-Identifier: GPL-2.0-only
// `--dump=orc`: the ORC table printed exactly as objtool prints it (tools/objtool/orc_dump.c,
// and orc_print_dump() in arch/x86/orc.c from 6.5), one line per .orc_unwind entry:
//
//   6.1 (<= 6.2): <ip>: sp:<reg> bp:<reg> type:<type> end:<0|1>
//   6.3:          <ip>: sp:<reg> bp:<reg> type:<type> signal:<0|1> end:<0|1>
//   6.4+:         <ip>:type:<type> sp:<reg> bp:<reg> signal:<0|1>
//
// <ip> is `<name>+<r_addend in %llx>` from .rela.orc_unwind_ip when the file has it (the section
// name for an STT_SECTION symbol, else the symbol name), else the address
// `sh_addr(.orc_unwind_ip) + i*4 + (s32)orc_ip[i]` in %llx (64-bit wrap-around). <reg> is
// `(und)`, `(bp%+d)`, `(sp)%+d` or `<name>%+d` with "?" for an unknown register.
//
// objtool finds its sections by name, the last of a name winning; prints nothing and succeeds
// when .symtab, .strtab, .orc_unwind or .orc_unwind_ip is missing or (for the last two) empty;
// fails with "bad .orc_unwind section size" before printing anything; and fails part-way with a
// libelf message ("gelf_getrela: invalid section index" when the relocation section has fewer
// entries than .orc_unwind) after printing the lines before. Failures exit with status 255.
//
// The text is returned, not printed: one character per byte (latin1), as names are in the ELF
// layer; write it with the 'latin1' encoding to reproduce objtool's bytes.
import { ElfFile } from '../elf/reader.js';
import type { Section } from '../elf/section.js';
import { SHT_DYNSYM, SHT_NOBITS, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, STT_SECTION } from '../elf/constants.js';
import { cString } from '../elf/bytes.js';
import { detectLayout } from '../kernel/detect.js';
import type { OrcEntryLayout } from '../kernel/versions.js';
import { ORC_ENTRY_SIZE, ORC_REG_BP_INDIRECT, ORC_REG_SP_INDIRECT, ORC_REG_UNDEFINED, orcRegFromRaw } from './entry.js';

export interface OrcDumpResult {
  /** What objtool prints on stdout (latin1: one character per byte). */
  stdout: string;
  /** What objtool prints on stderr ("" on success). */
  stderr: string;
  /** objtool's exit status: 0, or 255 for orc_dump()'s -1. */
  status: number;
}

// libelf (elfutils) error texts objtool appends to its WARN_ELF() messages.
const E_INVALID_HANDLE = "invalid `Elf' handle";
const E_INVALID_INDEX = 'invalid section index';
const E_INVALID_SECTION = 'invalid section';
const E_OFFSET_RANGE = 'offset out of range';

/** reg_name() by neutral register (entry.ts); an era's numbers are mapped first, its unknown ones print "?". */
const REG_NAMES = ['(und)', 'prevsp', 'dx', 'di', 'bp', 'sp', 'r10', 'r13', 'bp(ind)', 'sp(ind)', 'ax'];
/** Type names up to 6.3 (UNWIND_HINT_TYPE_* numbering) and from 6.4 (ORC_TYPE_*). */
const TYPE_NAMES_V1 = ['call', 'regs', 'regs (partial)', '?'];
const TYPE_NAMES_V3 = ['(und)', 'end', 'call', 'regs', 'regs (partial)', '?', '?', '?'];

function signed(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

function printReg(reg: number, offset: number): string {
  if (reg === ORC_REG_BP_INDIRECT) return `(bp${signed(offset)})`;
  if (reg === ORC_REG_SP_INDIRECT) return `(sp)${signed(offset)}`;
  if (reg === ORC_REG_UNDEFINED) return '(und)';
  return (REG_NAMES[reg] ?? '?') + signed(offset);
}

/** The text after "<ip>:" for the entry at `at`, newline included. */
function entryText(orc: Uint8Array, at: number, layout: OrcEntryLayout): string {
  const sp = ((orc[at]! | (orc[at + 1]! << 8)) << 16) >> 16;
  const bp = ((orc[at + 2]! | (orc[at + 3]! << 8)) << 16) >> 16;
  const flags = orc[at + 4]! | (orc[at + 5]! << 8);
  const spReg = orcRegFromRaw(flags & 0xf, layout);
  const bpReg = orcRegFromRaw((flags >> 4) & 0xf, layout);
  const type = (flags >> 8) & ((1 << layout.typeBits) - 1);
  const signal = layout.signalBit === undefined ? 0 : (flags >> layout.signalBit) & 1;
  const end = layout.endBit === undefined ? 0 : (flags >> layout.endBit) & 1;
  const regs = `sp:${printReg(spReg, sp)} bp:${printReg(bpReg, bp)}`;
  switch (layout.dump) {
    case '6.1': return ` ${regs} type:${TYPE_NAMES_V1[type]} end:${end}\n`;
    case '6.3': return ` ${regs} type:${TYPE_NAMES_V1[type]} signal:${signal} end:${end}\n`;
    case '6.4': return `type:${TYPE_NAMES_V3[type]} ${regs} signal:${signal}\n`;
  }
}

/** %llx of the 64-bit value whose halves are `lo` and `hi` (unsigned 32-bit each). */
function hex64(lo: number, hi: number): string {
  return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** The data pointer objtool gets from elf_getdata(): none for an empty or NOBITS section. */
function hasBuffer(s: Section): boolean {
  return s.size !== 0 && s.type !== SHT_NOBITS;
}

class DumpFailure extends Error {}

/**
 * objtool's --dump=orc of `elf` as built for the kernel era `layout` (the layout's entry bits
 * and line format). `objname` is the file name as given on the command line.
 */
export function dumpOrc(elf: ElfFile, layout: OrcEntryLayout, objname: string = elf.path): OrcDumpResult {
  let symtab: Section | undefined;
  let strtabIdx = 0;
  let orcSec: Section | undefined;
  let ipSec: Section | undefined;
  let relaSec: Section | undefined;
  for (const s of elf.sections) {
    switch (s.name) {
      case '.symtab': symtab = s; break;
      case '.strtab': strtabIdx = s.index; break;
      case '.orc_unwind': orcSec = s; break;
      case '.orc_unwind_ip': ipSec = s; break;
      case '.rela.orc_unwind_ip': relaSec = s; break;
    }
  }
  if (!symtab || strtabIdx === 0 || !orcSec || !hasBuffer(orcSec) || !ipSec || !hasBuffer(ipSec)) {
    return { stdout: '', stderr: '', status: 0 };
  }
  const warn = (msg: string): string => `${objname}: warning: objtool: ${msg}\n`;
  if (orcSec.size % ORC_ENTRY_SIZE !== 0) return { stdout: '', stderr: warn('bad .orc_unwind section size'), status: 255 };

  const orc = orcSec.data;
  const nr = orcSec.size / ORC_ENTRY_SIZE;
  const parts: string[] = [];
  let chunk = '';
  const texts = new Map<number, string>();
  const text = (i: number): string => {
    const at = i * ORC_ENTRY_SIZE;
    const key = (orc[at + 4]! | (orc[at + 5]! << 8)) * 0x1_0000_0000 +
      ((orc[at]! | (orc[at + 1]! << 8) | (orc[at + 2]! << 16) | (orc[at + 3]! << 24)) >>> 0);
    let t = texts.get(key);
    if (t === undefined) texts.set(key, (t = entryText(orc, at, layout)));
    return t;
  };

  try {
    if (relaSec) {
      const names = new Map<number, string>();
      const symName = (symIdx: number): string => {
        let n = names.get(symIdx);
        if (n === undefined) names.set(symIdx, (n = symbolName(elf, symtab!, strtabIdx, symIdx)));
        return n;
      };
      const relaIsRela = relaSec.type === SHT_RELA;
      const nrRela = Math.floor(relaSec.size / 24);
      const rd = relaSec.data;
      const rv = new DataView(rd.buffer, rd.byteOffset, rd.length);
      for (let i = 0; i < nr; i++) {
        if (!relaIsRela) throw new DumpFailure(`gelf_getrela: ${E_INVALID_HANDLE}`);
        if (i >= nrRela) throw new DumpFailure(`gelf_getrela: ${E_INVALID_INDEX}`);
        const at = i * 24;
        const sym = rv.getUint32(at + 12, true);
        chunk += `${symName(sym)}+${hex64(rv.getUint32(at + 16, true), rv.getUint32(at + 20, true))}:${text(i)}`;
        if ((i & 4095) === 4095) {
          parts.push(chunk);
          chunk = '';
        }
      }
    } else {
      // Linked: the IP is the .orc_unwind_ip slot's address plus the s32 it holds. (objtool
      // reads past the section when it has fewer slots than .orc_unwind entries, whatever
      // memory follows; we read 0 there.)
      const base = ipSec.addr;
      const id = ipSec.data;
      const iv = new DataView(id.buffer, id.byteOffset, id.length);
      for (let i = 0; i < nr; i++) {
        const rel = i * 4 + 4 <= ipSec.size ? iv.getInt32(i * 4, true) : 0;
        const ip = BigInt.asUintN(64, base + BigInt(i * 4) + BigInt(rel));
        chunk += `${ip.toString(16)}:${text(i)}`;
        if ((i & 4095) === 4095) {
          parts.push(chunk);
          chunk = '';
        }
      }
    }
  } catch (e) {
    if (!(e instanceof DumpFailure)) throw e;
    parts.push(chunk);
    return { stdout: parts.join(''), stderr: warn(e.message), status: 255 };
  }
  parts.push(chunk);
  return { stdout: parts.join(''), stderr: '', status: 0 };
}

/** The name objtool prints for relocation symbol `symIdx`, with libelf's checks on the way. */
function symbolName(elf: ElfFile, symtab: Section, strtabIdx: number, symIdx: number): string {
  // gelf_getsym(): the data must be of symbols and hold the index.
  if (symtab.type !== SHT_SYMTAB && symtab.type !== SHT_DYNSYM) throw new DumpFailure(`gelf_getsym: ${E_INVALID_HANDLE}`);
  if (symIdx >= Math.floor(symtab.size / 24)) throw new DumpFailure(`gelf_getsym: ${E_INVALID_INDEX}`);
  const syms = symtab.data;
  const v = new DataView(syms.buffer, syms.byteOffset + symIdx * 24, 24);
  const stName = v.getUint32(0, true);
  const stInfo = v.getUint8(4);
  const stShndx = v.getUint16(6, true);
  if ((stInfo & 0xf) === STT_SECTION) {
    // elf_getscn() on the raw st_shndx (no SHN_XINDEX lookup), then the section's name.
    const s = elf.section(stShndx);
    if (!s) throw new DumpFailure(`elf_getscn: ${E_INVALID_INDEX}`);
    return s.name;
  }
  // elf_strptr(.strtab, st_name)
  const strtab = elf.section(strtabIdx)!;
  if (strtab.type !== SHT_STRTAB) throw new DumpFailure(`elf_strptr: ${E_INVALID_SECTION}`);
  if (stName >= strtab.size) throw new DumpFailure(`elf_strptr: ${E_OFFSET_RANGE}`);
  const n = cString(strtab.data, stName, strtab.size);
  if (n === undefined) throw new DumpFailure(`elf_strptr: ${E_INVALID_INDEX}`);
  return n;
}

/** --dump=orc of a file, in the era detected from the file unless `layout` is given. */
export function dumpOrcFile(path: string, layout?: OrcEntryLayout): OrcDumpResult {
  const elf = ElfFile.open(path);
  return dumpOrc(elf, layout ?? detectLayout(elf).layout.orc, path);
}
