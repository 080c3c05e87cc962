// SPDX-License-Identifier: GPL-2.0-only
/*
 * orctool boot test module (scripts/boot-test.sh). Its init calls dump_stack() three noinline
 * frames deep, reached through an indirect call (a retpoline thunk / an ENDBR target), so the
 * console shows the ORC unwinder going through module code back to the init_module syscall.
 * It also starts a kthread that sleeps in module code, whose /proc/PID/stack and sysrq-t trace
 * unwind a blocked task through the module to ret_from_fork. rmmod stops it.
 */
#include <linux/compiler.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/printk.h>
#include <linux/sched.h>

static volatile int bt_seed = 1;
static struct task_struct *bt_task;

static noinline int bt_leaf(int x)
{
	pr_info("boot_test_mod: dump_stack from bt_leaf\n");
	dump_stack();
	pr_info("boot_test_mod: dump_stack done\n");
	return x + bt_seed;
}

static noinline int bt_middle(int x)
{
	int r = bt_leaf(x + 1);

	barrier();
	return r * 3;
}

static noinline int bt_outer(int x)
{
	int r = bt_middle(x ^ bt_seed);

	barrier();
	return r - 1;
}

/* Called through a pointer: an indirect call (retpoline thunk, ENDBR at the target). */
static int (*volatile bt_entry)(int) = bt_outer;

static noinline void bt_sleeper(void)
{
	while (!kthread_should_stop())
		msleep_interruptible(200);
	barrier();
}

static int bt_thread_fn(void *unused)
{
	bt_sleeper();
	return 0;
}

static int __init boot_test_init(void)
{
	int r = bt_entry(bt_seed);

	pr_info("boot_test_mod: result %d\n", r);
	bt_task = kthread_run(bt_thread_fn, NULL, "bt_sleeper");
	if (IS_ERR(bt_task))
		return PTR_ERR(bt_task);
	pr_info("boot_test_mod: kthread pid %d\n", task_pid_nr(bt_task));
	return 0;
}

static void __exit boot_test_exit(void)
{
	kthread_stop(bt_task);
	pr_info("boot_test_mod: unloaded\n");
}

module_init(boot_test_init);
module_exit(boot_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("orctool boot test: unwinding through module code");
