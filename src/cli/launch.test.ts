// SPDX-License-Identifier: GPL-2.0-only
// bin/orctool runs the one-file build (dist/orctool.cjs) through cli/launch.cts, not the ES
// modules the other tests import: the two must behave the same, and the build's code cache must
// be one V8 takes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { compileFixture, makeTempDir, removeDir, repoRoot, runTool } from '../testing/toolchain.js';
import { mainCaptured } from '../testing/sweep.js';

const launch = createRequire(import.meta.url)('./launch.cjs') as typeof import('./launch.cjs');
const BIN = join(repoRoot, 'bin', 'orctool');

const inProcess = mainCaptured;

describe('bin/orctool (the bundled build)', () => {
  let dir: string;
  let obj: string;
  before(() => {
    dir = makeTempDir();
    obj = compileFixture(join(repoRoot, 'examples', 'save_fl.S'), dir);
  });
  after(() => removeDir(dir));

  for (const argv of [['--orc', '--link'], ['--orc', '--stackval', '--uaccess', '--link', '--dry-run'], ['--dump=orc'], ['--bogus']]) {
    it(`writes what the modules write: ${argv.join(' ')}`, async () => {
      const a = join(dir, `a-${argv.length}.o`);
      const b = join(dir, `b-${argv.length}.o`);
      copyFileSync(obj, a);
      copyFileSync(obj, b);
      const bin = runTool(BIN, [...argv, a]);
      const mod = await inProcess([...argv, b]);
      assert.equal(bin.status, mod.status);
      assert.equal(bin.stdout, mod.stdout.replaceAll(b, a));
      assert.equal(bin.stderr, mod.stderr.replaceAll(b, a));
      assert.ok(readFileSync(a).equals(readFileSync(b)), 'the two wrote different files');
    });
  }

  it('runs other commands than the check', () => {
    const r = runTool(BIN, ['elf', obj]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\.altinstructions/);
  });

  it('has a code cache from the build that V8 accepts, with the flags orctool runs with', () => {
    const script = `console.log(require(${JSON.stringify(join(dirname(launch.BUNDLE_FILE), 'cli', 'launch.cjs'))}).loadBundle().cached)`;
    const r = runTool(process.execPath, [...launch.V8_FLAGS, '-e', script]);
    assert.equal(r.stdout.trim(), 'true', `${launch.CODE_CACHE_FILE} missing or rejected: ${r.stderr}`);
    // bin/orctool starts node with them
    assert.ok(readFileSync(BIN, 'utf8').includes(`exec node ${launch.V8_FLAGS.join(' ')} "$launcher"`));
  });

  // The bundle is copied beside the real one so that its require() of iced-x86 still resolves.
  // Each load runs in a fresh process: V8 would otherwise find the script in its in-memory
  // compilation cache and not look at the cache data at all.
  describe('a code cache that does not fit', () => {
    let copy: string;
    before(() => {
      copy = join(dirname(launch.BUNDLE_FILE), `orctool-test-${process.pid}.cjs`);
      copyFileSync(launch.BUNDLE_FILE, copy);
    });
    after(() => rmSync(copy, { force: true }));

    /** Loads `copy` with `cache` in a new process and checks `file` with it. */
    function loadInChild(cache: string, file: string): { cached: boolean; rejected: boolean | null; status: number } {
      const script = `const l = require(${JSON.stringify(join(dirname(launch.BUNDLE_FILE), 'cli', 'launch.cjs'))});
        const b = l.loadBundle(${JSON.stringify(copy)}, ${JSON.stringify(cache)});
        b.main(['--orc', '--link', '--dry-run', ${JSON.stringify(file)}]).then((status) =>
          console.log(JSON.stringify({ cached: b.cached, rejected: b.script.cachedDataRejected ?? null, status })));`;
      const r = runTool(process.execPath, ['-e', script]);
      assert.equal(r.stderr, '');
      return JSON.parse(r.stdout) as { cached: boolean; rejected: boolean | null; status: number };
    }

    it('is not used when made for another build of the bundle', () => {
      const cache = join(dir, 'stale.codecache');
      // The real cache, for the same source, but the copy's header says another file.
      copyFileSync(launch.CODE_CACHE_FILE, cache);
      utimesSync(copy, new Date(), new Date(Date.now() + 5000));
      const a = join(dir, 'stale.o');
      copyFileSync(obj, a);
      assert.deepEqual(loadInChild(cache, a), { cached: false, rejected: null, status: 0 });
    });

    it('is rejected by V8 when its data is not a code cache, and the bundle still runs', () => {
      const cache = join(dir, 'garbage.codecache');
      writeFileSync(cache, Buffer.concat([launch.cacheHeader(copy), Buffer.alloc(4096, 0x5a)]));
      const a = join(dir, 'garbage.o');
      copyFileSync(obj, a);
      assert.deepEqual(loadInChild(cache, a), { cached: false, rejected: true, status: 0 });
    });
  });
});
