// SPDX-License-Identifier: GPL-2.0-only
// Where an annotation kind's sites come from: up to 6.12 its own `.discard.<kind>` section,
// from 7.x (the layout's annotateInsn) the entries of `.discard.annotate_insn` with its type.
// The passes ask for the sites of one kind and act on each instruction the same way in both
// eras; what 7.x reads as one sweep per phase (read_annotate() with __annotate_early, _ifc and
// _late) comes here as one call per kind in the same phases.
import type { RelocTable } from '../elf/relocations.js';
import { relocRef } from '../kernel/common.js';
import { resolveAnnotationTarget } from '../kernel/annotations.js';
import type { Insn } from './insn.js';
import type { ObjFile } from './objfile.js';

export const ANNOTATE_INSN_SECTION = '.discard.annotate_insn';

/** One annotated instruction (undefined `insn`: nothing starts there; `missing` says so in objtool's words). */
export interface AnnotationSite {
  sec: number;
  offset: number;
  insn: Insn | undefined;
  missing: string;
}

interface AnnotateEntry {
  index: number;
  type: number;
  sec: number;
  offset: number;
}

const entriesOf = new WeakMap<ObjFile, AnnotateEntry[]>();

/** 7.x read_annotate()'s reading: every entry, its type read at the relocation's index. */
function annotateEntries(file: ObjFile): AnnotateEntry[] {
  let list = entriesOf.get(file);
  if (list) return list;
  list = [];
  entriesOf.set(file, list);
  const sec = file.elf.sectionByName(ANNOTATE_INSN_SECTION);
  const rel = sec ? file.elf.relocationsFor(sec) : undefined;
  if (!sec || !rel) return list;
  const size = file.layout.annotateInsn!.entrySize;
  // A linker that lost sh_entsize is taken at 8 bytes an entry, as objtool forces it.
  if (Math.floor(sec.size / size) !== rel.count) file.fatal('bad .discard.annotate_insn section: missing relocs');
  const bytes = file.elf.contents(sec);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < rel.count; i++) {
    const type = view.getUint32(i * size + file.layout.annotateInsn!.typeOffset, true);
    const t = file.kernelRead(() => resolveAnnotationTarget(file.elf, 'symbol-offset', relocRef(rel, i), rel.section.name));
    list.push({ index: i, type, sec: t.sec, offset: t.off });
  }
  return list;
}

/**
 * The sites of the annotation that 6.x keeps in `section` (e.g. '.discard.reachable'), in
 * objtool's order; `legacy` gives the target of a legacy relocation and objtool's message for one
 * without an instruction. Undefined: the object has none.
 */
export function annotationSites(
  file: ObjFile, section: string,
  legacy: (table: RelocTable, i: number) => { sec: number; offset: number; missing: string },
): AnnotationSite[] | undefined {
  const a = file.layout.annotateInsn;
  if (a) {
    const type = Number(Object.keys(a.types).find((t) => a.types[Number(t)] === section));
    const out: AnnotationSite[] = [];
    for (const e of annotateEntries(file)) {
      if (e.type !== type) continue;
      out.push({ ...at(file, e.sec, e.offset), missing: `bad .discard.annotate_insn entry: ${e.index} of type ${e.type}` });
    }
    return out.length ? out : undefined;
  }
  const rsec = file.elf.sectionByName(`.rela${section}`);
  if (!rsec) return undefined;
  const table = file.elf.relocTable(rsec);
  const out: AnnotationSite[] = [];
  for (let i = 0; i < table.count; i++) {
    const t = legacy(table, i);
    out.push({ ...at(file, t.sec, t.offset), missing: t.missing });
  }
  return out;
}

function at(file: ObjFile, sec: number, offset: number): { sec: number; offset: number; insn: Insn | undefined } {
  return { sec, offset, insn: file.findInsn(sec, offset) };
}

/**
 * 7.x: every entry names an instruction (checked in the first sweep, before anything else reads
 * them), and an unknown type is fatal in the last (__annotate_late's default).
 */
export function checkAnnotateEntries(file: ObjFile, phase: 'early' | 'late'): void {
  const a = file.layout.annotateInsn;
  if (!a) return;
  for (const e of annotateEntries(file)) {
    const insn = file.findInsn(e.sec, e.offset);
    if (!insn) file.fatal(`bad .discard.annotate_insn entry: ${e.index} of type ${e.type}`);
    if (phase === 'late' && a.types[e.type] === undefined && !a.known.includes(e.type)) file.fatalInsn(insn, `Unknown annotation type: ${e.type}`);
  }
}
