// SPDX-License-Identifier: GPL-2.0-only
// What a check writes into the object, in the order the version's objtool makes it (the
// layout's outputSteps: check() of 6.12 and 7.3 create their sections in different orders, and
// each section symbol or __pfx_ symbol made takes its place in the symbol table as it comes).
// The code rewrites come first: objtool makes them while it decodes.
import type { ElfEditor } from '../elf/writer.js';
import type { ObjFile } from '../analysis/objfile.js';
import { FatalCheckError } from '../analysis/objfile.js';
import type { OutputStep } from '../kernel/versions.js';
import { applyCodePatches } from './code-patches.js';
import { addPrefixSymbols } from './prefix-symbols.js';
import { type SitesTable, writeSitesTable } from './sites.js';
import { buildOrc, startOrcTable } from './orc.js';
import { writeIbtSeal } from './ibt-seal.js';
import { checkAbsReferences } from './noabs.js';
import { growCfiSymbols, writeCfiSites } from './cfi.js';
import { writeKlpSymids } from './klp-symid.js';
import { phase } from '../phases.js';

/** Whether a step runs with these options (objtool's opts.* tests in check()). */
function stepWanted(file: ObjFile, step: OutputStep): boolean {
  const o = file.opts;
  switch (step) {
    case 'static_call': return o.staticCall;
    case 'cfi_sites': return o.cfi;
    case 'klp_symids': return o.klpSymids;
    case 'retpoline': return o.retpoline;
    case 'return': return o.rethunk;
    case 'call': return o.rethunk && o.hackSkylake;
    case 'mcount': return o.mcount;
    case 'prefix': return o.prefix > 0;
    case 'ibt': return o.ibt;
    case 'noabs': return o.noabs;
    case 'orc': return o.orc && file.nrInsns > 0;
  }
}

/** 7.x's prefix step: `__pfx_` symbols, or with --cfi the grown `__cfi_` ones and --fineibt's `.cfi_sites`. */
function prefixStep(file: ObjFile, editor: ElfEditor): boolean {
  if (!file.opts.cfi || file.layout.cfi === 'sites') return addPrefixSymbols(file, editor);
  let changed = growCfiSymbols(file, editor);
  if (file.opts.fineibt) changed = writeCfiSites(file, editor) || changed;
  return changed;
}

/** 'changed': the editor has something to write; 'fatal': a fatal error, nothing may be written. */
export function writeOutputs(file: ObjFile, editor: ElfEditor, stdout: (s: string) => void = () => {}): 'changed' | 'unchanged' | 'fatal' {
  let changed = applyCodePatches(file, editor);
  phase('output code patches');
  // check() stops before all of this when the object has no instructions.
  if (file.nrInsns === 0) return changed ? 'changed' : 'unchanged';
  // (ORC is the last step of every era: a big object's table is made meanwhile on a second thread)
  const orcTable = file.big && stepWanted(file, 'orc') ? startOrcTable(file) : undefined;
  phase('output ORC job');
  try {
    for (const step of file.layout.outputSteps) {
      if (!stepWanted(file, step)) continue;
      if (step === 'prefix') changed = prefixStep(file, editor) || changed;
      else if (step === 'cfi_sites') changed = writeCfiSites(file, editor) || changed;
      else if (step === 'klp_symids') changed = writeKlpSymids(file, editor) || changed;
      else if (step === 'ibt') changed = writeIbtSeal(file, editor, stdout) || changed;
      else if (step === 'noabs') checkAbsReferences(file);
      else if (step === 'orc') {
        const r = buildOrc(file, editor, orcTable?.wait());
        if (r === 'fatal') return 'fatal';
        changed = r === 'written' || changed;
      } else changed = writeSitesTable(file, editor, step as SitesTable) || changed;
      phase(`output ${step}`);
    }
  } catch (e) {
    if (e instanceof FatalCheckError) return 'fatal';
    throw e;
  } finally {
    orcTable?.cancel();
  }
  return changed ? 'changed' : 'unchanged';
}
