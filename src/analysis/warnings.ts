// SPDX-License-Identifier: GPL-2.0-only
// objtool's warning shapes: `<file>: warning: objtool: <func>+0x<off>: <message>` (WARN_INSN,
// WARN_FUNC), `<file>: warning: objtool: <message>` (WARN), and backtrace lines. Each warning is
// also kept as a record for --format=json.

export type WarningKind = 'warning' | 'backtrace';

export interface Warning {
  file: string;
  kind: WarningKind;
  /** The word objtool prints: 'warning', or 'error' for a fatal one from 7.x (and every one with --werror). */
  severity?: 'warning' | 'error';
  /** The location as objtool prints it (`func+0x12`), when there is one. */
  location?: string;
  symbol?: string;
  /** Offset from the symbol (or from the section when there is none). */
  offset?: number;
  section?: string;
  sectionOffset?: number;
  message: string;
}

export class WarningSink {
  readonly list: Warning[] = [];
  constructor(readonly file: string, private readonly emit?: (line: string, w: Warning) => void) {}

  add(w: Omit<Warning, 'file'>): void {
    const full = { file: this.file, ...w };
    this.list.push(full);
    this.emit?.(formatWarning(full), full);
  }

  /** Warnings proper (not backtrace lines): objtool's count of problems. */
  get count(): number {
    return this.list.filter((w) => w.kind === 'warning').length;
  }
}

export function formatWarning(w: Warning): string {
  const sev = w.severity ?? 'warning';
  if (w.kind === 'backtrace') return `${w.file}: ${sev}: objtool:   ${w.location}: ${w.message}`;
  return w.location !== undefined ? `${w.file}: ${sev}: objtool: ${w.location}: ${w.message}` : `${w.file}: ${sev}: objtool: ${w.message}`;
}
