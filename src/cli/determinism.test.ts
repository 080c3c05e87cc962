// SPDX-License-Identifier: GPL-2.0-only
// The same input and options give the same bytes: whether the files are checked one per run or
// as a batch, on one thread or several (--jobs), in-process or by the resident server, from any
// working directory and however the path is spelled, and on every repetition.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { compileFixture, makeTempDir, removeDir, repoRoot, srcPath } from '../testing/toolchain.js';
import { corpusAvailable, sampleModules } from '../testing/corpus.js';

const BIN = join(repoRoot, 'bin', 'orctool');

describe('deterministic output', () => {
  let dir = '';
  let inputs: string[] = [];
  before(() => {
    dir = makeTempDir();
    mkdirSync(join(dir, 'runtime'), { mode: 0o700 });
    const src = join(dir, 'src');
    mkdirSync(src);
    inputs = ['seed.S', 'alt-overlap.S', 'stack-errors.S', 'uaccess.S', 'jump-label.S', 'ex-table.S'].map((f) => compileFixture(srcPath('analysis', 'fixtures', f), src));
    // Real modules (ORC stripped) when the corpus is there: the code paths a build takes.
    if (corpusAvailable('6.12-cloud')) {
      for (const m of sampleModules('6.12-cloud', 6)) {
        const out = join(src, basename(m).replace(/\.ko$/, '.o'));
        spawnSync('objcopy', ['--remove-section=.orc_unwind', '--remove-section=.orc_unwind_ip', '--remove-section=.rela.orc_unwind_ip', m, out]);
        inputs.push(out);
      }
    }
  });
  after(() => removeDir(dir));

  /** Fresh copies in `name`/, the tool run as `how` says; the output files' bytes. */
  function outputs(name: string, how: (files: string[], work: string) => void): Buffer[] {
    const work = join(dir, name);
    mkdirSync(work, { recursive: true });
    const files = inputs.map((f) => {
      const q = join(work, basename(f));
      copyFileSync(f, q);
      return q;
    });
    how(files, work);
    return files.map((f) => readFileSync(f));
  }

  const FLAGS = ['--orc', '--link', '--uaccess', '--kernel=6.12'];
  const run = (args: string[], cwd: string, server = '0') =>
    spawnSync(BIN, args, { cwd, env: { ...process.env, ORCTOOL_SERVER: server, XDG_RUNTIME_DIR: join(dir, 'runtime'), ORCTOOL_SERVER_IDLE: '5' }, stdio: 'ignore' });

  it('one file per run, batches on 1 and 2 threads, the server, other directories and path spellings agree', () => {
    const reference = outputs('single', (files, work) => files.forEach((f) => run([...FLAGS, basename(f)], work)));
    const variants: Record<string, Buffer[]> = {
      'batch --jobs=1': outputs('jobs1', (files, work) => run([...FLAGS, '--jobs=1', ...files.map((f) => basename(f))], work)),
      'batch --jobs=2': outputs('jobs2', (files, work) => run([...FLAGS, '--jobs=2', ...files.map((f) => basename(f))], work)),
      'absolute paths from /': outputs('absolute', (files) => run([...FLAGS, '--jobs=2', ...files], '/')),
      'dotted relative paths from the parent': outputs('dotted', (files) => run([...FLAGS, ...files.map((f) => `./dotted/../dotted/${basename(f)}`)], dir)),
      'relative paths from the repository': outputs('fromrepo', (files) => files.forEach((f) => run([...FLAGS, relative(repoRoot, f)], repoRoot))),
      'again': outputs('again', (files, work) => files.forEach((f) => run([...FLAGS, basename(f)], work))),
      // (the first call starts the server and runs in-process; it answers the others once up)
      'the resident server': outputs('served', (files, work) => files.forEach((f, i) => {
        if (i === 1) spawnSync('sleep', ['2']);
        run([...FLAGS, basename(f)], work, '1');
      })),
    };
    for (const [name, outs] of Object.entries(variants)) {
      outs.forEach((b, i) => assert.ok(b.equals(reference[i]!), `${name}: ${basename(inputs[i]!)} differs`));
    }
  });
});
