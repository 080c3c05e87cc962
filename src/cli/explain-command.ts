// SPDX-License-Identifier: GPL-2.0-only
// `orctool explain FILE FUNC+OFF [--html] [--kernel=V]`: the per-offset table of the alternative
// site at that location, after stack validation has recorded every stream's states.
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
import { renderHtml, renderText } from '../explain/render.js';

export function runExplainCommand(argv: string[], out: { stdout: (s: string) => void }): number {
  const pos: string[] = [];
  let html = false;
  let kernel: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--html') html = true;
    else if (a.startsWith('--kernel')) kernel = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
    else if (a.startsWith('-')) throw new UsageError(`explain: unknown option '${a}'`);
    else pos.push(a);
  }
  const [file, where] = pos;
  if (!file || !where || pos.length !== 2) throw new UsageError('explain: usage: orctool explain FILE FUNC+OFF [--html]');
  const m = /^(.+?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(where);
  const elf = ElfFile.open(file);
  const layout = kernel ? layoutByName(kernel) : detectLayout(elf).layout;
  if (!layout) throw new UsageError(`--kernel: unknown kernel layout '${kernel}' (one of ${LAYOUT_NAMES.join(', ')})`);
  const opts = { ...defaultOptions(), orc: true };
  opts.link = isLinkedObject(elf);
  const result = check(elf, layout, opts, file);
  const fsym = result.file.syms.byName(m![1]!);
  if (!fsym || !fsym.sec) throw new UsageError(`explain: no symbol '${m![1]}' defined in ${file}`);
  const off = fsym.offset + (m![2] ? Number(m![2]) : 0);
  const cs = result.file.code[fsym.sec];
  const at = cs ? indexContaining(cs.ds, off) : -1;
  if (!cs || at < 0) throw new UsageError(`explain: no instruction at ${where}`);
  const insn = new Insn(cs, at);
  const t = siteTable(result.file, insn, specialGetAlts(elf, layout));
  if (!t) throw new UsageError(`explain: ${where} is not inside an alternative site`);
  out.stdout(html ? renderHtml(t) : renderText(t));
  return 0;
}
