// SPDX-License-Identifier: GPL-2.0-only
// `orctool explain FILE FUNC+OFF [--html] [--kernel=V] [check options]`: what stack validation
// found at that location. At an alternative site, the per-offset table of its streams; for a
// warning elsewhere (with the options of the run that printed it), how the walk got there
// (src/explain/path.ts): the path with the state at each instruction, both paths of a mismatch,
// the dead end before an unreachable instruction, the end of a function that falls through.
import { ElfFile } from '../elf/reader.js';
import { UsageError } from '../errors.js';
import { detectLayout } from '../kernel/detect.js';
import { layoutByName, LAYOUT_NAMES } from '../kernel/versions.js';
import { specialGetAlts } from '../kernel/alternatives.js';
import { check } from '../analysis/check.js';
import { Insn } from '../analysis/insn.js';
import { indexContaining } from '../x86/index.js';
import { isLinkedObject } from './check-command.js';
import { defaultOptions } from '../analysis/options.js';
import { siteTable } from '../explain/table.js';
import { renderHtml, renderPathHtml, renderText } from '../explain/render.js';
import { explainWarning } from '../explain/path.js';
import { formatWarning, type Warning } from '../analysis/warnings.js';
import { parseCommandLine } from './check-command.js';

export function runExplainCommand(argv: string[], out: { stdout: (s: string) => void }): number {
  const pos: string[] = [];
  const checkFlags: string[] = [];
  let html = false;
  let kernel: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--html') html = true;
    else if (a.startsWith('--kernel')) kernel = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
    else if (a.startsWith('-')) checkFlags.push(a);
    else pos.push(a);
  }
  const [file, where] = pos;
  if (!file || !where || pos.length !== 2) throw new UsageError('explain: usage: orctool explain FILE FUNC+OFF [--html] [check options]');
  const m = /^(.+?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/s.exec(where);
  if (!m) throw new UsageError(`explain: '${where}' is not FUNC or FUNC+OFF`);
  const elf = ElfFile.open(file);
  const layout = kernel ? layoutByName(kernel) : detectLayout(elf).layout;
  if (!layout) throw new UsageError(`--kernel: unknown kernel layout '${kernel}' (one of ${LAYOUT_NAMES.join(', ')})`);
  // The options of the run whose warning is explained (objtool's; default --orc).
  const opts = checkFlags.length ? parseCommandLine([...checkFlags, file], {}).opts : { ...defaultOptions(), orc: true };
  if (!checkFlags.length) opts.link = isLinkedObject(elf);
  const warnings: Warning[] = [];
  const result = check(elf, layout, opts, file, (_, w) => warnings.push(w));
  const fsym = result.file.syms.byName(m![1]!);
  if (!fsym || !fsym.sec) throw new UsageError(`explain: no symbol '${m![1]}' defined in ${file}`);
  const off = fsym.offset + (m![2] ? Number(m![2]) : 0);
  const cs = result.file.code[fsym.sec];
  const at = cs ? indexContaining(cs.ds, off) : -1;
  if (!cs || at < 0) throw new UsageError(`explain: no instruction at ${where}`);
  const insn = new Insn(cs, at);
  const fn = insn.func ?? fsym;
  // The warnings about this place: at its instruction, or about its function as a whole.
  const here = warnings.filter((w) => w.kind === 'warning' && (w.location !== undefined
    ? w.section === cs.name && w.sectionOffset === insn.offset
    : !m![2] && w.message.startsWith(`${fsym.name}() `)));
  // A fatal error ends the check before its walks are done: what is shown is partial, and the
  // reader is told why (a shipped module, say, has lost its .discard annotations at link time).
  const stopped = result.fatal && warnings.length
    ? [`${file}: the check stopped at an error, so its walks are incomplete: ${formatWarning(warnings.at(-1)!)}`]
    : [];
  const t = siteTable(result.file, insn, specialGetAlts(elf, layout));
  if (t && here.every((w) => w.message.startsWith('stack layout conflict in alternatives'))) {
    out.stdout(html ? renderHtml(t) : stopped.map((l) => l + '\n').join('') + renderText(t));
    return 0;
  }
  const lines: string[] = [...stopped];
  if (!here.length) {
    lines.push(`${file}: no warning at ${where} with ${checkFlags.length ? checkFlags.join(' ') : '--orc'}; how the walk reaches it:`);
    lines.push(...explainWarning(result.file, { file, kind: 'warning', message: '' }, insn, fn));
  }
  for (const w of here) {
    lines.push(formatWarning(w), ...explainWarning(result.file, w, w.location !== undefined ? insn : undefined, fn), '');
  }
  out.stdout(html ? renderPathHtml(lines) : lines.join('\n') + '\n');
  return 0;
}
