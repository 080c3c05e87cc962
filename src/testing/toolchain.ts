// Test-only helpers: build fixtures from source with the machine's gcc/as, and run the
// binutils oracles (readelf, objdump, ld). orctool itself never runs any of these.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, found from this file's place in dist/testing/. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A source path under src/, for fixtures that sit beside the layer they test. */
export function srcPath(...parts: string[]): string {
  return join(repoRoot, 'src', ...parts);
}

export function makeTempDir(prefix = 'orctool-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Compile (C) or assemble (.S/.s) one source file to an object with gcc. */
export function compileFixture(source: string, outDir: string, extraFlags: string[] = []): string {
  const base = source.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
  const out = join(outDir, `${base}.o`);
  execFileSync('gcc', ['-c', '-O2', '-fno-pic', '-mcmodel=kernel', ...extraFlags, '-o', out, source], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out;
}

/** Assemble inline assembly text (GNU as syntax) to an object. */
export function assembleText(asm: string, outDir: string, name = 'fixture'): string {
  const src = join(outDir, `${name}.S`);
  writeFileSync(src, asm);
  return compileFixture(src, outDir);
}

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run an oracle tool and capture everything; never throws on a non-zero exit. */
export function runTool(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, env: opts.env ?? process.env, maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
