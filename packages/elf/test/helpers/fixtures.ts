// Small sources compiled at test time. Each exercises something the kernel pipeline meets in real objects.

/** Kernel-style C: functions in their own sections, static data, strings, a jump table, a weak function,
 * a forced section, a static local, an addend far from the symbol. */
export const C_SOURCE = String.raw`
static int counter;
static const char *names[] = { "zero", "one", "two", "three" };
int shared_value = 42;
int bss_value;
extern int ext_func(int);
extern char table[];

__attribute__((weak)) int weak_hook(int x) { return x + 1; }

static __attribute__((noinline)) int helper(int x) { counter += x; return counter * 3; }

int classify(int x) {
  switch (x) {
  case 0: return helper(1);
  case 1: return ext_func(7);
  case 2: return 11;
  case 3: return weak_hook(x) + 5;
  case 4: return shared_value;
  case 7: return 99;
  default: return -1;
  }
}

const char *name_of(int i) { return (i >= 0 && i < 4) ? names[i] : "unknown name"; }

long far_addend(void) { return (long)&table[0x12345678]; }

__attribute__((section(".sched.text"))) int forced_section(int x) {
  static int calls;
  calls++;
  return x * calls;
}

int __attribute__((cold, noinline)) rarely(int x) { return x ^ 0x5a5a; }
`;

/** C++ inline and template functions land in COMDAT groups (real SHT_GROUP sections). */
export const CXX_SOURCE = String.raw`
inline __attribute__((noinline)) int twice(int x) { return 2 * x; }
template <typename T> __attribute__((noinline)) T add3(T a) { return a + 3; }
struct Counter { static int hits; __attribute__((noinline)) int bump() { return ++hits; } };
int Counter::hits;
int use_all(int v) { Counter c; return twice(v) + add3<int>(v) + add3<long>(v) + c.bump(); }
`;

/** Assembly for what C does not produce easily: addends and values past 2^53, every visibility, COMMON,
 * GNU_UNIQUE and IFUNC (which make GNU as mark the object ELFOSABI_GNU), COMDAT and plain groups, link-order,
 * exclude, retain, large and TLS sections. */
export const ASM_SOURCE = String.raw`
	.text
	.globl	plain
	.type	plain, @function
plain:
	movabsq	$far_target+0x123456789abcdef0, %rax
	movabsq	$far_target-0x7ffffffffffffff0, %rax
	call	plain_helper
	ret
	.size	plain, .-plain

	.section .text.unique,"ax",@progbits
	.type	plain_helper, @function
plain_helper:
	ret
	.size	plain_helper, .-plain_helper
	.type	resolver, @gnu_indirect_function
	.globl	resolver
resolver:
	ret

	.section .data.rel,"aw",@progbits
	.p2align 3
	.quad	far_target + 0x123456789abcdef0
	.quad	plain - 1
	.quad	uniq_obj

	.globl	big_abs
	.set	big_abs, 0xffffffff81000000
	.hidden	hidden_fn
	.globl	hidden_fn
	.protected	prot_obj
	.globl	prot_obj
	.internal	internal_obj
	.globl	internal_obj
	.comm	common_buf, 64, 32
	.weak	weak_ref

	.section .rodata.uniq,"a",@progbits
	.type	uniq_obj, @gnu_unique_object
	.globl	uniq_obj
uniq_obj:
	.long	1
	.size	uniq_obj, 4
prot_obj:
	.long	2
internal_obj:
	.long	3

	.section .text.grouped,"axG",@progbits,grp_sig,comdat
	.globl	grp_sig
	.type	grp_sig, @function
grp_sig:
	call	weak_ref
hidden_fn:
	ret
	.section .data.grouped,"awG",@progbits,grp_sig,comdat
	.quad	grp_sig

	.section .text.plaingroup,"axG",@progbits,plain_sig
	.globl	plain_sig
plain_sig:
	ret

	.section .meta.linkorder,"ao",@progbits,.text.unique
	.quad	0
	.section .discard.me,"e",@progbits
	.long	7
	.section .text.retain,"axR",@progbits
	ret
	.section .lbss,"awl",@nobits
	.zero	128
	.section .tbss,"awT",@nobits
	.globl	tls_var
	.type	tls_var, @object
tls_var:
	.zero	8
	.size	tls_var, 8
	.section .note.GNU-stack,"",@progbits
`;

/** GNU as source with `count` one-instruction functions, each in its own section: past 65280 sections the
 * object needs extended section numbering. Also a relocation with a 64-bit addend against the last one. */
export function manySectionsAsm(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(`.section .text.f${i},"ax",@progbits\n.globl f${i}\n.type f${i},@function\nf${i}:\nret\n.size f${i},1\n`);
  }
  parts.push(`.data\n.quad f${count - 1}+0x123456789abcdef0\n.quad f5-1\n`);
  return parts.join('');
}
