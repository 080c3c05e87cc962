// SPDX-License-Identifier: GPL-2.0-only
// The ORC table already in a relocatable object (.orc_unwind + .rela.orc_unwind_ip) as an
// OrcTable: entry k's bytes, and the section and offset its IP relocation points at (symbol
// value + addend; for objtool's STT_SECTION symbols, the addend). For checking generated tables
// against the ones the kernel build put into modules, and for rewriting them.
// A linked image (vmlinux) has no relocations: each .orc_unwind_ip field is `.long ip - .`, read
// by address (src/elf/linked.ts); its `symbols` are then all 0.
import type { ElfFile } from '../elf/reader.js';
import { LinkedImage } from '../elf/linked.js';
import type { Section } from '../elf/section.js';
import { ORC_ENTRY_SIZE, ORC_IP_SIZE } from './entry.js';
import type { OrcTable } from './generate.js';

export interface ReadOrcTable extends OrcTable {
  /** Symbol index of each entry's relocation. */
  symbols: Uint32Array;
}

export function readOrcTable(elf: ElfFile): ReadOrcTable | undefined {
  const orc = elf.sectionByName('.orc_unwind');
  const ip = elf.sectionByName('.orc_unwind_ip');
  if (!orc || !ip) return undefined;
  const where = '.orc_unwind';
  elf.contents(orc);
  elf.contents(ip);
  if (orc.size % ORC_ENTRY_SIZE !== 0) throw elf.error(where, orc.offset, `size 0x${orc.size.toString(16)} is not a multiple of ${ORC_ENTRY_SIZE}`);
  const count = orc.size / ORC_ENTRY_SIZE;
  if (ip.size !== count * ORC_IP_SIZE) {
    throw elf.error('.orc_unwind_ip', ip.offset, `size 0x${ip.size.toString(16)} does not match the ${count} entries of .orc_unwind`);
  }
  const linked = LinkedImage.of(elf);
  if (linked) return readLinked(linked, elf, orc.data, ip, count);
  const rel = elf.relocationsFor(ip);
  const syms = elf.symbols;
  if (!rel || !syms) throw elf.error('.orc_unwind_ip', ip.offset, 'no relocations: not a relocatable object');
  const sections = new Uint32Array(count);
  const offsets = new Float64Array(count);
  const symbols = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    const r = rel.at(k * ORC_IP_SIZE);
    if (r < 0) throw elf.error('.rela.orc_unwind_ip', undefined, `no relocation for entry ${k} (offset 0x${(k * ORC_IP_SIZE).toString(16)})`);
    const s = rel.sym(r);
    symbols[k] = s;
    sections[k] = syms.shndx[s]!;
    offsets[k] = syms.value[s]! + rel.addend(r);
  }
  return { count, entries: new Uint8Array(orc.data), sections, offsets, symbols };
}

/**
 * The table of a linked image: entry k's ip is the address of its .orc_unwind_ip field plus the
 * field's value. An ip in no allocated section (none should be) gets section 0.
 */
function readLinked(linked: LinkedImage, elf: ElfFile, entries: Uint8Array, ip: Section, count: number): ReadOrcTable {
  const sections = new Uint32Array(count);
  const offsets = new Float64Array(count);
  if (!linked.placed(ip.index)) throw elf.error('.orc_unwind_ip', ip.offset, 'not an allocated section of the image');
  const v = new DataView(ip.data.buffer, ip.data.byteOffset, ip.data.byteLength);
  for (let k = 0; k < count; k++) {
    const t = linked.target(ip.index, k * ORC_IP_SIZE, v.getInt32(k * ORC_IP_SIZE, true));
    if (t) {
      sections[k] = t.sec;
      offsets[k] = t.off;
    }
  }
  return { count, entries: new Uint8Array(entries), sections, offsets, symbols: new Uint32Array(count) };
}
