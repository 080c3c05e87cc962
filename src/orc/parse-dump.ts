// SPDX-License-Identifier: GPL-2.0-only
// Read a `--dump=orc` listing (objtool's or ours) back into entries: for comparing ORC tables
// with objtool's, and for rebuilding a table from a dump in tests. The inverse of dump.ts for
// every line whose registers have names ("?" registers cannot be told apart).
import type { OrcEntryLayout } from '../kernel/versions.js';
import {
  ORC_REG_AX, ORC_REG_BP_INDIRECT, ORC_REG_SP_INDIRECT, ORC_REG_UNDEFINED, ORC_TYPE_CALL, ORC_TYPE_END_OF_STACK, ORC_TYPE_REGS,
  ORC_TYPE_REGS_PARTIAL, ORC_TYPE_UNDEFINED, ORC_V1_TYPE_CALL, ORC_V1_TYPE_REGS, ORC_V1_TYPE_REGS_PARTIAL, type OrcEntry,
} from './entry.js';

export interface DumpedEntry {
  /** Relocatable: the symbol or section name before "+". Linked: undefined. */
  name?: string;
  /** Relocatable: the addend; linked: the address (both as printed, 64-bit unsigned). */
  value: bigint;
  entry: OrcEntry;
}

const REGS: Record<string, number> = { prevsp: 1, dx: 2, di: 3, bp: 4, sp: 5, r10: 6, r13: 7, ax: ORC_REG_AX };
const TYPES_V1: Record<string, number> = { call: ORC_V1_TYPE_CALL, regs: ORC_V1_TYPE_REGS, 'regs (partial)': ORC_V1_TYPE_REGS_PARTIAL };
const TYPES_V3: Record<string, number> = {
  '(und)': ORC_TYPE_UNDEFINED, end: ORC_TYPE_END_OF_STACK, call: ORC_TYPE_CALL, regs: ORC_TYPE_REGS, 'regs (partial)': ORC_TYPE_REGS_PARTIAL,
};

const TAIL_6_1 = / sp:(\S+) bp:(\S+) type:(.+) end:([01])$/;
const TAIL_6_3 = / sp:(\S+) bp:(\S+) type:(.+) signal:([01]) end:([01])$/;
const TAIL_6_4 = /type:(.+) sp:(\S+) bp:(\S+) signal:([01])$/;

function parseReg(text: string, line: string): [number, number] {
  if (text === '(und)') return [ORC_REG_UNDEFINED, 0];
  let m = /^\(bp([+-]\d+)\)$/.exec(text);
  if (m) return [ORC_REG_BP_INDIRECT, Number(m[1])];
  m = /^\(sp\)([+-]\d+)$/.exec(text);
  if (m) return [ORC_REG_SP_INDIRECT, Number(m[1])];
  m = /^([a-z0-9]+)([+-]\d+)$/.exec(text);
  const reg = m ? REGS[m[1]!] : undefined;
  if (!m || reg === undefined) throw new Error(`unparsable ORC register '${text}' in: ${line}`);
  return [reg, Number(m[2])];
}

function parseType(text: string, layout: OrcEntryLayout, line: string): number {
  const t = (layout.dump === '6.4' ? TYPES_V3 : TYPES_V1)[text];
  if (t === undefined) throw new Error(`unparsable ORC type '${text}' in: ${line}`);
  return t;
}

export function parseOrcDumpLine(line: string, layout: OrcEntryLayout): DumpedEntry {
  let head: string;
  let sp: string;
  let bp: string;
  let type: string;
  let signal = '0';
  let end = '0';
  let m: RegExpExecArray | null;
  if (layout.dump === '6.4') {
    m = TAIL_6_4.exec(line);
    if (!m) throw new Error(`unparsable ORC dump line: ${line}`);
    [, type, sp, bp, signal] = m as unknown as [string, string, string, string, string];
  } else if (layout.dump === '6.3') {
    m = TAIL_6_3.exec(line);
    if (!m) throw new Error(`unparsable ORC dump line: ${line}`);
    [, sp, bp, type, signal, end] = m as unknown as [string, string, string, string, string, string];
  } else {
    m = TAIL_6_1.exec(line);
    if (!m) throw new Error(`unparsable ORC dump line: ${line}`);
    [, sp, bp, type, end] = m as unknown as [string, string, string, string, string];
  }
  head = line.slice(0, m.index);
  if (!head.endsWith(':')) throw new Error(`unparsable ORC dump line: ${line}`);
  head = head.slice(0, -1);
  const [spReg, spOffset] = parseReg(sp, line);
  const [bpReg, bpOffset] = parseReg(bp, line);
  const entry: OrcEntry = {
    spOffset: spReg === ORC_REG_UNDEFINED ? 0 : spOffset, bpOffset: bpReg === ORC_REG_UNDEFINED ? 0 : bpOffset,
    spReg, bpReg, type: parseType(type, layout, line), signal: signal === '1', end: end === '1',
  };
  const plus = head.lastIndexOf('+');
  if (plus < 0) return { value: BigInt(`0x${head}`), entry };
  return { name: head.slice(0, plus), value: BigInt(`0x${head.slice(plus + 1)}`), entry };
}

/** Every line of a dump. `(und)` registers come back with offset 0 (the dump does not show it). */
export function parseOrcDump(text: string, layout: OrcEntryLayout): DumpedEntry[] {
  const out: DumpedEntry[] = [];
  for (const line of text.split('\n')) if (line !== '') out.push(parseOrcDumpLine(line, layout));
  return out;
}
