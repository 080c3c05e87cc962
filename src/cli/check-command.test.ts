// SPDX-License-Identifier: GPL-2.0-only
// The objtool-style command line: JSON warnings, deterministic output, option errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, runCheckCommand } from './check-command.js';
import { UsageError } from '../errors.js';
import { compileFixture, makeTempDir, removeDir, srcPath } from '../testing/toolchain.js';

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = runCheckCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('check command line', () => {
  let dir = '';
  let conflict = '';
  let seed = '';
  before(() => {
    dir = makeTempDir();
    conflict = compileFixture(srcPath('analysis', 'fixtures', 'conflict.S'), dir);
    seed = compileFixture(srcPath('analysis', 'fixtures', 'seed.S'), dir);
  });
  after(() => removeDir(dir));

  test('--format=json: one JSON line per warning, each with its explain command', () => {
    const f = join(dir, 'c.o');
    copyFileSync(conflict, f);
    const r = run(['--orc', '--format=json', f]);
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.deepEqual(
      { file: lines[0].file, kind: lines[0].kind, symbol: lines[0].symbol, offset: lines[0].offset, section: lines[0].section, message: lines[0].message, explain: lines[0].explain },
      { file: f, kind: 'warning', symbol: 'save_fl_conflict', offset: 0, section: '.text', message: 'stack layout conflict in alternatives: save_fl_conflict+0x1', explain: `orctool explain ${f} save_fl_conflict+0x0 --orc` });
  });

  test('the same input and flags give the same bytes', () => {
    const a = join(dir, 'a.o');
    const b = join(dir, 'b.o');
    copyFileSync(seed, a);
    copyFileSync(seed, b);
    run(['--orc', a]);
    run(['--orc', b]);
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    assert.ok(!readFileSync(a).equals(readFileSync(seed)), 'ORC was written');
  });

  test("objtool's option checks and refusals of what is not implemented", () => {
    assert.match(run([seed]).stderr, /^error: objtool: At least one action required/);
    assert.match(run(['--orc', '--dump=orc', seed]).stderr, /--dump can't be combined with other actions/);
    assert.throws(() => run(['--orc', '--bogus', seed]), (e: unknown) => e instanceof UsageError && /unknown option '--bogus'/.test(e.message));
    assert.match(run(['--ibt', seed]).stderr, /^error: objtool: --ibt requires --link/);
    assert.match(run(['--mnop', seed]).stderr, /^error: objtool: At least one action required/);
    assert.match(run(['--orc', '--mnop', seed]).stderr, /^error: objtool: --mnop requires --mcount/);
  });

  test('OBJTOOL_ARGS options come first, OBJTOOL_VERBOSE=1 is --verbose', () => {
    const cl = parseCommandLine(['--orc', seed], { OBJTOOL_ARGS: '--stackval --dry-run', OBJTOOL_VERBOSE: '1' });
    assert.equal(cl.opts.stackval, true);
    assert.equal(cl.opts.dryRun, true);
    assert.equal(cl.opts.verbose, true);
    assert.deepEqual(cl.files, [seed]);
  });

  test('--disas and --trace list the matching functions, the trace with each recorded state', () => {
    const r = run(['--orc', '--dry-run', '--trace', 'save_fl*', '--disas=nothing_matches', seed]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^save_fl\S*: validation begin$/m);
    assert.match(r.stdout, /\+0x0: .*cfa=sp\+8 bp=\(und\)$/m);
    assert.doesNotMatch(r.stdout, /nothing_matches/);
  });

  test('--backup: 6.x keeps <obj>.orig before writing', () => {
    const f = join(dir, 'b.o');
    copyFileSync(seed, f);
    assert.equal(run(['--orc', '--backup', '--kernel=6.12', f]).code, 0);
    assert.ok(readFileSync(`${f}.orig`).equals(readFileSync(seed)));
    assert.ok(!readFileSync(f).equals(readFileSync(seed)));
  });
});
