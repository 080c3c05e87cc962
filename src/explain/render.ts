// SPDX-License-Identifier: GPL-2.0-only
// The site table as plain text for terminals and as a self-contained HTML page.
import type { SiteTable, Stream } from './table.js';

function cellText(t: SiteTable, s: number, o: number): string {
  const c = t.streams[s]!.cells.get(o);
  return c ? `${c.insn}  [${c.state}]` : '';
}

/** A column's heading: a lost stream's title says so. */
function heading(s: Stream): string {
  return s.lost ? `${s.title} (not in ORC)` : s.title;
}

/** What a site with lost streams means, in a line. */
function lostNote(t: SiteTable): string | undefined {
  const lost = t.streams.filter((s) => s.lost).map((s) => s.title);
  if (!lost.length) return undefined;
  return `not in ORC: ${lost.join(', ')}: objtool up to Linux 6.2 keeps each .altinstructions entry's states apart, and makes the table from the original's last entry only (orctool verify checks those variants)`;
}

export function renderText(t: SiteTable): string {
  const head = ['offset', ...t.streams.map(heading), 'ORC (merged)'];
  const rows = t.offsets.map((o) => [
    `+${o}${t.conflicts.has(o) ? ' !!' : ''}`,
    ...t.streams.map((_, s) => cellText(t, s, o)),
    t.merged.get(o) ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  const out = [
    `alternative site ${t.location}, ${t.length} bytes, ${t.streams.length} streams`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...rows.map(line),
  ];
  if (t.conflicts.size) out.push(`!! stack layout conflict at offset ${[...t.conflicts].map((o) => `+${o}`).join(', ')}: streams stop there with different states`);
  else out.push('no conflict: every offset that several streams stop at has one state');
  const note = lostNote(t);
  if (note) out.push(note);
  return out.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderHtml(t: SiteTable): string {
  const th = ['offset', ...t.streams.map(heading), 'ORC (merged)'].map((h) => `<th>${esc(h)}</th>`).join('');
  const rows = t.offsets.map((o) => {
    const cells = t.streams.map((s) => {
      const c = s.cells.get(o);
      return c ? `<td><code>${esc(c.insn)}</code><div class="cfa">${esc(c.state)}</div></td>` : '<td></td>';
    });
    const cls = t.conflicts.has(o) ? ' class="conflict"' : '';
    return `<tr${cls}><th>+${o}</th>${cells.join('')}<td class="merged">${esc(t.merged.get(o) ?? '')}</td></tr>`;
  });
  const verdict = t.conflicts.size
    ? `<p class="bad">Stack layout conflict at ${[...t.conflicts].map((o) => `+${o}`).join(', ')}</p>`
    : '<p class="good">No conflict</p>';
  const note = lostNote(t);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>orctool explain ${esc(t.location)}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 4px 8px; vertical-align: top; text-align: left; }
thead th { background: #e8e8f0; }
.cfa { color: #246; font-size: 90%; }
.merged { font-family: monospace; background: #f4f8f4; }
tr.conflict { background: #fdd; }
.bad { color: #a00; font-weight: bold; } .good { color: #070; }
</style></head><body>
<h1>Alternative site ${esc(t.location)}</h1>
<p>${t.length} bytes, ${t.streams.length} streams. Each cell: the instruction that starts at that offset in that stream, and the state before it.</p>
<table id="site"><thead><tr>${th}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
${verdict}
${note ? `<p class="bad">${esc(note)}</p>\n` : ''}</body></html>
`;
}

/** A warning's explanation (text lines) as a page: the lines as they are, escaped. */
export function renderPathHtml(lines: readonly string[]): string {
  const esc = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>orctool explain</title></head><body><pre>\n${lines.map(esc).join('\n')}\n</pre></body></html>\n`;
}
