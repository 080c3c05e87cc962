#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks of one boot test console log (scripts/boot-test.sh).

    check-log.py LOG [--qemu-rc N] [--expect-stuffing] [--expect-static-keys] [--details FILE]

Prints one line per check, "NAME<TAB>PASS|FAIL|N/A<TAB>detail", and exits 1 if any check failed.
--details FILE gets every stack trace the checks looked at, with what was wrong with each.
"""
import argparse
import re
import sys

# Frames a complete unwind of a task stack ends at (the last reliable frame of a trace).
BOTTOM = {
    'ret_from_fork_asm', 'ret_from_fork', 'entry_SYSCALL_64_after_hwframe', 'entry_SYSCALL_64',
    'entry_SYSCALL_64_safe_stack', 'common_startup_64', 'secondary_startup_64',
    'secondary_startup_64_no_verify', 'x86_64_start_kernel', 'start_secondary',
}
# Entry code an unwind legitimately ends at when the task entered the kernel from user mode
# through an interrupt or exception (the trace then shows the user registers, RIP: 0033).
USER_ENTRY = re.compile(r'^asm_(exc|sysvec|common_interrupt|spurious)')

UNWIND_COMPLAINTS = [
    r'stack going in the wrong direction', r'WARNING:.*unwind', r'unwind_orc', r'[Uu]nwinder',
    r'\bORC\b', r'\borc\b', r"can't access registers", r'stack recursion',
    r'kernel stack regs .* has bad', r'unwind', r'Unwind',
]
OOPS = [r'\bOops\b', r'Kernel panic', r'\bBUG:', r'kernel BUG', r'general protection fault',
        r'invalid opcode:', r'Unable to handle', r'Missing ENDBR', r'traps: .*\[#\d+\]']
KWARN = [r'WARNING: CPU: \d+ PID: \d+', r'-+\[ cut here \]-+', r'WARNING: .* at ']

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
# " func+0x12/0x34 [mod]" or " ? func+0x12/0x34"; /proc/PID/stack gives "[<0>] func+0x12/0x34".
FRAME = re.compile(r'^\s*(?:\[<[0-9a-f]+>\]\s*)?(\? )?([A-Za-z_.$][\w.$]*)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[(\w+)\])?\s*$')


def base(name):
    """bt_outer.isra.0 -> bt_outer"""
    return name.split('.', 1)[0]


def read_lines(path):
    with open(path, 'rb') as f:
        raw = f.read().decode('utf-8', 'replace')
    raw = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', raw)
    return [TS.sub('', l.rstrip('\r')) for l in raw.replace('\r\n', '\n').split('\n')]


def frames_of(lines):
    """(reliable, name, module) of each frame line."""
    out = []
    for l in lines:
        m = FRAME.match(l)
        if m:
            out.append((m.group(1) is None, m.group(2), m.group(3)))
    return out


def ends_at_bottom(frames, lines):
    rel = [f for f in frames if f[0]]
    if not rel:
        # an NMI or interrupt that hit user mode: the task part is only the user registers
        if not frames and any('RIP: 0033' in l for l in lines):
            return True, 'user mode'
        return False, 'no reliable frame'
    last = base(rel[-1][1])
    if last in BOTTOM:
        return True, last
    if USER_ENTRY.match(last) and any('RIP: 0033' in l for l in lines):
        return True, last + ' (from user mode)'
    return False, 'last reliable frame ' + rel[-1][1]


def task_blocks(lines):
    """Every <TASK> ... </TASK> block: (start line index, lines)."""
    blocks, cur, start = [], None, 0
    for i, l in enumerate(lines):
        s = l.strip()
        if s == '<TASK>':
            cur, start = [], i
        elif s == '</TASK>' and cur is not None:
            blocks.append((start, cur))
            cur = None
        elif cur is not None:
            cur.append(l)
    return blocks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('log')
    ap.add_argument('--qemu-rc', type=int)
    ap.add_argument('--expect-stuffing', action='store_true')
    ap.add_argument('--expect-static-keys', action='store_true')
    ap.add_argument('--details')
    ap.add_argument('--symbols', help='nm -S vmlinux: symbol addresses and sizes')
    ap.add_argument('--orc', help="objtool --dump=orc vmlinux: the ORC the kernel's unwinder reads")
    a = ap.parse_args()
    lines = read_lines(a.log)
    kernel = [l for l in lines if not l.startswith('BT')]
    results, details = [], []

    def check(name, ok, detail, na=False):
        results.append((name, 'N/A' if na else ('PASS' if ok else 'FAIL'), detail))

    def grep(pats, ls):
        rx = re.compile('|'.join(pats))
        return [l for l in ls if rx.search(l)]

    # --- the boot as a whole ---
    done = any(l.startswith('BT: BOOT-TEST-DONE') for l in lines)
    check('init ran to the end (BOOT-TEST-DONE)', done, 'marker seen' if done else 'marker missing')
    if a.qemu_rc is not None:
        check('qemu exited by itself', a.qemu_rc == 0,
              'rc 0' if a.qemu_rc == 0 else ('timeout' if a.qemu_rc == 124 else f'rc {a.qemu_rc}'))
    bad = grep(UNWIND_COMPLAINTS, kernel)
    check('no unwinder/ORC complaints', not bad, f'{len(bad)} lines: {bad[0][:100]}' if bad else 'none')
    bad = grep(OOPS, kernel)
    check('no Oops/BUG/panic', not bad, f'{len(bad)} lines: {bad[0][:100]}' if bad else 'none')
    bad = grep(KWARN, kernel)
    check('no kernel WARNING', not bad, f'{len(bad)} lines: {bad[0][:100]}' if bad else 'none')
    bad = grep([r'printk messages dropped', r'output lines suppressed due to ratelimiting'], lines)
    check('no console messages lost', not bad, f'{len(bad)} lines: {bad[0][:100]}' if bad else 'none')
    for key, label in (('insmod boot_test_mod', 'insmod'), ('rmmod boot_test_mod', 'rmmod')):
        ok = any(l.startswith(f'BT: {key} ok') for l in lines)
        check(f'{label} boot_test_mod', ok, 'ok' if ok else 'failed or not reached')
    if a.expect_static_keys:
        ok = all(any(l.startswith(f'BT: insmod {m} ok') for l in lines)
                 for m in ('test_static_key_base', 'test_static_keys'))
        check('insmod test_static_keys (module jump labels)', ok, 'ok' if ok else 'failed or not reached')

    # --- /proc/self/stack ---
    self_lines = [l[len('BT-SELF: '):] for l in lines if l.startswith('BT-SELF: ')]
    fr = frames_of(self_lines)
    names = [base(f[1]) for f in fr]
    ok = any(n.startswith('entry_SYSCALL_64') for n in names)
    check('/proc/self/stack reaches entry_SYSCALL_64', ok, ' < '.join(names) if names else 'empty')
    details.append('== /proc/self/stack\n' + '\n'.join(self_lines))

    # --- /proc/PID/stack of every task ---
    per = {}
    for l in lines:
        m = re.match(r'^BT-PSTACK (\d+) (\S*): (.*)$', l)
        if m:
            per.setdefault((int(m.group(1)), m.group(2)), []).append(m.group(3))
    ends = {int(m.group(1)) for m in (re.match(r'^BT-PSTACK-END (\d+)', l) for l in lines) if m}
    nonempty, badt = 0, []
    for (pid, comm), ls in sorted(per.items()):
        f = frames_of(ls)
        if not f:
            continue
        nonempty += 1
        ok, why = ends_at_bottom(f, ls)
        details.append(f'== /proc/{pid}/stack ({comm}): {"ok" if ok else "BAD"}: {why}\n' + '\n'.join(ls))
        if not ok:
            badt.append(f'{pid}/{comm}: {why}')
    check('/proc/PID/stack of every task ends at a bottom frame', nonempty >= 5 and not badt,
          f'{len(ends)} tasks, {nonempty} with a stack, {len(badt)} bad' + (': ' + '; '.join(badt[:3]) if badt else ''))

    # --- the module's kthread, asleep in module code ---
    kl = [re.sub(r'^BT-KTHREAD \d+ \S*: ', '', l) for l in lines if re.match(r'^BT-KTHREAD \d+ ', l)]
    f = frames_of(kl)
    has_mod = any(base(x[1]) == 'bt_sleeper' and x[2] == 'boot_test_mod' for x in f)
    ok, why = ends_at_bottom(f, kl) if f else (False, 'no stack')
    check('module kthread /proc/PID/stack: bt_sleeper [boot_test_mod] .. ret_from_fork', has_mod and ok,
          ' < '.join(base(x[1]) for x in f if x[0]) or 'empty')
    details.append('== module kthread\n' + '\n'.join(kl))

    # --- sysrq t, l, w ---
    for key, text in (('t', 'Show State'), ('l', 'Show backtrace of all active CPUs'), ('w', 'Show Blocked State')):
        ok = any(f'sysrq: {text}' in l for l in lines)
        check(f'sysrq-{key} ran', ok, text if ok else f'no "sysrq: {text}"')
    first_sysrq = next((i for i, l in enumerate(kernel) if 'sysrq: Show State' in l), None)
    blocks = task_blocks(kernel)
    block_at = {st: ls for st, ls in blocks}

    # sysrq-l: "NMI backtrace for cpu N"; for a CPU the NMI caught in the kernel (the one dd
    # keeps busy), show_regs() of the interrupted context, RIP: 0010:<func+off>, then the unwind
    # from that instruction (an <IRQ> block first if it was in an interrupt). In user mode, only
    # the registers; for the CPU that ran sysrq, a plain dump_stack().
    sizes, addrs = {}, {}
    if a.symbols:
        for l in open(a.symbols):
            f = l.split()
            # Labels have no size (nm prints 3 fields): SYM_INNER_LABEL and SYM_PIC_ALIAS names,
            # e.g. __x86_indirect_thunk_rax and __pi___x86_indirect_thunk_rax, which the kernel
            # prints for an RIP there. They still need an address for the ORC lookup.
            if len(f) == 4 and f[2] in 'tTwW':
                sizes.setdefault(f[3], int(f[1], 16))
                addrs.setdefault(f[3], int(f[0], 16))
            elif len(f) == 3 and f[1] in 'tTwW':
                addrs.setdefault(f[2], int(f[0], 16))
    orc = []
    if a.orc:
        for l in open(a.orc):
            ip, _, rest = l.partition(':')
            try:
                orc.append((int(ip, 16), rest.strip()))
            except ValueError:
                pass
        orc.sort()

    def orc_at(func, off):
        """The ORC entry the unwinder uses at func+off, or None."""
        if not orc or func not in addrs:
            return None
        import bisect
        i = bisect.bisect_right(orc, (addrs[func] + off, '\uffff')) - 1
        return orc[i][1] if i >= 0 else None
    samples, nmi_blocks = [], set()
    heads = [i for i, l in enumerate(kernel) if l.startswith('NMI backtrace for cpu')]
    for n, h in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(kernel)
        ct = next((j for j in range(h, end) if kernel[j].strip() == 'Call Trace:'), None)
        rip = next((kernel[j].strip() for j in range(h, ct if ct is not None else end)
                    if kernel[j].startswith('RIP: ')), None)
        if rip is None or not rip.startswith('RIP: 0010:') or ct is None:
            continue
        tb = next(((st, ls) for st, ls in blocks if ct < st < end), None)
        if tb is None:
            continue
        nmi_blocks.add(tb[0])
        m = re.match(r'RIP: 0010:([\w.$]+)\+(0x[0-9a-f]+)/', rip)
        func, off = (m.group(1), int(m.group(2), 16)) if m else (rip[10:], 0)
        ok, why = ends_at_bottom(frames_of(tb[1]), tb[1])
        # Where the unwind stopped early: past the end of the function (the padding, where call
        # depth tracking puts its accounting thunks), or where the ORC table says "undefined"
        # (UNWIND_HINT_UNDEFINED: retpoline thunks, entry code), the unwinder gives up by design.
        excuse = None
        if not ok:
            entry = orc_at(func, off)
            if entry is not None and ('type:(und)' in entry or entry.startswith('type:end')):
                excuse = f'ORC there is "{entry}"'
            elif func in sizes and off >= sizes[func]:
                excuse = f'in the padding after {func} (size {sizes[func]:#x})'
        samples.append((func, off, ok, why, excuse))
        details.append(f'== NMI sample at {func}+{off:#x}: {"ok" if ok else ("stopped early" if excuse else "BAD")}: {why}'
                       + (f' ({excuse})' if excuse else '') + '\n' + '\n'.join(tb[1]))

    # Every other <TASK> trace from the sysrq dumps on (sysrq-t, -l, -w): it must end at a bottom
    # frame. A trace without one reliable frame was refused at the unwinder's start, before any
    # ORC lookup: a sleeping task's first frame is the return address its context switch saved,
    # reliable as found; __unwind_start() refuses only a task executing on another CPU
    # (task_on_another_cpu()). That is the console printer while it prints this, and any task
    # caught on its way to sleep: its state already I or D, schedule() not yet switched away,
    # so sysrq-t does not call it "running". Such a trace says nothing of the ORC table; a few
    # are expected, many would mean the unwinder refuses to start at all.
    sblocks = [b for b in blocks if first_sysrq is not None and b[0] > first_sysrq and b[0] not in nmi_blocks]
    badb, nq, nrel, skipped = [], 0, 0, []
    for start, ls in sblocks:
        f = frames_of(ls)
        nq += sum(1 for x in f if not x[0])
        nrel += sum(1 for x in f if x[0])
        ok, why = ends_at_bottom(f, ls)
        # the task line sched_show_task printed before "Call Trace:"
        who = next((kernel[j].strip() for j in range(start - 1, max(start - 40, -1), -1)
                    if kernel[j].lstrip().startswith('task:') or kernel[j].lstrip().startswith('CPU:')), '?')
        if not ok and not any(x[0] for x in f):
            skipped.append(who.split()[0] + ('' if 'running task' in who else ' (not shown running)'))
            why = 'on the other CPU?: not unwound, ' + why
            ok = None
        details.append(f'== sysrq <TASK> at log line {start}: {who[:80]}: {"ok" if ok else ("skipped" if ok is None else "BAD")}: {why}\n' + '\n'.join(ls))
        if ok is False:
            badb.append(f'{who[:40]}: {why}')
    too_many = len(skipped) * 4 > len(sblocks)
    check('sysrq <TASK> traces end at a bottom frame', len(sblocks) >= 10 and not badb and not too_many,
          f'{len(sblocks)} traces, {nrel} frames, {nq} "?" frames, {len(badb)} bad'
          + (f', not unwound (on a CPU): {len(skipped)} ({", ".join(skipped)})' if skipped else '')
          + (' (over a quarter of the traces)' if too_many else '')
          + (': ' + '; '.join(badb[:3]) if badb else ''))

    # The NMI samples: unwinds from arbitrary kernel instructions. One that stops early where the
    # unwinder is meant to (see above) is reported, not failed.
    good = [x for x in samples if x[2]]
    bad_s = [x for x in samples if not x[2] and not x[4]]
    pad_s = [x for x in samples if not x[2] and x[4]]
    check('sysrq-l: NMI samples of the busy CPU unwind from the interrupted instruction',
          len(good) >= 1 and not bad_s,
          f'{len(samples)} in kernel code, {len(good)} unwound to a bottom frame'
          + (': ' + ', '.join(sorted({f'{x[0]}+{x[1]:#x}' for x in good})) if good else '')
          + (f'; {len(pad_s)} stopped early where ORC is undefined or in padding (not counted): ' + ', '.join(f'{x[0]}+{x[1]:#x}' for x in pad_s) if pad_s else '')
          + ('; BAD: ' + ', '.join(f'{x[0]}+{x[1]:#x} ({x[3]})' for x in bad_s) if bad_s else ''))

    # --- the module's dump_stack() ---
    i0 = next((i for i, l in enumerate(kernel) if 'boot_test_mod: dump_stack from bt_leaf' in l), None)
    mb = next((ls for s, ls in blocks if i0 is not None and s > i0), None)
    if mb is None:
        check('module dump_stack unwinds through module to syscall', False, 'no trace after the module message')
    else:
        f = frames_of(mb)
        rel = [(base(x[1]), x[2]) for x in f if x[0]]
        want = [('bt_leaf', 'boot_test_mod'), ('bt_middle', 'boot_test_mod'), ('bt_outer', 'boot_test_mod'),
                ('boot_test_init', 'boot_test_mod'), ('do_one_initcall', None), ('do_init_module', None)]
        missing = [w[0] for w in want if w not in rel]
        if not any(n in ('load_module', 'init_module_from_file', '__do_sys_init_module', '__do_sys_finit_module',
                         '__x64_sys_init_module', '__x64_sys_finit_module') for n, _ in rel):
            missing.append('load_module/init_module syscall')
        if not any(n.startswith('entry_SYSCALL_64') for n, _ in rel):
            missing.append('entry_SYSCALL_64')
        order_ok = [n for n, _ in rel if n in ('bt_leaf', 'bt_middle', 'bt_outer', 'boot_test_init')] == \
            ['bt_leaf', 'bt_middle', 'bt_outer', 'boot_test_init']
        if not order_ok:
            missing.append('module frames in order')
        nq = sum(1 for x in f if not x[0])
        check('module dump_stack unwinds through module to syscall', not missing,
              (' < '.join(n for n, _ in rel)) + (f' ({nq} "?")' if nq else '') + ('; MISSING ' + ', '.join(missing) if missing else ''))
        details.append('== module dump_stack\n' + '\n'.join(mb))

    # --- call depth tracking ---
    rb = [l.strip() for l in kernel if 'RETBleed:' in l or 'Spectre V2 :' in l or 'callthunks' in l.lower()]
    if a.expect_stuffing:
        ok = any('RETBleed: Mitigation: Stuffing' in l for l in kernel)
        check('call depth tracking active (RETBleed: Mitigation: Stuffing)', ok, ' | '.join(rb)[:200] or 'no RETBleed line')
    else:
        check('call depth tracking active (RETBleed: Mitigation: Stuffing)', True,
              'not asked for: ' + (' | '.join(rb)[:200] or 'no RETBleed/Spectre V2 line'), na=True)

    for name, st, d in results:
        print(f'{name}\t{st}\t{d}')
    if a.details:
        with open(a.details, 'w') as f:
            f.write('\n\n'.join(details) + '\n')
    return 1 if any(st == 'FAIL' for _, st, _ in results) else 0


if __name__ == '__main__':
    sys.exit(main())
