// SPDX-License-Identifier: GPL-2.0-only
// ORCTOOL_PHASES=1: each phase's wall time and the memory in use, on stderr, for profiling
// (check, its command line, verify). `phase(name)` ends the phase called `name`.
const phases = process.env['ORCTOOL_PHASES'] === '1';
let phaseStart = 0;
let phaseFaults = 0;

export function phase(name: string): void {
  if (!phases) return;
  const now = performance.now();
  // (minor page faults: where fresh memory is first touched, which costs ~10 us a page on some machines)
  const faults = process.resourceUsage().minorPageFault;
  if (phaseStart) {
    const m = process.memoryUsage();
    const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
    process.stderr.write(`orctool: phase ${name}: ${(now - phaseStart).toFixed(0)} ms, heap ${mib(m.heapUsed)} MiB, buffers ${mib(m.arrayBuffers)} MiB, rss ${mib(m.rss)} MiB, faults ${faults - phaseFaults}\n`);
  }
  phaseStart = now;
  phaseFaults = faults;
}
