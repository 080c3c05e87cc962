// SPDX-License-Identifier: GPL-2.0-only
// The resident orctool (server.cts and the client in bin/orctool): the first call starts it, a
// served call gives exactly what an in-process run gives (file, stdout, stderr, status, with
// the caller's working directory and OBJTOOL_ARGS), a request without the secret gets nothing,
// calls at once run side by side in its runners (one replaced when it dies), and it removes its
// files when it stops (and a killed one's warm-up copies when the next starts).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { compileFixture, makeTempDir, removeDir, repoRoot, runTool, srcPath } from '../testing/toolchain.js';

const BIN = join(repoRoot, 'bin', 'orctool');

async function waitFor(cond: () => boolean, ms = 15000): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the resident orctool', () => {
  let dir = '';
  let runtime = '';
  let env: NodeJS.ProcessEnv = {};
  let serverDir = '';
  before(() => {
    dir = makeTempDir();
    runtime = makeTempDir('orctool-runtime-');
    env = { ...process.env, XDG_RUNTIME_DIR: runtime, ORCTOOL_SERVER_IDLE: '60' };
    delete env['OBJTOOL_ARGS'];
    serverDir = join(runtime, `orctool-${process.getuid!()}`);
  });
  after(() => {
    // Stop the server this test started (it would otherwise idle out).
    for (const f of existsSync(serverDir) ? readdirSync(serverDir) : []) {
      if (!f.endsWith('.pid')) continue;
      try {
        process.kill(Number(readFileSync(join(serverDir, f), 'utf8')), 'SIGTERM');
      } catch {
        // (gone)
      }
    }
    removeDir(dir);
    removeDir(runtime);
  });

  /** One run of bin/orctool on a fresh copy of `obj` in `cwd`; the result and the file after. */
  function run(obj: string, args: string[], server: string, extra: NodeJS.ProcessEnv = {}) {
    const copy = join(dir, 'work.o');
    copyFileSync(obj, copy);
    const r = runTool('bash', ['-c', `cd "${dir}" && exec "${BIN}" "$@"`, 'orctool', ...args, 'work.o'], { env: { ...env, ORCTOOL_SERVER: server, ...extra } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, bytes: readFileSync(copy) };
  }

  it('starts on the first call, then answers exactly as an in-process run', async () => {
    const clean = compileFixture(join(repoRoot, 'examples', 'save_fl.S'), dir);
    const warns = compileFixture(srcPath('analysis', 'fixtures', 'stack-errors.S'), dir);
    const first = run(clean, ['--orc', '--link'], '1');
    assert.equal(first.status, 0);
    await waitFor(() => existsSync(serverDir) && readdirSync(serverDir).some((f) => /^server-[0-9a-f]+$/.test(f)));
    // (the directory and the port file are the owner's alone)
    assert.equal(statSync(serverDir).mode & 0o777, 0o700);
    const portFile = readdirSync(serverDir).find((f) => /^server-[0-9a-f]+$/.test(f))!;
    assert.equal(statSync(join(serverDir, portFile)).mode & 0o777, 0o600);
    for (const [obj, args, extra] of [
      [clean, ['--orc', '--link'], {}],
      [warns, ['--orc', '--uaccess'], {}],
      [warns, ['--orc'], { OBJTOOL_ARGS: '--uaccess --backtrace' }],
      [warns, ['--no-such-option'], {}],
    ] as [string, string[], NodeJS.ProcessEnv][]) {
      const served = run(obj, args, 'require', extra);
      const local = run(obj, args, '0', extra);
      assert.equal(served.status, local.status, `${args.join(' ')}: status`);
      assert.equal(served.stdout, local.stdout, `${args.join(' ')}: stdout`);
      assert.equal(served.stderr, local.stderr, `${args.join(' ')}: stderr`);
      assert.ok(served.bytes.equals(local.bytes), `${args.join(' ')}: the written file`);
    }
    // The warnings fixture really warns, through the server too.
    assert.match(run(warns, ['--orc', '--uaccess'], 'require').stderr, /warning: objtool:/);
  });

  it('answers nothing to a request without its secret', async () => {
    const portFile = readdirSync(serverDir).find((f) => /^server-[0-9a-f]+$/.test(f))!;
    const [port] = readFileSync(join(serverDir, portFile), 'utf8').trim().split(' ');
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      const s = connect(Number(port), '127.0.0.1', () => s.write(['orctool-1', 'not-the-secret', dir, '0', '1', '--help', ''].join('\0')));
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    assert.equal(answer, '');
  });

  /** The server's pid and its runner processes' pids. */
  function serverProcesses(): { pid: number; runners: number[] } {
    const pidFile = readdirSync(serverDir).find((f) => f.endsWith('.pid'))!;
    const pid = Number(readFileSync(join(serverDir, pidFile), 'utf8'));
    const runners = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return { pid, runners };
  }

  it('runs calls side by side in its runners, one per core, and replaces a runner that dies', async () => {
    assert.equal(serverProcesses().runners.length, availableParallelism());
    const warns = compileFixture(srcPath('analysis', 'fixtures', 'stack-errors.S'), dir);
    const expected = run(warns, ['--orc', '--uaccess'], '0');
    // Four calls at once, each in its own directory, as make -j starts them.
    const once = (k: number) => new Promise<{ status: number | null; stderr: string; bytes: Buffer }>((resolve) => {
      const sub = join(dir, `par${k}`);
      mkdirSync(sub, { recursive: true });
      copyFileSync(warns, join(sub, 'work.o'));
      const p = spawn('bash', ['-c', `cd "${sub}" && exec "${BIN}" --orc --uaccess work.o`], { env: { ...env, ORCTOOL_SERVER: 'require' } });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (status) => resolve({ status, stderr, bytes: readFileSync(join(sub, 'work.o')) }));
    });
    for (const r of await Promise.all([0, 1, 2, 3].map(once))) {
      assert.equal(r.status, expected.status);
      assert.equal(r.stderr, expected.stderr);
      assert.ok(r.bytes.equals(expected.bytes));
    }
    // A runner killed: the server starts another, and answers as before.
    const before = serverProcesses().runners;
    process.kill(before[0]!, 'SIGKILL');
    await waitFor(() => {
      const now = serverProcesses().runners;
      return now.length === before.length && !now.includes(before[0]!);
    });
    const again = run(warns, ['--orc', '--uaccess'], 'require');
    assert.equal(again.status, expected.status);
    assert.equal(again.stderr, expected.stderr);
  });

  it('removes its files when it stops', async () => {
    const pidFile = readdirSync(serverDir).find((f) => f.endsWith('.pid'))!;
    process.kill(Number(readFileSync(join(serverDir, pidFile), 'utf8')), 'SIGTERM');
    await waitFor(() => readdirSync(serverDir).length === 0);
  });

  it("removes the warm-up copies a killed server left, when the next one starts", async () => {
    // (a process that has exited: its pid is gone)
    const dead = spawnSync('true').pid!;
    const stale = join(serverDir, `warm-${dead}-0.o`);
    writeFileSync(stale, 'left by a server killed with SIGKILL');
    assert.equal(run(compileFixture(join(repoRoot, 'examples', 'save_fl.S'), dir), ['--orc', '--link'], '1').status, 0);
    await waitFor(() => !existsSync(stale));
  });
});
