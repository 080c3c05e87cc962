// SPDX-License-Identifier: GPL-2.0-only
// --orc: the ORC table from every text section's states (objtool orc_create()), written last.
import type { ElfEditor } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';
import { forEachOrcPoint } from '../analysis/check.js';
import { OrcBuilder } from '../orc/generate.js';
import { OrcMappingError } from '../orc/from-cfi.js';
import { writeOrcSections } from '../orc/write.js';

/**
 * ORC for every text section into the editor. 'fatal': a state ORC cannot express, or an
 * existing .orc_unwind, which from 7.x fail the whole run (nothing written, exit 255); before,
 * they were warnings and only ORC was left out.
 */
export function buildOrc(file: ObjFile, editor: ElfEditor): 'written' | 'none' | 'fatal' {
  const severity = file.layout.severity.nowFatal.orc ? 'error' : undefined;
  const failed = severity ? 'fatal' : 'none';
  const builder = new OrcBuilder(file.layout.orc);
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
    if (!complete) return failed;
    builder.endSection(cs.index, cs.size);
  }
  const res = writeOrcSections(editor, builder.finish());
  if (res.status === 'exists') {
    file.warn(res.warning);
    return failed;
  }
  return res.status === 'written' ? 'written' : 'none';
}
