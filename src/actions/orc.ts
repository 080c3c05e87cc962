// SPDX-License-Identifier: GPL-2.0-only
// --orc: the ORC table from every text section's states (objtool orc_create()), written last.
// A big object's table is made on a second thread meanwhile (startOrcTable()): the numbers it
// needs are taken from the analysis first, and the other outputs are made on this one.
import type { ElfEditor } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';
import { forEachOrcPoint } from '../analysis/check.js';
import { groupLength, type CodeSection } from '../analysis/insn.js';
import { OrcBuilder, type OrcTable } from '../orc/generate.js';
import { OrcMappingError } from '../orc/from-cfi.js';
import { NO_POINT, type OrcJobSection, type OrcTableJob } from '../orc/table-job.js';
import { writeOrcSections } from '../orc/write.js';
import { ThreadJob } from '../threads.js';

/** The entries a table is made room for (about one in eight instructions in vmlinux.o, more in a module; grown past it). */
function capacityFor(file: ObjFile): number {
  let insns = 0;
  for (const cs of file.codeSections) if (cs.text) insns += cs.ds.count;
  return Math.max(1024, Math.ceil(insns / 6));
}

/**
 * The table made here, from the analysis' points; undefined at a state ORC cannot express
 * (reported, with `severity`: objtool then writes no ORC at all).
 */
export function makeOrcTable(file: ObjFile, severity?: 'error'): OrcTable | undefined {
  const builder = new OrcBuilder(file.layout.orc, capacityFor(file));
  for (const cs of file.codeSections) {
    if (!cs.text) continue;
    // The entry of each state, made once: vmlinux.o has millions of instructions but tens of
    // thousands of distinct states.
    const keys: number[] = [];
    const complete = forEachOrcPoint(cs, (offset, id, cfi, insnOffset) => {
      try {
        if (id >= 0) builder.addKey(cs.index, offset, (keys[id] ??= builder.keyOf(cs.cfis.byId(id))));
        else builder.add(cs.index, offset, cfi);
        return true;
      } catch (e) {
        if (!(e instanceof OrcMappingError)) throw e;
        const insn = file.findInsn(cs.index, insnOffset);
        if (insn) file.warnInsn(insn, e.message, severity);
        else file.warn(e.message, severity);
        return false;
      }
    });
    if (!complete) return undefined;
    builder.endSection(cs.index, cs.size);
  }
  return builder.finish();
}

/**
 * ORC for every text section into the editor; `made`: the table startOrcTable()'s thread made
 * (undefined: made here). 'fatal': a state ORC cannot express, or an existing .orc_unwind,
 * which from 7.x fail the whole run (nothing written, exit 255); before, they were warnings and
 * only ORC was left out.
 */
export function buildOrc(file: ObjFile, editor: ElfEditor, made?: OrcTable): 'written' | 'none' | 'fatal' {
  const severity = file.layout.severity.nowFatal.orc ? 'error' : undefined;
  const failed = severity ? 'fatal' : 'none';
  const table = made ?? makeOrcTable(file, severity);
  if (!table) return failed;
  const res = writeOrcSections(editor, table);
  if (res.status === 'exists') {
    file.warn(res.warning);
    return failed;
  }
  return res.status === 'written' ? 'written' : 'none';
}

/** A key, or NaN where ORC cannot express the state (buildOrc() then reports it). */
function keyOrNaN(f: () => number): number {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof OrcMappingError)) throw e;
    return NaN;
  }
}

/** A text section's numbers for the table's thread. */
function jobSection(cs: CodeSection, builder: OrcBuilder): OrcJobSection {
  const { offset, count } = cs.ds;
  const { cfi } = cs.a;
  // The alternative sites' instructions, from the section's extras (far fewer than its
  // instructions), in address order; each site from the first one, as forEachOrcPoint() meets it.
  const inSites: number[] = [];
  for (const [pos, x] of cs.extras) if (x.altGroup) inSites.push(pos);
  const order = Int32Array.from(inSites).sort();
  const sites: number[] = [];
  const siteKeys: number[] = [];
  let after = -1;
  for (const k of order) {
    if (k <= after) continue;
    const g = cs.extras.get(k)!.altGroup!;
    const len = groupLength(g);
    sites.push(k, g.lastInsn.pos, offset[k]!, siteKeys.length, len);
    for (let i = 0; i < len; i++) {
      const c = g.cfi[i];
      siteKeys.push(c ? keyOrNaN(() => builder.keyOf(c)) : NO_POINT);
    }
    after = g.lastInsn.pos;
  }
  return {
    index: cs.index, size: cs.size, count, offset: offset.subarray(0, count), cfi: cfi.subarray(0, count),
    sites: Int32Array.from(sites), siteKeys: Float64Array.from(siteKeys),
  };
}

/** What the table's thread is given: the analysis' states as numbers. */
export function orcTableJob(file: ObjFile): OrcTableJob {
  const texts = file.codeSections.filter((cs) => cs.text);
  const builder = new OrcBuilder(file.layout.orc);
  const keysById = new Float64Array(file.cfis.size);
  for (let id = 0; id < keysById.length; id++) keysById[id] = keyOrNaN(() => builder.keyOf(file.cfis.byId(id)));
  return {
    layout: file.layout.orc, capacity: capacityFor(file), keysById,
    noStateKey: keyOrNaN(() => builder.keyOf(null)),
    sections: texts.map((cs) => jobSection(cs, builder)),
  };
}

/**
 * Starts making the table on a second thread: for a big object, whose main section's offsets
 * and states are in shared memory (`anySize`: for any, copying them; tests); undefined: there
 * is no thread to be had.
 */
export function startOrcTable(file: ObjFile, anySize = false): ThreadJob<OrcTable> | undefined {
  if (!anySize && !file.codeSections.some((cs) => cs.text && cs.a.cfi.buffer instanceof SharedArrayBuffer)) return undefined;
  try {
    return ThreadJob.start<OrcTable>(new URL('../orc/table-worker.js', import.meta.url), orcTableJob(file));
  } catch {
    return undefined;
  }
}
