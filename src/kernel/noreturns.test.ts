// SPDX-License-Identifier: GPL-2.0-only
// The name-based noreturn test of 6.1 and 6.12 objtool (__dead_end_function()'s head).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STB_GLOBAL, STB_LOCAL, STB_WEAK } from '../elf/constants.js';
import { layoutByName } from './versions.js';
import { isNoreturnByName, isRustNoreturn, noreturnByName } from './noreturns.js';

const L61 = layoutByName('6.1')!;
const L64 = layoutByName('6.4')!;
const L612 = layoutByName('6.12')!;

describe('noreturn by name', () => {
  it('the lists', () => {
    assert.equal(isNoreturnByName(L61, 'panic', STB_GLOBAL), true);
    assert.equal(isNoreturnByName(L61, 'lbug_with_loc', STB_GLOBAL), true);
    assert.equal(isNoreturnByName(L612, 'lbug_with_loc', STB_GLOBAL), false);
    assert.equal(isNoreturnByName(L612, '__fortify_panic', STB_GLOBAL), true);
    assert.equal(isNoreturnByName(L61, '__fortify_panic', STB_GLOBAL), false);
    assert.equal(isNoreturnByName(L612, 'kfree', STB_GLOBAL), false);
  });

  it('bindings: locals are never decided by name; weak ones from 6.4', () => {
    assert.equal(noreturnByName(L612, 'panic', STB_LOCAL), 'unknown');
    assert.equal(noreturnByName(L61, 'panic', STB_WEAK), 'returns');
    assert.equal(noreturnByName(L64, 'arch_cpu_idle_dead', STB_WEAK), 'noreturn');
    assert.equal(noreturnByName(L612, 'arch_cpu_idle_dead', STB_WEAK), 'noreturn');
    assert.equal(noreturnByName(L612, 'some_weak_fn', STB_WEAK), 'returns');
    assert.equal(noreturnByName(L612, 'some_fn', STB_GLOBAL), 'unknown');
  });

  it('6.12 Rust heuristics', () => {
    const r = L612.noreturnRules;
    const yes = [
      '_RNvNtCs1234_4core9panicking9panic_fmt',
      '_RNvNtNtCsabc_4core6option13unwrap_failed',
      '_RNvNtCsX_4core9panicking13assert_failedINtNtCs_4core3fmt9ArgumentsE',
      '_RNvNtNtCsX_4core9panicking11panic_const24panic_const_div_by_zero',
      '_RNvNtNtCsX_4core5slice5index24slice_end_index_len_fail',
      '_RNvCsX_7___rustc17rust_begin_unwind',
    ];
    for (const n of yes) assert.equal(isRustNoreturn(r, n), true, n);
    const no = [
      'ZN4core9panicking9panic_fmt', // not "_R"
      '_RNvNtCsX_4core9panicking9panic_fmt_extra',
      '_RNvNtNtCsX_4core5slice5index24slice_end_index_len', // no "_fail"
      '_RNvNtNtCsX_4core5slice4sort_fail',
    ];
    for (const n of no) assert.equal(isRustNoreturn(r, n), false, n);
    assert.equal(isNoreturnByName(L612, yes[0]!, STB_GLOBAL), true);
    assert.equal(isNoreturnByName(L612, yes[0]!, STB_LOCAL), false);
    assert.equal(isNoreturnByName(L64, yes[0]!, STB_GLOBAL), false);
    assert.equal(isNoreturnByName(L61, yes[0]!, STB_GLOBAL), false);
  });
});
