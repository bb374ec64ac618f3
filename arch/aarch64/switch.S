/* aarch64 context switch (AAPCS64).
 *
 * void gp__ctx_switch_asm(void **save_sp, void *load_sp)
 *
 * Frame at the saved sp (see arch/arch.h, struct gp__frame), 176 bytes:
 *
 *     0  x19   8  x20  16  x21  24  x22
 *    32  x23  40  x24  48  x25  56  x26
 *    64  x27  72  x28  80  x29  88  x30 (return address)
 *    96  d8  104  d9  112  d10 120  d11
 *   128  d12 136  d13 144  d14 152  d15
 *   160  fpcr 168 padding
 *
 * Both stacks hold the same frame shape, so one set of CFI rules describes
 * every instruction, before and after sp is exchanged.
 */

	.text
	.globl	gp__ctx_switch_asm
	.hidden	gp__ctx_switch_asm
	.type	gp__ctx_switch_asm, %function
	.p2align 4
gp__ctx_switch_asm:
	.cfi_startproc
	sub	sp, sp, #176
	.cfi_def_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_offset x19, -176
	.cfi_offset x20, -168
	.cfi_offset x21, -160
	.cfi_offset x22, -152
	.cfi_offset x23, -144
	.cfi_offset x24, -136
	.cfi_offset x25, -128
	.cfi_offset x26, -120
	.cfi_offset x27, -112
	.cfi_offset x28, -104
	.cfi_offset x29, -96
	.cfi_offset x30, -88
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	.cfi_offset d8, -80
	.cfi_offset d9, -72
	.cfi_offset d10, -64
	.cfi_offset d11, -56
	.cfi_offset d12, -48
	.cfi_offset d13, -40
	.cfi_offset d14, -32
	.cfi_offset d15, -24
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	.globl	gp__ctx_resume_asm
	.hidden	gp__ctx_resume_asm
gp__ctx_resume_asm:
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #176
	.cfi_def_cfa_offset 0
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	ret
	.cfi_endproc
	.size	gp__ctx_switch_asm, .-gp__ctx_switch_asm

/* The first code a new context runs: x19 is the entry function, x20 its
 * argument. The entry function never returns; brk makes a bug loud. The
 * return address is marked undefined so unwinders stop here. */
	.globl	gp__ctx_entry_asm
	.hidden	gp__ctx_entry_asm
	.type	gp__ctx_entry_asm, %function
	.p2align 4
gp__ctx_entry_asm:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	gp__ctx_entry_asm, .-gp__ctx_entry_asm

	.section .note.GNU-stack,"",@progbits
