// SPDX-License-Identifier: GPL-2.0-only
// `orctool patch FILE --features LIST [--kernel=V] [-o OUT]`: the object as the kernel would
// patch it at boot for that CPU feature set. Without -o, a listing of every site.
import { ElfFile } from '../elf/reader.js';
import { UsageError } from '../errors.js';
import { detectLayout } from '../kernel/detect.js';
import { layoutByName, LAYOUT_NAMES } from '../kernel/versions.js';
import { applyPatches, parseFeatures } from '../patch/apply.js';
import { SymbolIndex } from '../analysis/symbols.js';

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

export function runPatchCommand(argv: string[], out: { stdout: (s: string) => void; stderr: (s: string) => void }): number {
  let file: string | undefined;
  let features: string | undefined;
  let output: string | undefined;
  let kernel: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--features') features = value ?? argv[++k];
    else if (name === '-o' || name === '--output') output = value ?? argv[++k];
    else if (name === '--kernel') kernel = value ?? argv[++k];
    else if (a.startsWith('-')) throw new UsageError(`patch: unknown option '${a}'`);
    else if (file) throw new UsageError('patch: one input file');
    else file = a;
  }
  if (!file) throw new UsageError('patch: no input file');
  if (features === undefined) throw new UsageError('patch: --features LIST is required (names like XENPV,SMAP,ALWAYS or numbers; empty for none)');
  const elf = ElfFile.open(file);
  const layout = kernel ? layoutByName(kernel) : detectLayout(elf).layout;
  if (!layout) throw new UsageError(`--kernel: unknown kernel layout '${kernel}' (one of ${LAYOUT_NAMES.join(', ')})`);
  let set: Set<number>;
  try {
    set = parseFeatures(features, layout);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { editor, sites } = applyPatches(elf, layout, set);
  if (output) {
    editor.write(output);
    return 0;
  }
  const syms = new SymbolIndex(elf);
  const lines: string[] = [`${file}: kernel layout ${layout.name}, ${sites.length} sites, ${sites.filter((s) => s.applied).length} patched`];
  for (const s of sites) {
    const f = syms.findFuncContaining(s.sectionIndex, s.offset) ?? syms.findSymbolContaining(s.sectionIndex, s.offset);
    const where = f ? `${f.name}+0x${(s.offset - f.offset).toString(16)}` : `${s.section}+0x${s.offset.toString(16)}`;
    const what = s.applied ? 'patched' : 'kept';
    lines.push(`${where} [${s.kind} ${s.condition}] ${what}: ${hex(s.before)} -> ${hex(s.after)}${s.note ? `  (${s.note})` : ''}`);
  }
  out.stdout(lines.join('\n') + '\n');
  return 0;
}
