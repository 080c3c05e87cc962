#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the boot test's initramfs (scripts/boot-test.sh). Every line it prints starts with
# "BT" so that check-log.py can tell it from the kernel's messages in the same console log.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Everything from here on goes to the kernel log (each write one record, printed whole on the
# console: no line of ours split by a kernel message; printk.devkmsg=on lifts the rate limit).
[ -c /dev/kmsg ] && exec >/dev/kmsg 2>&1
say() { echo "BT: $*"; }

# Each line of FILE as "BT-<TAG> <pid> <comm>: <line>", then an end line.
stack_of() { # stack_of TAG PID
  comm=$(cat /proc/$2/comm 2>/dev/null) || return 0
  while IFS= read -r l; do echo "BT-$1 $2 $comm: $l"; done </proc/$2/stack
  echo "BT-$1-END $2 $comm"
}

say "BEGIN $(uname -r)"
say "cmdline $(cat /proc/cmdline)"

# The stack of the task reading it (cat itself): down to the read syscall.
say "proc-self-stack begin"
cat /proc/self/stack | while IFS= read -r l; do echo "BT-SELF: $l"; done
say "proc-self-stack end"

# The test module: dump_stack() through module frames, then a kthread sleeping in module code.
if insmod /lib/modules/boot_test_mod.ko; then say "insmod boot_test_mod ok"; else say "insmod boot_test_mod FAILED"; fi
# Modules of the kernel build itself (jump labels / static keys in module code).
for m in test_static_key_base test_static_keys; do
  [ -f /lib/modules/$m.ko ] || continue
  if insmod /lib/modules/$m.ko; then say "insmod $m ok"; else say "insmod $m FAILED"; fi
done
sleep 1

say "module-kthread-stack begin"
for d in /proc/[0-9]*; do
  [ "$(cat $d/comm 2>/dev/null)" = bt_sleeper ] && stack_of KTHREAD ${d#/proc/}
done
say "module-kthread-stack end"

say "proc-pid-stacks begin"
for d in /proc/[0-9]*; do stack_of PSTACK ${d#/proc/}; done
say "proc-pid-stacks end"

echo 1 >/proc/sys/kernel/sysrq
sysrq() { say "sysrq-$1 begin $2"; echo $1 >/proc/sysrq-trigger; sleep ${3:-2}; say "sysrq-$1 end $2"; }
# Every task's stack (all asleep but this shell).
sysrq t
# NMI backtraces of every CPU while the other CPU is kept busy in the kernel: dd (read of
# /dev/zero, write to /dev/null) and a loop of fork, exec, page faults, exit and /sys lookups:
# unwinds that start at whatever instruction the NMI hit.
dd if=/dev/zero of=/dev/null bs=64k count=100000000 2>/dev/null &
busy1=$!
(while :; do /bin/busybox true; ls /sys/kernel >/dev/null; done) &
busy2=$!
sleep 1
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sysrq l $i 0.5; done
kill $busy1 $busy2
wait $busy1 $busy2 2>/dev/null
sysrq w

for m in test_static_keys test_static_key_base; do
  grep -q "^$m " /proc/modules && { rmmod $m && say "rmmod $m ok" || say "rmmod $m FAILED"; }
done
if rmmod boot_test_mod; then say "rmmod boot_test_mod ok"; else say "rmmod boot_test_mod FAILED"; fi
sleep 1
say "BOOT-TEST-DONE"
sync
# No ACPI in this kernel: reboot (QEMU runs with -no-reboot, so it exits) rather than poweroff.
reboot -f
sleep 10
