// SPDX-License-Identifier: GPL-2.0-only
// What bin/orctool runs: the command line from dist/orctool.cjs, the one-file build of it
// (build/bundle.ts), compiled with the V8 code cache the build left beside it. A kernel build
// starts orctool once per object, and compiling 450 KB of JavaScript on each start cost ~10 ms.
// CommonJS, so that Node loads it without its ES-module loader.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as vm from 'node:vm';

export const BUNDLE_FILE = join(__dirname, '..', 'orctool.cjs');
export const CODE_CACHE_FILE = join(__dirname, '..', 'orctool.codecache');

/**
 * V8 flags of every orctool process that checks (bin/orctool's node, the server's runners): a
 * young generation of 8 MiB, not 16, is ~20 MB less at vmlinux.o's peak and no slower. V8
 * accepts a code cache only from a process with the same flags: the build makes it with these.
 */
export const V8_FLAGS = ['--max-semi-space-size=8'];

/**
 * The cache starts with the size and modification time of the bundle it was made from: V8
 * checks a cache against the source's length only, and a stale cache would run old code.
 */
const CACHE_HEADER = 16;

export function cacheHeader(bundleFile: string): Buffer {
  const st = statSync(bundleFile);
  const h = Buffer.alloc(CACHE_HEADER);
  h.writeDoubleLE(st.size, 0);
  h.writeDoubleLE(st.mtimeMs, 8);
  return h;
}

export interface LoadedBundle {
  main(argv: string[]): Promise<number>;
  script: vm.Script;
  /** Whether V8 took the code cache. */
  cached: boolean;
}

/**
 * Loads the bundle, with its code cache unless `cacheFile` is null (the build making one).
 * The files are parameters for the tests.
 */
export function loadBundle(bundleFile = BUNDLE_FILE, cacheFile: string | null = CODE_CACHE_FILE): LoadedBundle {
  let source: string;
  try {
    source = readFileSync(bundleFile, 'utf8');
  } catch {
    throw new Error(`${bundleFile} is missing: build orctool with npm run build`);
  }
  let cachedData: Buffer | undefined;
  if (cacheFile !== null) {
    try {
      const file = readFileSync(cacheFile);
      if (file.length > CACHE_HEADER && file.subarray(0, CACHE_HEADER).equals(cacheHeader(bundleFile))) {
        cachedData = file.subarray(CACHE_HEADER);
      }
    } catch {
      // No cache (a build without gcc, or removed): compile from source.
    }
  }
  // The wrapper Node itself gives a CommonJS file, so the bundle sees the usual module scope.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundleFile,
    cachedData,
  });
  const module = { exports: {} as { main(argv: string[]): Promise<number> } };
  const define = script.runInThisContext() as (...args: unknown[]) => void;
  define(module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile));
  return { main: module.exports.main, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

if (require.main === module) {
  // A reader that went away (`orctool --dump=orc x.o | head`) ends the run quietly, as SIGPIPE
  // ends objtool, instead of an unhandled 'error' event; files are written atomically, so
  // nothing is left half-done.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(141);
      throw e;
    });
  }
  let bundle: LoadedBundle;
  try {
    bundle = loadBundle();
  } catch (e) {
    process.stderr.write(`orctool: error: ${(e as Error).message}\n`);
    process.exit(1);
  }
  bundle.main(process.argv.slice(2)).then((status) => {
    process.exitCode = status;
  });
}
