// SPDX-License-Identifier: GPL-2.0-only
// The one symbol question arch_decode_instruction() asks (for iret): is
// find_symbol_containing(sec, offset) an STT_FUNC? Built from our ELF layer's symbol table with
// objtool's (6.1 and 6.12 alike) rules for which symbol that function returns.
import type { SymbolTable } from '../elf/symbols.js';

const STT_SECTION = 3;
const STT_FUNC = 2;

/**
 * A predicate for DecodeOptions.isInFunc on section `sectionIndex`, answering as objtool does:
 *
 * - objtool keeps each section's symbols in an interval tree over [st_value, st_value + len),
 *   with len = st_size, and leaves zero-sized symbols out of it;
 * - find_symbol_containing() walks the symbols holding `offset` in tree order (st_value, then
 *   symbol-table index) and returns the first that is not STT_SECTION;
 * - iret is "in a function" iff that one symbol is STT_FUNC;
 * - read_symbols() shortens a parent function whose `<name>.cold*` child (STT_FUNC) lies in
 *   the same section and ends where the parent ends (gcc -fno-reorder-functions): the parent's
 *   len loses the child's size. The parent is objtool's find_symbol_by_name(), i.e. the last
 *   symbol of that name in the table.
 */
export function objtoolIsInFunc(symbols: SymbolTable, sectionIndex: number): (offset: number) => boolean {
  let built: { start: Float64Array; end: Float64Array; maxEnd: Float64Array; isFunc: Uint8Array } | undefined;

  const build = (): NonNullable<typeof built> => {
    const all = symbols.inSection(sectionIndex); // by st_value, then index
    // (by symbol index, not a map: vmlinux.o's .text has ~150,000 symbols)
    const len = new Float64Array(symbols.count);
    for (const i of all) len[i] = symbols.size[i]!;
    // .cold children, in objtool's walk order over the section's symbols.
    for (const i of all) {
      if (symbols.type(i) !== STT_FUNC) continue;
      const name = symbols.name(i);
      const at = name.indexOf('.cold');
      if (at < 0) continue;
      const same = symbols.indicesByName(name.slice(0, at));
      if (same.length === 0) continue;
      const p = same[same.length - 1]!;
      if (symbols.shndx[p] !== sectionIndex || !symbols.isDefined(p)) continue;
      const pLen = len[p]!;
      const cStart = symbols.value[i]!;
      const cLen = len[i]!;
      if (cStart >= symbols.value[p]! && cStart + cLen === symbols.value[p]! + pLen) len[p] = pLen - cLen;
    }
    const start = new Float64Array(all.length);
    const end = new Float64Array(all.length);
    const maxEnd = new Float64Array(all.length);
    const isFunc = new Uint8Array(all.length);
    let n = 0;
    let m = -Infinity;
    for (const i of all) {
      const l = len[i]!;
      if (l <= 0 || symbols.type(i) === STT_SECTION) continue;
      start[n] = symbols.value[i]!;
      end[n] = symbols.value[i]! + l;
      m = Math.max(m, symbols.value[i]! + l);
      maxEnd[n] = m;
      isFunc[n++] = symbols.type(i) === STT_FUNC ? 1 : 0;
    }
    return { start: start.subarray(0, n), end: end.subarray(0, n), maxEnd: maxEnd.subarray(0, n), isFunc: isFunc.subarray(0, n) };
  };

  return (offset: number): boolean => {
    built ??= build();
    const { start, end, maxEnd, isFunc } = built;
    // The first symbol that could reach past offset: maxEnd is non-decreasing.
    let lo = 0;
    let hi = maxEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (maxEnd[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    for (let k = lo; k < start.length && start[k]! <= offset; k++) {
      if (offset < end[k]!) return isFunc[k] === 1;
    }
    return false;
  };
}
