// SPDX-License-Identifier: GPL-2.0-only
// "Is this function noreturn by its name?": the part of objtool's __dead_end_function() that
// needs no instructions. Global functions defined elsewhere can only be known by name: the
// layout's list (6.1 check.c global_noreturns[], 6.4+ noreturns.h) and, in 6.12, the Rust
// heuristics of is_rust_noreturn(). Whether a local function returns is found by analysis.
import { STB_GLOBAL, STB_WEAK } from '../elf/constants.js';
import type { KernelLayout, NoreturnRules } from './versions.js';

/** is_rust_noreturn(): Rust standard library panics, recognised by mangled-name pieces. */
export function isRustNoreturn(rules: NoreturnRules, name: string): boolean {
  const r = rules.rust;
  if (!r || !name.startsWith('_R')) return false;
  return r.endsWith.some((s) => name.endsWith(s))
    || r.contains.some((s) => name.includes(s))
    || r.allOf.some((c) => c.contains.every((s) => name.includes(s)) && name.endsWith(c.endsWith));
}

/** The layout's noreturn name list as a set, built once per layout. */
const sets = new WeakMap<KernelLayout, ReadonlySet<string>>();

export function noreturnNames(layout: KernelLayout): ReadonlySet<string> {
  let s = sets.get(layout);
  if (!s) {
    s = new Set(layout.noreturns);
    sets.set(layout, s);
  }
  return s;
}

export type NoreturnByName =
  /** Noreturn by name: objtool stops here. */
  | 'noreturn'
  /** A weak function not on the list: objtool says "returns" without looking at the code. */
  | 'returns'
  /** Not decided by name: objtool goes on to look for a return in the function's code. */
  | 'unknown';

/**
 * The name-based head of __dead_end_function() for a function symbol with this name and
 * binding (STB_*). 6.12: global or weak -> Rust heuristics, then the list; 6.1: global only ->
 * the list. In both, a weak function not found by name returns.
 */
export function noreturnByName(layout: KernelLayout, name: string, bind: number): NoreturnByName {
  const rules = layout.noreturnRules;
  const byName = bind === STB_GLOBAL || (bind === STB_WEAK && rules.includesWeak);
  if (byName && (isRustNoreturn(rules, name) || noreturnNames(layout).has(name))) return 'noreturn';
  return bind === STB_WEAK ? 'returns' : 'unknown';
}

/** Just the yes/no: is a function of this name and binding noreturn by name alone? */
export function isNoreturnByName(layout: KernelLayout, name: string, bind: number): boolean {
  return noreturnByName(layout, name, bind) === 'noreturn';
}
