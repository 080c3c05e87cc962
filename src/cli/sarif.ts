// SPDX-License-Identifier: GPL-2.0-only
// --format=sarif: the run's warnings as one SARIF 2.1.0 log, for code-scanning tools in CI. One
// rule per kind of warning (objtool's message with its variable parts taken out), one result per
// warning with objtool's own words, the object file and the byte range of the instruction as
// its physical location (the section and the section offset as properties), the symbol+offset
// as its logical location, and, where there is one, the `orctool explain` command.
import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Warning } from '../analysis/warnings.js';

/** orctool's release (package.json), named in the log. */
export const ORCTOOL_VERSION = '0.1.0';

/** A warning as --format=json prints it, plus what SARIF's physical location needs. */
export interface SarifWarning extends Warning {
  /** The instruction's offset in the input file (its section's sh_offset + the section offset). */
  fileOffset?: number;
  explain?: string;
}

/**
 * The kind of a warning: its message without the parts that name things (symbols, offsets,
 * registers, numbers). "stack state mismatch: cfa1=4+16 cfa2=4+24" -> "stack state mismatch".
 */
export function warningKind(message: string): string {
  let m = message;
  // "<kind>: <details with = or a location>": the details go.
  const colon = m.indexOf(': ');
  if (colon > 0 && /[=+]|!ENDBR|insn at/.test(m.slice(colon + 2))) m = m.slice(0, colon);
  return m
    .replace(/[A-Za-z0-9_.$]+\(\)/g, '%s()')
    .replace(/\S+\+0x[0-9a-f]+/g, '%s')
    .replace(/\b0x[0-9a-f]+\b/g, '%x')
    .replace(/\b\d+\b/g, '%d')
    .trim();
}

function ruleId(kind: string): string {
  return kind.toLowerCase().replace(/%[sdx]/g, 'x').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'warning';
}

export function toSarif(warnings: readonly SarifWarning[], version: string): Log {
  const rules: ReportingDescriptor[] = [];
  const index = new Map<string, number>();
  const results: Result[] = [];
  for (const w of warnings) {
    if (w.kind !== 'warning') continue;
    const kind = warningKind(w.message);
    let k = index.get(kind);
    if (k === undefined) {
      index.set(kind, (k = rules.length));
      rules.push({ id: ruleId(kind), name: kind, shortDescription: { text: `objtool: ${kind}` } });
    }
    const level = w.severity === 'error' ? 'error' : 'warning';
    const properties: Record<string, unknown> = {};
    if (w.section !== undefined) properties['section'] = w.section;
    if (w.sectionOffset !== undefined) properties['sectionOffset'] = w.sectionOffset;
    if (w.explain) properties['explain'] = w.explain;
    results.push({
      ruleId: rules[k]!.id,
      ruleIndex: k,
      level,
      message: { text: w.location ? `${w.location}: ${w.message}` : w.message },
      locations: [{
        physicalLocation: {
          artifactLocation: { uri: w.file },
          ...(w.fileOffset !== undefined ? { region: { byteOffset: w.fileOffset, byteLength: 1 } } : {}),
        },
        ...(w.location ? { logicalLocations: [{ name: w.location, kind: 'function' }] } : {}),
      }],
      ...(Object.keys(properties).length ? { properties } : {}),
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'orctool', version, informationUri: 'https://www.kernel.org/doc/html/latest/x86/orc-unwinder.html', rules } },
      results,
    }],
  };
}
