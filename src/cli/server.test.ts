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
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { compileFixture, makeTempDir, removeDir, repoRoot, runTool, srcPath } from '../testing/toolchain.js';

const BIN = join(repoRoot, 'bin', 'orctool');
const server = createRequire(import.meta.url)('./server.cjs') as typeof import('./server.cjs');

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
      const s = connect(Number(port), '127.0.0.1', () => s.write([server.PROTOCOL, 'not-the-secret', dir, '0', '1', '--help', ''].join('\0')));
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

  /**
   * A stand-in server under this build's port file (written `portAfterMs` late, as a starting
   * server's is, with its pid file there from the start) answering `answer`; what the real
   * client (bin/orctool) printed, and the request it sent.
   */
  async function askStub(answer: Buffer, portAfterMs = 0, locale: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string; request: string }> {
    const own = join(makeTempDir('orctool-runtime-'), `orctool-${process.getuid!()}`);
    mkdirSync(own, { mode: 0o700 });
    let request = '';
    const stub = createServer((sock) => {
      sock.on('data', (d) => {
        request += d.toString('latin1');
        if (request.endsWith('x.o\0')) sock.end(answer);
      });
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    try {
      const file = join(own, `server-${readFileSync(server.BUILD_ID_FILE, 'utf8').trim()}`);
      // (a live pid: this process)
      writeFileSync(`${file}.pid`, `${process.pid}\n`, { mode: 0o600 });
      const port = () => writeFileSync(file, `${(stub.address() as { port: number }).port} s3cret\n`, { mode: 0o600 });
      if (portAfterMs) setTimeout(port, portAfterMs);
      else port();
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(BIN, ['--orc', 'x.o'], { cwd: dir, env: { ...env, ...locale, XDG_RUNTIME_DIR: dirname(own), ORCTOOL_SERVER: 'require' } });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      return { ...r, request };
    } finally {
      stub.close();
      removeDir(dirname(own));
    }
  }

  it('hands the client what a run wrote, byte for byte, however long, in the order written', async () => {
    // Both streams, lines without an end, blank lines, backslashes, and a long stretch (read
    // whole, not line by line).
    const long = Array.from({ length: 3000 }, (_, k) => `x.o: warning: objtool: f${k}+0x${k.toString(16)}: unreachable instruction\n`).join('');
    // (and bytes that a UTF-8 locale reads as fewer characters: the client counts bytes)
    const written: [1 | 2, Buffer][] = [[2, Buffer.from(long)], [1, Buffer.from('out \\n\n\n')], [2, Buffer.from('a\u00e9')], [2, Buffer.from('b\\')], [1, Buffer.from('last')]];
    const r = await askStub(server.encodeOutput(written, 3), 0, { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });
    assert.ok(r.request.startsWith(`${server.PROTOCOL}\0s3cret\0`), 'the request carries the protocol and the secret');
    assert.equal(r.status, 3);
    assert.equal(r.stdout, 'out \\n\n\nlast');
    assert.equal(r.stderr, `${long}a\u00c3\u00a9b\\`);
  });

  it('waits for a server that is starting (its pid file there, its port file not yet)', async () => {
    const r = await askStub(server.encodeOutput([[2, Buffer.from('served\n')]], 0), 300);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, 'served\n');
  });

  it('leaves NUL bytes out of an answer, and merges a stream written in pieces', () => {
    const a = server.encodeOutput([[2, Buffer.from('w1\n')], [2, Buffer.from('w\x002\n')], [1, Buffer.from('o')]], 1);
    assert.equal(a.toString('latin1'), '26\nw1\nw2\n11\noX1\n');
    assert.equal(server.encodeOutput([], 0).toString(), 'X0\n');
  });
});
