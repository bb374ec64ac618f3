/* x86_64 context switch (System V ABI).
 *
 * void gp__ctx_switch_asm(void **save_sp, void *load_sp)
 *
 * Pushes the callee-saved state onto the current stack, stores the stack
 * pointer in *save_sp, loads load_sp and pops the same frame from there.
 * Frame at the saved sp (see arch/arch.h, struct gp__frame):
 *
 *    0  mxcsr (4 bytes), x87 control word (2 bytes), padding
 *    8  r15
 *   16  r14
 *   24  r13
 *   32  r12
 *   40  rbx
 *   48  rbp
 *   56  return address
 *
 * Both stacks hold the same frame shape, so one set of CFI rules describes
 * every instruction, before and after the stack pointer is exchanged.
 */

	.text
	.globl	gp__ctx_switch_asm
	.hidden	gp__ctx_switch_asm
	.type	gp__ctx_switch_asm, @function
	.p2align 4
gp__ctx_switch_asm:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	.globl	gp__ctx_resume_asm
	.hidden	gp__ctx_resume_asm
gp__ctx_resume_asm:
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	/* Not ret: the return-stack predictor expects this context's caller,
	 * never the other one's, so a ret mispredicts on every switch. An
	 * indirect jump is predicted from its own history (as Boost.Context
	 * does it). */
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %rcx
	jmpq	*%rcx
	.cfi_endproc
	.size	gp__ctx_switch_asm, .-gp__ctx_switch_asm

/* The first code a new context runs: the switch "returns" here with r12 the
 * entry function and r13 its argument, and rsp 16-byte aligned. The entry
 * function never returns; ud2 makes a bug loud. The return address is marked
 * undefined so that unwinders stop here, at the bottom of the coroutine. */
	.globl	gp__ctx_entry_asm
	.hidden	gp__ctx_entry_asm
	.type	gp__ctx_entry_asm, @function
	.p2align 4
gp__ctx_entry_asm:
	.cfi_startproc
	.cfi_undefined %rip
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	gp__ctx_entry_asm, .-gp__ctx_entry_asm

	.section .note.GNU-stack,"",@progbits
