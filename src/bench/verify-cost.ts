// SPDX-License-Identifier: GPL-2.0-only
// What verify costs against generating the ORC it checks (issue 15, target 4): on the kernel
// build's vmlinux.o, orctool run with the build's own objtool arguments (the ORC a build makes,
// timed), then `orctool verify` of what it wrote (every variant: the original, each one-site
// variant, the boot profiles), alternately, several rounds; medians of wall time and peak RSS.
// objtool's time for the same arguments is given beside them for scale.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/toolchain.js';
import { type ObjtoolVersion, objtoolPath } from '../testing/corpus.js';
import { median, timed } from './compare.js';

export interface VerifyCost {
  label: string;
  generate: { secs: number; rssMiB: number };
  verify: { secs: number; rssMiB: number };
  objtoolSecs: number;
}

export function verifyCost(label: string, input: string, flags: string[], version: ObjtoolVersion, rounds: number, log: (s: string) => void): VerifyCost | undefined {
  const objtool = objtoolPath(version);
  if (!objtool) return undefined;
  const orctool = join(repoRoot, 'bin', 'orctool');
  const dir = mkdtempSync(join(tmpdir(), 'orctool-bench-verify-'));
  const gen = { secs: [] as number[], rss: [] as number[] };
  const ver = { secs: [] as number[], rss: [] as number[] };
  const obj: number[] = [];
  try {
    const env = { ...process.env, ORCTOOL_SERVER: '0' };
    for (let r = 0; r < rounds; r++) {
      const ours = join(dir, 'vmlinux.o');
      copyFileSync(input, ours);
      const g = timed(orctool, [...flags, ours], dir, env);
      gen.secs.push(g.secs);
      gen.rss.push(g.rssMiB);
      const v = timed(orctool, ['verify', ours], dir, env);
      ver.secs.push(v.secs);
      ver.rss.push(v.rssMiB);
      const theirs = join(dir, 'objtool.o');
      copyFileSync(input, theirs);
      obj.push(timed(objtool, [...flags, theirs], dir, { ...process.env, SRCARCH: 'x86' }).secs);
      log(`${label}: round ${r + 1}/${rounds}: orctool ${g.secs.toFixed(2)} s, verify ${v.secs.toFixed(2)} s, objtool ${obj.at(-1)!.toFixed(2)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    label,
    generate: { secs: median(gen.secs), rssMiB: median(gen.rss) },
    verify: { secs: median(ver.secs), rssMiB: median(ver.rss) },
    objtoolSecs: median(obj),
  };
}

export function verifyCostTable(rows: VerifyCost[]): string {
  const out = [
    '| input | orctool (ORC and every action) | verify | verify / generate | verify RSS | objtool, same arguments |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    out.push(`| ${r.label} | ${r.generate.secs.toFixed(2)} s | ${r.verify.secs.toFixed(2)} s | ${(r.verify.secs / r.generate.secs).toFixed(2)}x | ` +
      `${r.verify.rssMiB.toFixed(0)} MiB | ${r.objtoolSecs.toFixed(2)} s |`);
  }
  return out.join('\n');
}
