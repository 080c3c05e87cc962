// SPDX-License-Identifier: GPL-2.0-only
// `orctool verify FILE... [--kernel=V] [--coverage] [--profile=P]...`: the ORC table against
// every patched variant of the code, or (--profile) against the boot profiles named: bare-metal,
// kvm, xen-pv, or a comma-separated CPU feature list (cpufeatures.h names or numbers).
// Exit status 0 only when no boundary contradicts the table. Reads relocatable objects and
// linked images (a vmlinux: fields resolved by address, see src/elf/linked.ts).
import { ElfFile } from '../elf/reader.js';
import { UsageError } from '../errors.js';
import { detectLayout } from '../kernel/detect.js';
import { layoutByName, LAYOUT_NAMES } from '../kernel/versions.js';
import { BOOT_PROFILES, type CoverageMap, verify } from '../verify/verify.js';

/** --profile's short names for the built-in boot profiles. */
const PROFILE_NAMES: Record<string, string> = { 'bare-metal': 'bare metal', kvm: 'KVM guest', 'xen-pv': 'Xen PV' };
import { coverage } from '../verify/coverage.js';

export function runVerifyCommand(argv: string[], out: { stdout: (s: string) => void }): number {
  let kernel: string | undefined;
  let withCoverage = false;
  let profiles: Record<string, string> | undefined;
  const files: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--coverage') withCoverage = true;
    else if (a.startsWith('--profile')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
      if (!v) throw new UsageError('verify: --profile needs bare-metal, kvm, xen-pv or a feature list');
      profiles ??= {};
      const known = PROFILE_NAMES[v];
      if (known) profiles[known] = BOOT_PROFILES[known]!;
      else profiles[`features ${v}`] = v;
    }
    else if (a.startsWith('--kernel')) kernel = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++k];
    else if (a.startsWith('-')) throw new UsageError(`verify: unknown option '${a}'`);
    else files.push(a);
  }
  if (!files.length) throw new UsageError('verify: no input file');
  let status = 0;
  for (const file of files) {
    const elf = ElfFile.open(file);
    const layout = kernel ? layoutByName(kernel) : detectLayout(elf).layout;
    if (!layout) throw new UsageError(`--kernel: unknown kernel layout '${kernel}' (one of ${LAYOUT_NAMES.join(', ')})`);
    const cover: CoverageMap | undefined = withCoverage ? new Map() : undefined;
    const r = verify(elf, layout, { coverage: cover, profiles });
    const total = r.checked + r.unverified;
    const lines = [
      `${file}: ${r.variants} variants, ${r.functions} functions, ${r.checked} boundaries checked, ${r.unverified} unverified` +
        ` (${total ? ((100 * r.unverified) / total).toFixed(2) : '0.00'}%), ${r.mismatches.length} mismatches`,
      ...(r.unverified ? [`  unverified: ${Object.entries(r.reasons).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
      ...r.mismatches.map((m) => `  mismatch at ${m.location} [${m.variant}]: expected ${m.expected}, table has ${m.found}`),
    ];
    if (cover && !elf.isRelocatable) {
      lines.push('  coverage: needs a relocatable object (the analysis that gives the denominator reads relocations): verify vmlinux.o for it');
    } else if (cover) {
      // (after verify: the analysis may add to the ELF it reads)
      const c = coverage(elf, layout, cover, file);
      if (c.analysisFailed) lines.push('  coverage: the analysis stopped on a fatal problem (run check for it)');
      else {
        const pct = c.canExecute ? ((100 * c.checked) / c.canExecute).toFixed(3) : '100.000';
        lines.push(`  coverage: ${c.checked} of ${c.canExecute} instructions that can execute checked (${pct}%)` +
          (Object.keys(c.unverified).length ? `; the rest: ${Object.entries(c.unverified).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''));
        if (c.notWalkedSamples.length) lines.push(`  not reached by verify: ${c.notWalkedSamples.join(', ')}`);
      }
    }
    out.stdout(lines.join('\n') + '\n');
    if (r.mismatches.length) status = 1;
  }
  return status;
}
