/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The founding thread's example, as Linux 6.12 emits it: arch_local_save_flags() under
 * paravirt is one alternative site with three streams at the same bytes:
 *
 *	original		ALT_CALL_ALWAYS		ALT_NOT(XENPV)
 *	call *pv_ops+0x90(%rip)	call BUG_func (direct)	pushf; pop %rax
 *
 * The third changes the stack pointer in the middle of the site: after `pushf` the CFA is
 * %rsp+16 at site offset 1, an offset that only that stream stops at. One ORC table must
 * unwind all three: orctool records each stream's state per byte offset of the site.
 */
#define X86_FEATURE_ALWAYS	(3*32+21)
#define X86_FEATURE_XENPV	(8*32+16)
#define ALT_FLAG_NOT		(1 << 0)
#define ALT_FLAG_DIRECT_CALL	(1 << 1)
#define ALT_FLAGS_SHIFT		16

	.macro altinstr orig, orig_len, repl, repl_len, ft_flags
	.pushsection .altinstructions, "a"
	.long \orig - .
	.long \repl - .
	.4byte \ft_flags
	.byte \orig_len
	.byte \repl_len
	.popsection
	.endm

	.text
	.globl	save_fl_demo
	.type	save_fl_demo, @function
save_fl_demo:
	endbr64
0:	call	*pv_ops+0x90(%rip)
1:
	altinstr 0b, 1b-0b, 2f, 3f-2f, (ALT_FLAG_DIRECT_CALL << ALT_FLAGS_SHIFT) | X86_FEATURE_ALWAYS
	altinstr 0b, 1b-0b, 4f, 5f-4f, (ALT_FLAG_NOT << ALT_FLAGS_SHIFT) | X86_FEATURE_XENPV
	.pushsection .altinstr_replacement, "ax"
2:	call	BUG_func
3:
4:	pushf
	pop	%rax
5:
	.popsection
	and	$0x200, %eax
	ret
	.size	save_fl_demo, . - save_fl_demo

	.globl	irqs_disabled_demo
	.type	irqs_disabled_demo, @function
irqs_disabled_demo:
	push	%rbx
	call	save_fl_demo
	test	%eax, %eax
	sete	%al
	movzbl	%al, %eax
	pop	%rbx
	ret
	.size	irqs_disabled_demo, . - irqs_disabled_demo
