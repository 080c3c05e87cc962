// SPDX-License-Identifier: GPL-2.0-only
// Build step after the bundle: V8's code cache for it (dist/orctool.codecache), made after a
// check of the bundled example so that it holds the bytecode of the functions a check runs,
// not only of the modules' top levels. The example is assembled with gcc; without gcc the
// build still succeeds, with no cache, and orctool compiles the bundle on each start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { BUNDLE_FILE, CODE_CACHE_FILE, V8_FLAGS, cacheHeader, loadBundle } from '../cli/launch.cjs';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'save_fl.S');

export function removeCodeCache(): void {
  rmSync(CODE_CACHE_FILE, { force: true });
}

/** Writes the cache; returns its size, or the reason there is none. */
export async function writeCodeCache(): Promise<{ bytes: number } | { skipped: string }> {
  removeCodeCache();
  const dir = mkdtempSync(join(tmpdir(), 'orctool-codecache-'));
  try {
    const obj = join(dir, 'save_fl.o');
    const gcc = spawnSync('gcc', ['-c', EXAMPLE, '-o', obj], { encoding: 'utf8' });
    if (gcc.status !== 0) return { skipped: `gcc could not assemble ${EXAMPLE}: ${gcc.error?.message ?? gcc.stderr.trim()}` };
    // (V8 takes a cache only in a process with the flags it was made with: those orctool runs with)
    setFlagsFromString(V8_FLAGS.join(' '));
    const bundle = loadBundle(BUNDLE_FILE, null);
    // What a kernel build asks of orctool, on an alternative site that moves the stack pointer.
    const status = await bundle.main(['--orc', '--link', obj]);
    if (status !== 0) throw new Error(`orctool --orc --link ${obj} exited with ${status} while making the code cache`);
    const data = bundle.script.createCachedData();
    const tmp = `${CODE_CACHE_FILE}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([cacheHeader(BUNDLE_FILE), data]));
    renameSync(tmp, CODE_CACHE_FILE);
    return { bytes: data.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
