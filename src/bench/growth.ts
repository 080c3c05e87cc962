// SPDX-License-Identifier: GPL-2.0-only
// How cost grows (issue 15, target 5): wall time and peak RSS of orctool and objtool against the
// number of instructions of the input, over corpus modules of every size (log-spaced) and the
// kernel build's vmlinux.o (with DWARF too when built). A least-squares fit t = a + b*n per tool
// gives the fixed cost a and the cost per million instructions b; the same for memory. Growth is
// called non-linear where the cost per instruction of the largest inputs differs from that of
// the middle ones by more than half. Writes growth.md (table and fit) and growth.svg (log-log
// scatter with the fitted lines) in the output directory.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ElfFile } from '../elf/reader.js';
import { decodeSection } from '../x86/index.js';
import { repoRoot } from '../testing/toolchain.js';
import { type CorpusName, corpusModules, objtoolPath } from '../testing/corpus.js';
import { timed } from './compare.js';

export interface GrowthPoint {
  name: string;
  insns: number;
  orctool: { secs: number; rssMiB: number };
  objtool: { secs: number; rssMiB: number };
}

/** Instructions in the executable sections (what the walk and the tables scale with). */
export function countInsns(path: string): number {
  const elf = ElfFile.open(path);
  let n = 0;
  for (const s of elf.sections) if (s.isExec && s.type !== 8 && s.size) n += decodeSection(s.data, s.name, { onInvalid: 'skip' }).count;
  return n;
}

/** Least squares y = a + b x. */
export function fit(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const b = sxx ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

/** Modules whose sizes are nearest to `count` sizes log-spaced from the smallest to the largest. */
function spread(modules: string[], count: number): string[] {
  const sized = modules.map((m) => ({ m, size: statSync(m).size })).sort((x, y) => x.size - y.size);
  const lo = Math.log(sized[0]!.size);
  const hi = Math.log(sized[sized.length - 1]!.size);
  const out = new Set<string>();
  for (let i = 0; i < count; i++) {
    const want = Math.exp(lo + ((hi - lo) * i) / (count - 1));
    let best = sized[0]!;
    for (const x of sized) if (Math.abs(x.size - want) < Math.abs(best.size - want)) best = x;
    out.add(best.m);
  }
  return [...out];
}

export function measureGrowth(corpus: CorpusName, count: number, extra: { name: string; path: string; flags: string[] }[], log: (s: string) => void): GrowthPoint[] {
  const objtool = objtoolPath('6.12');
  if (!objtool) return [];
  const dir = mkdtempSync(join(tmpdir(), 'orctool-growth-'));
  const points: GrowthPoint[] = [];
  try {
    const inputs = [
      ...spread(corpusModules(corpus), count).map((m) => ({ name: m.replace(/^.*\//, ''), path: m, flags: ['--orc', '--link', '--module'], strip: true })),
      ...extra.map((e) => ({ ...e, strip: false })),
    ];
    for (const input of inputs) {
      const pristine = join(dir, 'in.o');
      if (input.strip) spawnSync('objcopy', ['--remove-section=.orc_unwind', '--remove-section=.orc_unwind_ip', '--remove-section=.rela.orc_unwind_ip', input.path, pristine]);
      else copyFileSync(input.path, pristine);
      const insns = countInsns(pristine);
      const run = (cmd: string, env: NodeJS.ProcessEnv) => {
        const f = join(dir, 'work.o');
        copyFileSync(pristine, f);
        return timed(cmd, [...input.flags, f], dir, env);
      };
      // In-process orctool (a cold start each time, as without the resident server).
      const ours = run(join(repoRoot, 'bin', 'orctool'), { ...process.env, ORCTOOL_SERVER: '0' });
      const theirs = run(objtool, { ...process.env, SRCARCH: 'x86' });
      points.push({ name: input.name, insns, orctool: { secs: ours.secs, rssMiB: ours.rssMiB }, objtool: { secs: theirs.secs, rssMiB: theirs.rssMiB } });
      log(`growth: ${input.name}: ${insns} instructions, orctool ${ours.secs.toFixed(3)} s ${ours.rssMiB.toFixed(0)} MiB, objtool ${theirs.secs.toFixed(3)} s ${theirs.rssMiB.toFixed(0)} MiB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return points;
}

/**
 * Whether the cost per instruction, start-up taken out (the median of the inputs under 1,000
 * instructions), of the largest third of the inputs over 10,000 instructions differs from the
 * other two thirds' by more than half.
 */
function linearity(points: GrowthPoint[], key: (p: GrowthPoint) => number): string {
  const small = points.filter((p) => p.insns < 1000).map(key).sort((a, b) => a - b);
  const fixed = small.length ? small[small.length >> 1]! : 0;
  const big = points.filter((p) => p.insns >= 10_000).sort((a, b) => a.insns - b.insns);
  const third = Math.floor(big.length / 3);
  if (third < 1) return 'too few large inputs';
  const per = (ps: GrowthPoint[]) => ps.reduce((s, p) => s + Math.max(0, key(p) - fixed), 0) / ps.reduce((s, p) => s + p.insns, 0);
  const rest = per(big.slice(0, big.length - third));
  const top = per(big.slice(big.length - third));
  const r = top / rest;
  return `${r.toFixed(2)}x the smaller inputs' cost per instruction${Math.abs(r - 1) > 0.5 ? ' (not linear)' : ''}`;
}

export function growthReport(points: GrowthPoint[]): string {
  const xs = points.map((p) => p.insns / 1e6);
  const rows = ['| input | instructions | orctool time | objtool time | orctool RSS | objtool RSS |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const p of points) {
    rows.push(`| ${p.name} | ${p.insns} | ${p.orctool.secs.toFixed(3)} s | ${p.objtool.secs.toFixed(3)} s | ${p.orctool.rssMiB.toFixed(0)} MiB | ${p.objtool.rssMiB.toFixed(0)} MiB |`);
  }
  const lines = ['', '| tool | fixed time | time per million instructions | fixed RSS | RSS per million instructions | time growth, largest third |', '| --- | ---: | ---: | ---: | ---: | --- |'];
  for (const tool of ['orctool', 'objtool'] as const) {
    const t = fit(xs, points.map((p) => p[tool].secs));
    const m = fit(xs, points.map((p) => p[tool].rssMiB));
    lines.push(`| ${tool} | ${(t.a * 1000).toFixed(0)} ms | ${t.b.toFixed(3)} s | ${m.a.toFixed(0)} MiB | ${m.b.toFixed(0)} MiB | ${linearity(points, (p) => p[tool].secs)} |`);
  }
  return [...rows, ...lines].join('\n') + '\n';
}

/** A log-log scatter of time against instructions, both tools, with their fitted lines. */
export function growthSvg(points: GrowthPoint[]): string {
  const W = 720;
  const H = 440;
  const L = 70;
  const B = 50;
  const ps = points.filter((p) => p.insns > 0);
  const xMin = Math.log10(Math.min(...ps.map((p) => p.insns)));
  const xMax = Math.log10(Math.max(...ps.map((p) => p.insns)));
  const times = ps.flatMap((p) => [p.orctool.secs, p.objtool.secs]).filter((t) => t > 0);
  const yMin = Math.log10(Math.min(...times));
  const yMax = Math.log10(Math.max(...times));
  const X = (n: number) => L + ((Math.log10(n) - xMin) / (xMax - xMin || 1)) * (W - L - 20);
  const Y = (t: number) => H - B - ((Math.log10(t) - yMin) / (yMax - yMin || 1)) * (H - B - 20);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(W + L) / 2}" y="${H - 12}" text-anchor="middle">instructions (log)</text>`,
    `<text x="16" y="${(H - B) / 2}" transform="rotate(-90 16 ${(H - B) / 2})" text-anchor="middle">wall time, s (log)</text>`];
  for (let e = Math.ceil(xMin); e <= Math.floor(xMax); e++) out.push(`<text x="${X(10 ** e)}" y="${H - B + 16}" text-anchor="middle">1e${e}</text>`);
  for (let e = Math.ceil(yMin); e <= Math.floor(yMax); e++) out.push(`<text x="${L - 6}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e}</text>`);
  const colors = { orctool: '#c0392b', objtool: '#2c3e50' } as const;
  for (const tool of ['orctool', 'objtool'] as const) {
    for (const p of ps) if (p[tool].secs > 0) out.push(`<circle cx="${X(p.insns).toFixed(1)}" cy="${Y(p[tool].secs).toFixed(1)}" r="3" fill="${colors[tool]}"><title>${p.name}: ${p[tool].secs.toFixed(3)} s</title></circle>`);
    const f = fit(ps.map((p) => p.insns / 1e6), ps.map((p) => p[tool].secs));
    const pts: string[] = [];
    for (let k = 0; k <= 40; k++) {
      const n = 10 ** (xMin + ((xMax - xMin) * k) / 40);
      const t = f.a + (f.b * n) / 1e6;
      if (t > 0) pts.push(`${X(n).toFixed(1)},${Y(t).toFixed(1)}`);
    }
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colors[tool]}" stroke-dasharray="4 3"/>`);
  }
  out.push(`<text x="${L + 10}" y="24" fill="${colors.orctool}">● orctool (in-process, cold)</text>`, `<text x="${L + 10}" y="40" fill="${colors.objtool}">● objtool 6.12</text>`, '</svg>');
  return out.join('\n') + '\n';
}

export function writeGrowth(points: GrowthPoint[], outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const md = growthReport(points);
  writeFileSync(join(outDir, 'growth.md'), md);
  writeFileSync(join(outDir, 'growth.svg'), growthSvg(points));
  return md;
}
