// SPDX-License-Identifier: GPL-2.0-only
// scripts/boot-test/check-log.py, the judge of CI's boot test, on console logs made here: which
// sysrq-t traces it takes as a verdict on the ORC table, and which it sets aside.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from './toolchain.js';

const CHECKER = fileURLToPath(new URL('../../scripts/boot-test/check-log.py', import.meta.url));
const CHECK = 'sysrq <TASK> traces end at a bottom frame';

/** One sched_show_task() block: the task line, then its trace. */
function task(name: string, state: string, frames: string[]): string[] {
  return [`task:${name.padEnd(15)} state:${state} stack:0     pid:9     tgid:9     ppid:2`,
    'Call Trace:', ' <TASK>', ...frames.map((f) => ` ${f}`), ' </TASK>'];
}
const ASLEEP = ['__schedule+0x3f0/0x42f', 'schedule+0x2f/0x48', 'worker_thread+0x182/0x1be',
  '? __pfx_worker_thread+0x10/0x10', 'kthread+0xe5/0xed', 'ret_from_fork+0x23/0x149',
  'ret_from_fork_asm+0x1a/0x30'];
// What __unwind_start() leaves when it refuses a task on another CPU: the stack scan alone.
const REFUSED = ['? __schedule+0x3f0/0x42f', '? worker_thread+0x182/0x1be', '? kthread+0xe5/0xed',
  '? ret_from_fork_asm+0x1a/0x30'];

/** The check's verdict and detail for a sysrq-t dump of these tasks. */
function judge(dir: string, tasks: string[][]): { verdict: string; detail: string } {
  const log = join(dir, 'boot.log');
  writeFileSync(log, ['BT: sysrq-t begin', 'sysrq: Show State', ...tasks.flat(), 'BT: sysrq-t end', ''].join('\n'));
  const r = spawnSync('python3', [CHECKER, log], { encoding: 'utf8' });
  assert.equal(r.error, undefined, String(r.error));
  const line = r.stdout.split('\n').find((l) => l.startsWith(CHECK + '\t'));
  assert.ok(line, `no "${CHECK}" line in:\n${r.stdout}${r.stderr}`);
  const [, verdict, detail] = line.split('\t');
  return { verdict, detail };
}

describe('boot test log checker', () => {
  let dir = '';
  before(() => { dir = makeTempDir('orctool-bootcheck-'); });
  after(() => removeDir(dir));
  const sleepers = (n: number): string[][] =>
    Array.from({ length: n }, (_, k) => task(`kworker/u8:${k}`, 'I', ASLEEP));

  test('every sleeping task unwound to its bottom frame passes', () => {
    assert.equal(judge(dir, sleepers(12)).verdict, 'PASS');
  });

  test('a trace whose reliable frames stop short fails', () => {
    const short = task('kworker/0:1', 'I', ASLEEP.slice(0, 3).concat(ASLEEP.slice(3).map((f) => `? ${f}`)));
    const r = judge(dir, [...sleepers(11), short]);
    assert.equal(r.verdict, 'FAIL');
    assert.match(r.detail, /kworker\/0:1 .*last reliable frame worker_thread/);
  });

  test('a task refused at the start (on a CPU, though not shown running) is set aside', () => {
    // CI's failure: a worker caught between setting TASK_IDLE and switching away.
    const r = judge(dir, [...sleepers(11), task('kworker/0:1', 'I', REFUSED)]);
    assert.equal(r.verdict, 'PASS', r.detail);
    assert.match(r.detail, /not unwound \(on a CPU\): 1 \(task:kworker\/0:1 \(not shown running\)\)/);
  });

  test('over a quarter of the traces refused fails', () => {
    const refused = Array.from({ length: 4 }, (_, k) => task(`kworker/1:${k}`, 'I', REFUSED));
    const r = judge(dir, [...sleepers(8), ...refused]);
    assert.equal(r.verdict, 'FAIL');
    assert.match(r.detail, /over a quarter/);
  });
});
