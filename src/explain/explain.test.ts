// SPDX-License-Identifier: GPL-2.0-only
// `orctool explain` on the seed's example and its conflicting twin; the HTML page rendered by
// headless Chromium (when installed: scripts/setup.sh installs it).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runExplainCommand } from '../cli/explain-command.js';
import { assembleText, compileFixture, makeTempDir, removeDir, runTool, srcPath } from '../testing/toolchain.js';

function explain(args: string[]): string {
  let s = '';
  runExplainCommand(args, { stdout: (t) => (s += t) });
  return s;
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('orctool explain', () => {
  let dir = '';
  let seed = '';
  let conflict = '';
  before(() => {
    dir = makeTempDir();
    seed = compileFixture(srcPath('analysis', 'fixtures', 'seed.S'), dir);
    conflict = compileFixture(srcPath('analysis', 'fixtures', 'conflict.S'), dir);
  });
  after(() => removeDir(dir));

  test('seed: three streams with their features, the CFA at each offset, no conflict', () => {
    const t = explain([seed, 'save_fl']).split('\n');
    assert.match(t[1]!, /original\s+\| ALWAYS \(direct call\)\s+\| !XENPV\s+\| ORC \(merged\)/);
    const row = (o: string) => t.find((l) => l.startsWith(`+${o} `))!;
    assert.match(row('0'), /pushf\s+\[sp:sp\+8\]/);
    assert.match(row('1'), /pop %rax\s+\[sp:sp\+16\]\s+\| sp:sp\+16$/);
    assert.match(row('2'), /sp:sp\+8$/);
    assert.ok(t.some((l) => l.startsWith('no conflict')));
  });

  test('conflicting twin: the conflicting offset is marked', () => {
    const t = explain([conflict, 'save_fl_conflict+0x1']).split('\n');
    assert.ok(t.find((l) => l.startsWith('+1 !!')), t.join('\n'));
    assert.ok(t.some((l) => /stack layout conflict at offset \+1/.test(l)));
  });

  test("6.1's ALTERNATIVE_2: the stream objtool's table leaves out is shown, and said to be", () => {
    const o = compileFixture(srcPath('verify', 'fixtures', 'alt2-lost.S'), dir, ['-DALT12']);
    const t = explain([o, 'alt2_lost']).split('\n');
    assert.match(t[1]!, /original\s+\| LA57 \(not in ORC\)\s+\| PKU\s+\| ORC \(merged\)/);
    assert.match(t.find((l) => l.startsWith('+1 '))!, /pop %rbx\s+\[sp:sp\+16\]\s+\|\s+\|$/);
    assert.ok(t.some((l) => l.startsWith('not in ORC: LA57: objtool up to Linux 6.2')), t.join('\n'));
    // From 6.3 on, the same source has no lost stream.
    mkdirSync(join(dir, '6.12'), { recursive: true });
    const o12 = compileFixture(srcPath('verify', 'fixtures', 'alt2-lost.S'), join(dir, '6.12'));
    assert.doesNotMatch(explain([o12, 'alt2_lost']), /not in ORC/);
  });

  test('a check stopped by an error says so before its partial walk', () => {
    // An intra-function call without its annotation (as in a linked module, whose .discard
    // sections are gone) is fatal before any function is walked.
    const o = assembleText('\t.text\n\t.globl f\n\t.type f, @function\nf:\tcall 1f\n\tint3\n1:\tadd $8, %rsp\n\tret\n\t.size f, .-f\n', dir, 'ifc');
    const t = explain([o, 'f+0x6']).split('\n');
    assert.match(t[0]!, /the check stopped at an error, so its walks are incomplete: .*unannotated intra-function call/);
    assert.match(t[2]!, /No reached path/);
  });

  test('HTML page renders the table in headless Chromium', { skip: CHROMIUM ? false : 'chromium not installed' }, () => {
    const page = join(dir, 'seed.html');
    writeFileSync(page, explain([seed, 'save_fl', '--html']));
    const png = join(dir, 'seed.png');
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`];
    const shot = runTool(CHROMIUM!, [...flags, `--screenshot=${png}`, '--window-size=1000,500', `file://${page}`]);
    assert.ok(existsSync(png), shot.stderr);
    assert.deepEqual([...readFileSync(png).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    // The rendered DOM has the table: one header row and a row per offset.
    const dom = runTool(CHROMIUM!, [...flags, '--dump-dom', `file://${page}`]).stdout;
    assert.match(dom, /<table id="site">/);
    assert.equal((dom.match(/<tr/g) ?? []).length, 1 + 4);
    assert.match(dom, /!XENPV/);
  });

  test('a stack state mismatch: both paths and the states they bring', () => {
    const o = compileFixture(srcPath('analysis', 'fixtures', 'stack-errors.S'), dir);
    const t = explain([o, 'mismatch+0x5', '--orc', '--uaccess']);
    assert.match(t, /warning: objtool: mismatch\+0x5: stack state mismatch: cfa1=4\+8 cfa2=4\+16/);
    assert.match(t, /state recorded first: cfa=%rsp\+8\./);
    assert.match(t, /other path brings cfa=%rsp\+16\./);
    assert.match(t, /first path, through mismatch\+0x2:[^]*je [^\n]*-> to mismatch\+0x5/);
    assert.match(t, /second path, through mismatch\+0x4:[^]*-> not taken[^]*push +%rbx[^\n]*-> to mismatch\+0x5/);
  });

  test('a return with modified stack frame: the path and the frame it leaves', () => {
    const o = compileFixture(srcPath('analysis', 'fixtures', 'stack-errors.S'), dir);
    const t = explain([o, 'ret_modified+0x1', '--orc']);
    assert.match(t, /ret_modified\+0x1: return with modified stack frame/);
    assert.match(t, /ret_modified\+0x0 +push +%rbx +cfa=%rsp\+8\n +ret_modified\+0x1 +ret +cfa=%rsp\+16/);
  });

  test('an unreachable instruction: the dead end before it', () => {
    const o = compileFixture(srcPath('analysis', 'fixtures', 'unreachable.S'), dir);
    const t = explain([o, 'after_ret+0x3', '--orc']);
    assert.match(t, /after_ret\+0x3: unreachable instruction/);
    assert.match(t, /after_ret\+0x2 +ret +cfa=%rsp\+8/);
    assert.match(t, /after_ret\+0x3 +inc +%eax +not reached/);
    assert.match(t, /The instruction before, after_ret\+0x2, is a return\./);
  });

  test('a function that falls through: its end and the next function', () => {
    const o = compileFixture(srcPath('analysis', 'fixtures', 'stack-errors.S'), dir);
    const t = explain([o, 'falls_a', '--orc']);
    assert.match(t, /falls_a\(\) falls through to next function falls_b\(\)/);
    assert.match(t, /then: falls_b\+0x0/);
  });
});
