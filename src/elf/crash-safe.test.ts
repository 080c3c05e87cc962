// SPDX-License-Identifier: GPL-2.0-only
// Writes that survive being killed and being raced: bin/orctool on a large object is killed with
// SIGKILL at moments spread over its run, and two runs with different options are started on
// one file at once. After a kill the file reads as it was (an append cut short leaves bytes
// past the old end under the old header, which the next run cuts off) or as the complete run
// writes it, never a mix; after a race it is what one of the two runs alone writes; and once the
// next run is over no marker or temporary file of orctool is left beside it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assembleText, makeTempDir, removeDir, repoRoot } from '../testing/toolchain.js';
import { recoverInterruptedWrite } from './atomic-write.js';

const BIN = join(repoRoot, 'bin', 'orctool');
const ENV = { ...process.env, ORCTOOL_SERVER: '0' };

/** Many small functions with stack work: an object whose ORC takes a while to write. */
function bigSource(n: number): string {
  const out = ['\t.text'];
  for (let i = 0; i < n; i++) {
    out.push(`\t.globl f${i}`, `\t.type f${i}, @function`, `f${i}:`, '\tcall __fentry__', '\tpush %rbp', '\tmov %rsp, %rbp', '\tpush %rbx', '\tpop %rbx', '\tpop %rbp', '\tret', `\t.size f${i}, . - f${i}`);
  }
  return out.join('\n') + '\n';
}

function runSync(args: string[], file: string): number {
  return spawnSync(BIN, [...args, file], { env: ENV, stdio: 'ignore' }).status ?? -1;
}

/** orctool's own files beside the object: markers and temporary files. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.orctool-'));
}

describe('crash-safe and concurrent writes', () => {
  let dir = '';
  let pristine = '';
  let expected = new Map<string, Buffer>();
  const ORC = ['--orc'];
  // (a second option set that writes another object: --mcount adds __mcount_loc)
  const OTHER = ['--orc', '--mcount'];
  before(() => {
    dir = makeTempDir();
    pristine = assembleText(bigSource(40000), dir, 'big');
    for (const args of [ORC, OTHER]) {
      const f = join(dir, 'ref.o');
      copyFileSync(pristine, f);
      assert.equal(runSync(args, f), 0);
      expected.set(args.join(' '), readFileSync(f));
    }
    assert.ok(!expected.get(ORC.join(' '))!.equals(expected.get(OTHER.join(' '))!), 'the two option sets write different objects');
  });
  after(() => removeDir(dir));

  it('a run killed at any moment leaves the old object or the new one, and the next run finishes the job', async (t) => {
    const work = join(dir, 'work');
    spawnSync('mkdir', ['-p', work]);
    const f = join(work, 'big.o');
    copyFileSync(pristine, f);
    const t0 = performance.now();
    runSync(ORC, f);
    const runMs = performance.now() - t0;
    const old = readFileSync(pristine);
    const done = expected.get(ORC.join(' '))!;
    const seen = { old: 0, cut: 0, done: 0 };
    for (let i = 0; i < 24; i++) {
      copyFileSync(pristine, f);
      const p = spawn(BIN, [...ORC, f], { env: ENV, stdio: 'ignore' });
      const closed = new Promise((r) => p.on('close', r));
      if (i % 2 === 0) {
        // At a moment spread over the whole run...
        await new Promise((r) => setTimeout(r, (runMs * (i + 0.5)) / 24));
      } else {
        // ... or as soon as the file starts to change, a little later each time: the write.
        const t1 = performance.now();
        while (statSync(f).size === old.length && performance.now() - t1 < 4 * runMs) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setTimeout(r, i >> 2));
      }
      p.kill('SIGKILL');
      await closed;
      const now = readFileSync(f);
      if (now.equals(old)) seen.old++;
      else if (now.equals(done)) seen.done++;
      else {
        // An append cut short: the old bytes and the old header, more bytes after them.
        assert.ok(now.length > old.length && now.subarray(0, old.length).equals(old), `run ${i}: a torn file`);
        seen.cut++;
      }
      // The next run (as make runs it again) gives the complete object, and cleans up.
      const status = runSync(ORC, f);
      if (now.equals(done)) continue; // (ORC already there: objtool 6.12 redoes it, a 7.x one would refuse)
      assert.equal(status, 0, `run ${i}: the rerun`);
      assert.ok(readFileSync(f).equals(done), `run ${i}: the rerun's output`);
      assert.deepEqual(leftovers(work), [], `run ${i}: files left`);
    }
    assert.ok(seen.old + seen.cut + seen.done === 24);
    t.diagnostic(`after the kill: old ${seen.old}, append cut short ${seen.cut}, complete ${seen.done}`);
  });

  it('two runs on one file at once: the file is what one of them writes alone', async () => {
    const work = join(dir, 'race');
    spawnSync('mkdir', ['-p', work]);
    const f = join(work, 'big.o');
    const outcomes = new Set<string>();
    for (let i = 0; i < 8; i++) {
      copyFileSync(pristine, f);
      const statuses = await Promise.all([ORC, OTHER].map((args) => new Promise<number>((resolve) => {
        const p = spawn(BIN, [...args, f], { env: ENV, stdio: 'ignore' });
        p.on('close', (s) => resolve(s ?? -1));
      })));
      const now = readFileSync(f);
      const which = [...expected].find(([, b]) => now.equals(b))?.[0];
      assert.ok(which !== undefined, `race ${i}: the file is neither run's output`);
      // The one that lost found the file changed and wrote nothing (status 1), or ran after the
      // other and saw its ORC (6.12 layout: it checks again, and its output is then the file).
      assert.ok(statuses.every((s) => s === 0 || s === 1), `race ${i}: statuses ${statuses}`);
      outcomes.add(which);
      assert.deepEqual(leftovers(work), [], `race ${i}: files left`);
    }
    assert.ok(outcomes.size >= 1);
  });

  it('a write that patches bytes in place, killed after any step, is rolled back by the next run', () => {
    const work = join(dir, 'patch');
    spawnSync('mkdir', ['-p', work]);
    const f = join(work, 'big.o');
    const old = Buffer.alloc(1 << 20);
    for (let i = 0; i < old.length; i++) old[i] = (i * 7) & 0xff;
    old.writeBigUInt64LE(64n, 0x28); // (e_shoff below the old end: an old header)
    const module = pathToFileURL(join(repoRoot, 'dist', 'elf', 'atomic-write.js')).href;
    // The header, two patches and 2 MB appended; the child kills itself after step `stop`.
    const child = (stop: string): number => spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { statSync } from 'node:fs';
      import { fileIdentity, writeInPlace } from ${JSON.stringify(module)};
      const f = ${JSON.stringify(f)};
      const id = fileIdentity(statSync(f));
      const header = new Uint8Array(64).fill(0xee);
      new DataView(header.buffer).setBigUint64(0x28, BigInt(id.size), true);
      const chunks = [{ position: id.size, bytes: new Uint8Array(2 << 20).fill(0x55) }, { position: 1000, bytes: new Uint8Array(4).fill(1) },
        { position: 500000, bytes: new Uint8Array(300).fill(2) }, { position: 0, bytes: header }];
      writeInPlace(f, chunks, id, (step) => { if (step === ${JSON.stringify(stop)}) process.kill(process.pid, 'SIGKILL'); });
    `], { stdio: 'inherit' }).signal === 'SIGKILL' ? 1 : 0;
    for (const stop of ['undo', 'append', 'patch', 'header']) {
      writeFileSync(f, old);
      assert.equal(child(stop), 1, `${stop}: killed`);
      assert.ok(leftovers(work).some((n) => n.endsWith('.orctool-undo')), `${stop}: the undo file is there`);
      recoverInterruptedWrite(f);
      assert.ok(readFileSync(f).equals(old), `killed after ${stop}: the old file again`);
      assert.deepEqual(leftovers(work), [], `${stop}: files left`);
    }
    writeFileSync(f, old);
    assert.equal(child('none'), 0);
    const now = readFileSync(f);
    assert.equal(now.length, old.length + (2 << 20));
    assert.ok(now[1000] === 1 && now[500299] === 2 && now[500300] === old[500300] && now[0] === 0xee && now[old.length] === 0x55);
    assert.deepEqual(leftovers(work), [], 'files left');
  });
});
