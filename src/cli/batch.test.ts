// SPDX-License-Identifier: GPL-2.0-only
// Batches on worker threads: the same bytes, output and status as the in-process loop, a broken
// file reported in its place without stopping the others, progress only when asked for.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseCommandLine, runCheckCommandJobs } from './check-command.js';
import { UsageError } from '../errors.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';

interface Run { code: number; stdout: string; stderr: string; progress: Array<string | null> }

async function run(args: string[], withProgress = false): Promise<Run> {
  const r: Run = { code: 0, stdout: '', stderr: '', progress: [] };
  r.code = await runCheckCommandJobs(args, {
    stdout: (s) => (r.stdout += s),
    stderr: (s) => (r.stderr += s),
    progress: withProgress ? (l) => r.progress.push(l) : undefined,
  });
  return r;
}

const FIXTURES = ['seed.S', 'conflict.S', 'stack-errors.S', 'frames.S', 'unreachable.S', 'hints.S', 'switch.c'];

describe('batch of files on workers', () => {
  let dir = '';
  let objects: string[] = [];
  before(() => {
    dir = makeTempDir();
    objects = FIXTURES.map((f) => compileFixture(srcPath('analysis', 'fixtures', f), dir));
  });
  after(() => removeDir(dir));

  /** Fresh copies of `names` (object paths, or contents for a broken file) in a new folder. */
  function copies(sub: string, inputs: Array<string | Buffer>): string[] {
    mkdirSync(join(dir, sub));
    return inputs.map((f, i) => {
      const p = join(dir, sub, typeof f === 'string' ? basename(f) : `broken${i}.o`);
      if (typeof f === 'string') copyFileSync(f, p);
      else writeFileSync(p, f);
      return p;
    });
  }
  const bytes = (files: string[]): Buffer[] => files.map((f) => readFileSync(f));

  test('--jobs=2 writes the same bytes and prints the same as --jobs=1', async () => {
    const a = copies('a', objects);
    const b = copies('b', objects);
    const ra = await run(['--orc', '--jobs=1', ...a]);
    const rb = await run(['--orc', '--jobs=2', ...b]);
    assert.deepEqual(bytes(b), bytes(a));
    assert.ok(!bytes(a)[0]!.equals(readFileSync(objects[0]!)), 'ORC was written');
    assert.match(ra.stderr, /stack state mismatch/);
    assert.equal(rb.stderr.replaceAll('/b/', '/a/'), ra.stderr);
    assert.equal(rb.code, ra.code);
    // JSON warnings on stdout and --dump=orc output, in input order too.
    const ja = await run(['--stackval', '--format=json', '--jobs=1', ...a]);
    const jb = await run(['--stackval', '--format=json', '--jobs=2', ...b]);
    assert.equal(jb.stdout.replaceAll('/b/', '/a/'), ja.stdout);
    const da = await run(['--dump=orc', '--jobs=1', ...a]);
    const db = await run(['--dump=orc', '--jobs=2', ...b]);
    assert.ok(da.stdout.length > 0);
    assert.equal(db.stdout, da.stdout);
    assert.equal(db.code, da.code);
    // The main thread and two workers.
    const d3 = await run(['--dump=orc', '--jobs=3', ...b]);
    assert.equal(d3.stdout, da.stdout);
  });

  test('a broken file is reported in its place and the others are still checked', async () => {
    const truncated = readFileSync(objects[0]!).subarray(0, 100);
    const inputs = [objects[0]!, Buffer.from('not an ELF file\n'), objects[1]!, truncated, objects[3]!];
    const a = copies('c', inputs);
    const b = copies('d', inputs);
    const ra = await run(['--orc', '--jobs=1', ...a]);
    const rb = await run(['--orc', '--jobs=2', ...b]);
    assert.equal(ra.code, 1);
    assert.equal(rb.code, 1);
    assert.equal(rb.stderr.replaceAll('/d/', '/c/'), ra.stderr);
    const errors = rb.stderr.split('\n').filter((l) => l.startsWith('orctool: error: '));
    assert.equal(errors.length, 2);
    assert.ok(errors[0]!.startsWith(`orctool: error: ${b[1]}: `));
    assert.ok(errors[1]!.startsWith(`orctool: error: ${b[3]}: `));
    // The conflict warning of the file after the first broken one comes between the two errors.
    assert.ok(rb.stderr.indexOf(errors[0]!) < rb.stderr.indexOf('stack layout conflict'));
    assert.ok(rb.stderr.indexOf('stack layout conflict') < rb.stderr.indexOf(errors[1]!));
    for (const i of [0, 2, 4]) {
      assert.ok(!readFileSync(b[i]!).equals(readFileSync(inputs[i] as string)), `${b[i]} got its ORC`);
      assert.ok(readFileSync(b[i]!).equals(readFileSync(a[i]!)));
    }
  });

  test('progress lines only when asked for, cleared at the end', async () => {
    const files = copies('e', objects);
    const quiet = await run(['--orc', '--dry-run', '--jobs=2', ...files]);
    assert.doesNotMatch(quiet.stderr, /\[\d+\/\d+\]/);
    const r = await run(['--orc', '--dry-run', '--jobs=2', ...files], true);
    assert.equal(r.stderr, quiet.stderr);
    assert.equal(r.progress.at(-1), null);
    assert.ok(r.progress.includes(`orctool: [0/${files.length}] ${files[0]}`));
    assert.ok(r.progress.some((l) => l !== null && l.startsWith(`orctool: [${files.length - 1}/${files.length}] `)));
  });

  test('--jobs takes a positive number', () => {
    assert.equal(parseCommandLine(['--orc', '--jobs=3', 'x.o']).jobs, 3);
    assert.equal(parseCommandLine(['--orc', '--jobs', '1', 'x.o']).jobs, 1);
    for (const bad of ['--jobs=0', '--jobs=x', '--jobs=']) {
      assert.throws(() => parseCommandLine(['--orc', bad, 'x.o']), UsageError);
    }
  });
});
