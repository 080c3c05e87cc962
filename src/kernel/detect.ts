// SPDX-License-Identifier: GPL-2.0-only
// Which kernel layout an object was built for, read from the object itself. Strongest signal
// first: the .orc_header hash, the module's vermagic, the .altinstructions entry stride, the
// encoding of annotation relocations; objects that carry none of these get the newest layout.
import type { ElfFile } from '../elf/reader.js';
import { R_X86_64_32, R_X86_64_PC32 } from '../elf/constants.js';
import { type KernelLayout, LAYOUTS, layoutByName } from './versions.js';

export interface Detection {
  layout: KernelLayout;
  /** What decided it, for --verbose and error messages. */
  reason: string;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Layout for a kernel release string such as "6.1.0-56-amd64" or "6.12.117+deb12". */
export function layoutForRelease(release: string): KernelLayout | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return undefined;
  const v = Number(m[1]) * 1000 + Number(m[2]);
  if (v < 6003) return layoutByName('6.1');
  if (v === 6003) return layoutByName('6.3');
  if (v < 6011) return layoutByName('6.4');
  return layoutByName('6.12');
}

function vermagic(elf: ElfFile): string | undefined {
  const s = elf.sectionByName('.modinfo');
  if (!s) return undefined;
  const text = Buffer.from(s.data).toString('latin1');
  return /(?:^|\0)vermagic=([^\0 ]+)/.exec(text)?.[1];
}

/** The .altinstructions entry size, from the stride of its relocations (two per entry). */
function altStride(elf: ElfFile): number | undefined {
  const s = elf.sectionByName('.altinstructions');
  if (!s || s.size === 0) return undefined;
  const rel = elf.relocationsFor(s);
  if (!rel || rel.count < 3) return s.size % 14 === 0 && s.size % 12 !== 0 ? 14 : s.size % 12 === 0 && s.size % 14 !== 0 ? 12 : undefined;
  return rel.offset(rel.nth(2)) - rel.offset(rel.nth(0));
}

export function detectLayout(elf: ElfFile): Detection {
  const hdr = elf.sectionByName('.orc_header');
  if (hdr && hdr.size === 20) {
    const h = hex(hdr.data);
    if (h === layoutByName('6.3')!.orcHeaderHash) return { layout: layoutByName('6.3')!, reason: '.orc_header hash (6.3)' };
    if (h === layoutByName('6.12')!.orcHeaderHash) {
      // 6.4 to 6.12 share the ORC format; tell them apart by the rest of the metadata.
      const vm = vermagic(elf);
      const byRelease = vm ? layoutForRelease(vm) : undefined;
      if (byRelease && byRelease.orc.mapping === 'v3') return { layout: byRelease, reason: `.orc_header hash and vermagic ${vm}` };
      return { layout: elf.sectionByName('.parainstructions') ? layoutByName('6.4')! : layoutByName('6.12')!, reason: '.orc_header hash (6.4+)' };
    }
  }
  const vm = vermagic(elf);
  const byRelease = vm ? layoutForRelease(vm) : undefined;
  if (byRelease) return { layout: byRelease, reason: `vermagic ${vm}` };
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
  return { layout: LAYOUTS[LAYOUTS.length - 1]!, reason: 'no version marker: newest layout' };
}
