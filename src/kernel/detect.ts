// SPDX-License-Identifier: GPL-2.0-only
// Which kernel layout an object was built for, read from the object itself, and never guessed.
//
// Markers, strongest first:
//  1. `.orc_header` (vmlinux, modules from 6.4): its SHA-1 names the ORC format exactly;
//  2. the module's vermagic (`.modinfo`), or a linked image's (vmlinux) linux_banner: the release;
//  3. the kernel build orctool runs in (kbuild exports VERSION and PATCHLEVEL to objtool's
//     command, beside srctree): the release of the tree being built;
//  4. for objects with neither (translation units, vmlinux.o, module objects before modpost):
//     the shapes of the metadata sections — `.discard.annotate_insn` (6.14+) and the ORC register
//     numbers its unwind hints use (SP is 5 up to 7.0, 3 from 7.2), 7.2's mergeable
//     `.altinstructions`, the stride of 6.1's `.altinstructions`, 6.7's absolute annotations.
// A release newer than the newest layout, one between layouts (6.13 to 7.1: no Debian source or
// objtool to check them against), an `.orc_header` hash orctool does not know, and markers that
// contradict each other are refused with one line naming what was found and `--kernel=`.
// An object with no marker at all (no kernel metadata: nothing in it differs between versions
// but the ORC register numbering) is read with the 6.12 layout, the numbering of 4.14 to 7.0.
import type { ElfFile } from '../elf/reader.js';
import { R_X86_64_32, R_X86_64_PC32, SHF_MERGE } from '../elf/constants.js';
import { OrctoolError } from '../errors.js';
import { type KernelLayout, LAYOUTS, layoutByName } from './versions.js';
import { LinkedImage } from '../elf/linked.js';

export interface Detection {
  layout: KernelLayout;
  /** What decided it, for --verbose and error messages. */
  reason: string;
}

/** The object names a kernel orctool has no layout for, or its markers disagree. */
export class UnknownKernelError extends OrctoolError {
  constructor(file: string, detail: string) {
    super(file, 'kernel version', undefined, `${detail}; give --kernel=${LAYOUTS.map((l) => l.name).join('|')} to force a layout`);
    this.name = 'UnknownKernelError';
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The releases each layout covers, as [first, last] of major*1000+minor. The gap between 6.12
 * and 7.2 is deliberate: 6.13 to 7.1 changed objtool step by step and nothing here checks them.
 */
const RELEASES: readonly [number, number, KernelLayout['name']][] = [
  [5013, 6002, '6.1'], [6003, 6003, '6.3'], [6004, 6010, '6.4'], [6011, 6012, '6.12'], [7002, 7003, '7.3'],
];
const NEWEST = RELEASES[RELEASES.length - 1]![1];

function releaseNumber(release: string): number | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : undefined;
}

/**
 * Layout for a kernel release string such as "6.1.0-56-amd64" or "7.3.4+deb13-amd64";
 * undefined for a release no layout covers (see layoutOrRefusal()).
 */
export function layoutForRelease(release: string): KernelLayout | undefined {
  const v = releaseNumber(release);
  if (v === undefined) return undefined;
  const r = RELEASES.find(([lo, hi]) => v >= lo && v <= hi);
  return r ? layoutByName(r[2]) : undefined;
}

/** The layout of a release, or the sentence that refuses it. */
function layoutOrRefusal(release: string, what: string): KernelLayout | string {
  const l = layoutForRelease(release);
  if (l) return l;
  const v = releaseNumber(release);
  if (v === undefined) return `${what} '${release}' is not a kernel release`;
  const name = `Linux ${Math.floor(v / 1000)}.${v % 1000}`;
  if (v > NEWEST) return `${what} ${release} names ${name}, newer than the newest kernel orctool knows (7.3)`;
  return `${what} ${release} names ${name}, which orctool has no layout for (it knows 5.13 to 6.12 and 7.2 to 7.3)`;
}

function vermagic(elf: ElfFile): string | undefined {
  const s = elf.sectionByName('.modinfo');
  if (!s) return undefined;
  const text = Buffer.from(s.data).toString('latin1');
  return /(?:^|\0)vermagic=([^\0 ]+)/.exec(text)?.[1];
}

/**
 * A linked image's release, from linux_banner ("Linux version 6.12.118+deb12-cloud-amd64 (...)"):
 * only in an ET_EXEC (vmlinux.o has the banner too, but objects are told apart as they were).
 */
function bannerRelease(elf: ElfFile): string | undefined {
  const linked = LinkedImage.of(elf);
  const syms = linked?.symbols;
  const i = syms ? syms.byNameIndex('linux_banner') : -1;
  if (i < 0 || !syms!.isDefined(i)) return undefined;
  const s = elf.section(syms!.shndx[i]!);
  if (!s || !linked!.placed(s.index) || syms!.value[i]! + 15 > s.size) return undefined;
  const text = Buffer.from(s.data.subarray(syms!.value[i]!, Math.min(s.size, syms!.value[i]! + 256))).toString('latin1');
  return /^Linux version ([^\0 ]+)/.exec(text)?.[1];
}

/** The release of the kernel tree a kbuild run is building, from the variables it exports. */
export function kbuildRelease(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env['srctree'] || !env['VERSION'] || env['PATCHLEVEL'] === undefined) return undefined;
  return `${env['VERSION']}.${env['PATCHLEVEL']}${env['SUBLEVEL'] ? `.${env['SUBLEVEL']}` : ''}`;
}

/** The .altinstructions entry size, from the stride of its relocations (two per entry). */
function altStride(elf: ElfFile): number | undefined {
  const s = elf.sectionByName('.altinstructions');
  if (!s || s.size === 0) return undefined;
  const rel = elf.relocationsFor(s);
  if (!rel || rel.count < 3) return s.size % 14 === 0 && s.size % 12 !== 0 ? 14 : s.size % 12 === 0 && s.size % 14 !== 0 ? 12 : undefined;
  return rel.offset(rel.nth(2)) - rel.offset(rel.nth(0));
}

/** The ORC register numbering of an object's stack-pointer based hints: '7.2' (SP = 3), '4.14' (SP = 5). */
function hintNumbering(elf: ElfFile): '7.2' | '4.14' | undefined {
  const s = elf.sectionByName('.discard.unwind_hints');
  if (!s || s.size % 12 !== 0) return undefined;
  let sp3 = 0;
  let sp5 = 0;
  for (let at = 0; at + 12 <= s.size; at += 12) {
    const spReg = s.data[at + 6]!;
    const type = s.data[at + 7]!;
    // CALL, REGS, REGS_PARTIAL and FUNC hints (6.4+ numbering) are almost always SP-based.
    if (type < 2 || type > 5) continue;
    if (spReg === 3) sp3++;
    else if (spReg === 5) sp5++;
  }
  if (sp3 > sp5) return '7.2';
  if (sp5 > sp3) return '4.14';
  return undefined;
}

/** What the object's metadata sections say, when it carries no release. */
function byShapes(elf: ElfFile): Detection | string | undefined {
  if (elf.sectionByName('.discard.annotate_insn')) {
    const numbering = hintNumbering(elf);
    if (numbering === '7.2') return { layout: layoutByName('7.3')!, reason: '.discard.annotate_insn with 7.2+ hint registers' };
    if (numbering === '4.14') return '.discard.annotate_insn with the ORC register numbers of 6.14 to 7.0 names a kernel orctool has no layout for';
    const alt = elf.sectionByName('.altinstructions');
    if (alt && (alt.flags & SHF_MERGE) !== 0 && alt.entsize === 14) {
      return { layout: layoutByName('7.3')!, reason: '.discard.annotate_insn with mergeable 14-byte .altinstructions (7.2+)' };
    }
    return '.discard.annotate_insn names Linux 6.14 or later, but nothing tells which (6.14 to 7.1 have no layout)';
  }
  const stride = altStride(elf);
  if (stride === 12) return { layout: layoutByName('6.1')!, reason: '12-byte .altinstructions entries' };
  // Annotations became absolute in 6.7 and relative in 6.4: the reachable annotation tells.
  const reach = elf.sectionByName('.discard.reachable');
  const rel = reach ? elf.relocationsFor(reach) : undefined;
  if (rel && rel.count > 0) {
    const t = rel.type(0);
    if (t === R_X86_64_32) return { layout: layoutByName('6.12')!, reason: 'absolute .discard.reachable relocations' };
    if (t === R_X86_64_PC32 && elf.sectionByName('.discard.unwind_hints') && stride === 14) return { layout: layoutByName('6.4')!, reason: 'relative annotations with 14-byte alternatives' };
  }
  if (elf.sectionByName('.parainstructions')) return { layout: layoutByName('6.4')!, reason: '.parainstructions present' };
  return undefined;
}

/** The ORC format an `.orc_header` hash names: the layouts that write it. */
function layoutsOfHeader(hash: string): KernelLayout[] {
  return LAYOUTS.filter((l) => l.orcHeaderHash === hash);
}

/**
 * The object's layout, or UnknownKernelError. `env` is the process environment (kbuild's
 * variables), a parameter for tests.
 */
export function detectLayout(elf: ElfFile, env: NodeJS.ProcessEnv = process.env): Detection {
  const refuse = (detail: string): never => { throw new UnknownKernelError(elf.path, detail); };
  const candidates: Detection[] = [];

  const hdr = elf.sectionByName('.orc_header');
  let headerLayouts: KernelLayout[] | undefined;
  if (hdr && hdr.size === 20) {
    const h = hex(hdr.data);
    headerLayouts = layoutsOfHeader(h);
    if (headerLayouts.length === 0) refuse(`.orc_header hash ${h} names an ORC format orctool does not know`);
  }
  const vm = vermagic(elf);
  if (vm) {
    const l = layoutOrRefusal(vm, 'vermagic');
    candidates.push(typeof l === 'string' ? refuse(l) : { layout: l, reason: `vermagic ${vm}` });
  }
  const banner = elf.isRelocatable ? undefined : bannerRelease(elf);
  if (banner) {
    const l = layoutOrRefusal(banner, 'linux_banner');
    candidates.push(typeof l === 'string' ? refuse(l) : { layout: l, reason: `linux_banner ${banner}` });
  }
  const kb = kbuildRelease(env);
  if (kb) {
    const l = layoutOrRefusal(kb, 'the kernel tree being built (kbuild VERSION.PATCHLEVEL)');
    candidates.push(typeof l === 'string' ? refuse(l) : { layout: l, reason: `kbuild of Linux ${kb}` });
  }
  if (candidates.length === 0) {
    const s = byShapes(elf);
    if (typeof s === 'string') return refuse(s);
    if (s) candidates.push(s);
  }
  // Everything found must name one layout, and the .orc_header's format must be that layout's.
  const first = candidates[0];
  for (const c of candidates) {
    if (c.layout !== first!.layout) refuse(`${first!.reason} and ${c.reason} contradict each other`);
  }
  if (headerLayouts) {
    const h = hex(hdr!.data);
    if (first && !headerLayouts.includes(first.layout)) {
      refuse(`.orc_header hash ${h.slice(0, 8)}... (Linux ${headerLayouts.map((l) => l.covers.replace(/^Linux /, '')).join(', ')}) contradicts ${first.reason}`);
    }
    if (!first) {
      // 6.4 to 6.12 share one format: tell them apart by the rest of the metadata.
      const s = headerLayouts.length > 1 ? byShapes(elf) : undefined;
      const l = s && typeof s !== 'string' && headerLayouts.includes(s.layout) ? s.layout : headerLayouts[headerLayouts.length - 1]!;
      return { layout: elf.sectionByName('.parainstructions') && headerLayouts.some((x) => x.name === '6.4') ? layoutByName('6.4')! : l, reason: `.orc_header hash (${l.name})` };
    }
  }
  if (first) return { ...first, reason: candidates.map((c) => c.reason).join(', ') };
  return { layout: layoutByName('6.12')!, reason: 'no version marker: read as 6.12 (ORC registers as numbered up to 7.0)' };
}
