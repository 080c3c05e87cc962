// SPDX-License-Identifier: GPL-2.0-only
// orctool against objtool 6.12 on objects compiled from Debian's linux-source-6.12 by
// scripts/build-kernel.sh: a deterministic sample of per-TU objects (which objtool never
// touched: the kernel is built with IBT) and of module objects as objtool was handed them, same
// flags for both tools. Skips when the build cache is absent, unless ORCTOOL_REQUIRE_KBUILD=1.
// Everything: `npm run kbuild:parity`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  type FlagSet, flagSetsFor, identical, implementedFlags, kernelObjects, loggedFlags, parityForObject, sampleEvenly,
} from './kernel-objects.js';
import { objtoolPath } from '../testing/corpus.js';

const required = process.env.ORCTOOL_REQUIRE_KBUILD === '1';
const haveObjtool = objtoolPath('6.12') !== undefined;

function skipUnless(have: boolean, what: string): string | false {
  if (have && haveObjtool) return false;
  if (required) return false; // run, and fail on the missing input
  return haveObjtool ? `${what} not built (scripts/build-kernel.sh)` : 'objtool 6.12 not fetched (scripts/corpus.sh objtool-6.12)';
}

function failures(kind: 'tu' | 'modules', count: number, set: FlagSet, also: (r: ReturnType<typeof parityForObject>) => boolean): string[] {
  const objects = sampleEvenly(kernelObjects(kind), count);
  assert.ok(objects.length > 0, `no ${kind} objects in the build cache`);
  return objects
    .map((o) => parityForObject(o, set.flags))
    .filter((r) => !identical(r) || !also(r))
    .map((r) => `${r.name} [${set.flags.join(' ')}]: ${r.detail}`);
}

describe('kernel objects: helpers', () => {
  test('sampleEvenly spreads over the list and is deterministic', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(sampleEvenly(xs, 4), [0, 2, 5, 7]);
    assert.deepEqual(sampleEvenly(xs, 20), xs);
  });
  test('implementedFlags keeps what orctool takes and names what it refuses', () => {
    const r = implementedFlags(['--orc', '--prefix=16', '--link', '--no-such-option']);
    assert.deepEqual(r, { kept: ['--orc', '--prefix=16', '--link'], missing: ['--no-such-option'] });
  });
});

describe('kernel objects: parity with objtool 6.12', () => {
  const tuSkip = skipUnless(kernelObjects('tu').length > 0, 'TU objects');
  const sets = flagSetsFor('tu', loggedFlags());
  for (const set of sets.filter((s) => s.name !== 'orc stackval uaccess prefix=16')) {
    // With --prefix=N objtool also adds a __pfx_<func> symbol before each padded function.
    test(`16 TU objects, ${set.flags.join(' ')}: same warnings, ORC, exit status, code, relocations and symbols`, { skip: tuSkip }, () => {
      assert.deepEqual(failures('tu', 16, set, (r) => r.status && r.code && r.symbols), []);
    });
  }
  // xen_cpuid's `ud2; .ascii "xen"; cpuid` is one instruction to objtool (the kernel's insn.c
  // reads the Xen/KVM emulate prefix); decoded as ud2 + js, its bogus jump is fatal.
  const xen = kernelObjects('tu').find((o) => o.name === 'arch/x86/xen/enlighten_pv.o');
  test('arch/x86/xen/enlighten_pv.o (Xen emulate prefix), --orc: same warnings and ORC', {
    skip: skipUnless(xen !== undefined, 'arch/x86/xen/enlighten_pv.o'),
  }, () => {
    const r = parityForObject(xen!, ['--orc']);
    assert.ok(identical(r), r.detail);
  });

  const modSkip = skipUnless(kernelObjects('modules').length > 0, 'module objects');
  test('6 module objects, the kernel\'s module flags that orctool implements: same warnings, ORC, exit status, code, symbols', { skip: modSkip }, () => {
    const set = flagSetsFor('modules', loggedFlags()).find((s) => s.name.startsWith('kernel'));
    assert.ok(set, 'no logged objtool command line for modules');
    assert.deepEqual(failures('modules', 6, set, (r) => r.status && r.code && r.symbols), []);
  });
});
