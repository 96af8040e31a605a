import type { PatchSite } from './sites';

// The legal live forms of each patch site kind: what the kernel may have written there instead of the original
// (arch/x86/kernel/alternative.c, ftrace.c, static_call.c, jump_label.c in 6.1).

/** x86 long nops, BYTES_NOP1..8 of arch/x86/include/asm/nops.h. */
const NOPS = [
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

export const NOP5 = Uint8Array.from(NOPS[4]);
/** `ret; int3; int3; int3; int3`: a return-thunk site without the thunk (patch_return). */
export const RET_INT3 = Uint8Array.from([0xc3, 0xcc, 0xcc, 0xcc, 0xcc]);
/**
 * ENDBR64 and what apply_seal_endbr() seals it with: gen_endbr_poison() in arch/x86/include/asm/ibt.h is
 * `osp nopl (%rax)` (66 0f 1f 00) in both 6.1.192 and 6.12 (found live on 6.12's __ia32_sys_sysinfo); upstream's
 * first form, `nopl -42(%rax)` (0f 1f 40 d6), is kept for older 6.1 ABIs.
 */
const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];
const ENDBR_POISONS = [
  [0x66, 0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0xd6],
];

/** The native instruction sequences PARAVIRT_XXL inlines at call sites (arch/x86/kernel/paravirt_patch.c, 6.1). */
const NATIVE_PARAVIRT = [
  [0xfa], // cli: irq.irq_disable
  [0xfb], // sti: irq.irq_enable
  [0x9c, 0x58], // pushf; pop %rax: irq.save_fl
  [0x0f, 0x20, 0xd0], // mov %cr2,%rax: mmu.read_cr2
  [0x0f, 0x20, 0xd8], // mov %cr3,%rax: mmu.read_cr3
  [0x0f, 0x22, 0xdf], // mov %rdi,%cr3: mmu.write_cr3
  [0x0f, 0x09], // wbinvd: cpu.wbinvd
  [0x48, 0x89, 0xf8], // mov %rdi,%rax: the identity ops
  [0xc6, 0x07, 0x00], // movb $0,(%rdi): lock.queued_spin_unlock
  [0x48, 0x31, 0xc0], // xor %rax,%rax: lock.vcpu_is_preempted (measured in the guest)
];

function startsWith(bytes: Uint8Array, at: number, pattern: readonly number[]): boolean {
  return pattern.every((b, i) => bytes[at + i] === b);
}

/** True when bytes[from, to) is padding only: long nops, int3, or a short jmp over the rest (optimize_nops). */
export function isPadding(bytes: Uint8Array, from: number, to: number): boolean {
  let at = from;
  while (at < to) {
    if (bytes[at] === 0xcc) {
      at++;
      continue;
    }
    if (bytes[at] === 0xeb && at + 2 + bytes[at + 1] === to) return true;
    const nop = [...NOPS].reverse().find((n) => at + n.length <= to && startsWith(bytes, at, n));
    if (!nop) return false;
    at += nop.length;
  }
  return true;
}

/** A 5-byte `call rel32` / `jmp rel32` (any target: ftrace trampolines, static call targets, thunks). */
function isRel32(bytes: Uint8Array, at: number, ...opcodes: number[]): boolean {
  return opcodes.includes(bytes[at]);
}

/** `[lfence;] call/jmp *%reg` then padding: patch_retpoline()'s inlined forms of an indirect-thunk call. */
function isInlinedIndirect(bytes: Uint8Array, at: number, end: number): boolean {
  let p = at;
  if (startsWith(bytes, p, [0x0f, 0xae, 0xe8])) p += 3; // lfence
  if (bytes[p] === 0x41) p++; // REX.B for r8-r15
  if (bytes[p] !== 0xff) return false;
  const modrm = bytes[p + 1];
  if ((modrm & 0xf8) !== 0xd0 && (modrm & 0xf8) !== 0xe0) return false; // ff /2 call, ff /4 jmp, register operand
  return isPadding(bytes, p + 2, end);
}

/** Bytes with relocation fields masked: null = any byte. */
export type Pattern = Array<number | null>;

function matchesPattern(live: Uint8Array, pattern: Pattern, length = pattern.length): boolean {
  for (let i = 0; i < length; i++) if (pattern[i] !== null && live[i] !== pattern[i]) return false;
  return true;
}

/** A jmp: recompute_jump() re-encodes a replacement's jmp rel32 as jmp8 when it reaches, padding the rest. */
function isJump(live: Uint8Array, end: number): boolean {
  return (live[0] === 0xeb && isPadding(live, 2, end)) || (live[0] === 0xe9 && isPadding(live, 5, end));
}

/** The original's instructions with their trailing nops re-encoded (optimize_nops() on a site left unpatched). */
function isOptimizedOriginal(live: Uint8Array, original: Pattern, end: number): boolean {
  const bytes = Uint8Array.from(original, (b) => b ?? 0xff); // a masked byte is never padding
  let body = 0;
  while (body < end && !isPadding(bytes, body, end)) body++;
  return body < end && matchesPattern(live, original, body) && isPadding(live, body, end);
}

/**
 * Whether `live` (the site's bytes as the kernel holds them) is a legal patched form of the site. `original` is
 * the site's own bytes and `replacements` each .altinstr_replacement body, relocation fields masked.
 */
export function isLegalForm(site: PatchSite, live: Uint8Array, replacements: Pattern[], original: Pattern): boolean {
  const end = site.length;
  switch (site.kind) {
    case 'fentry':
      // ftrace_init() turns the call into a nop; tracing or a livepatch makes it a call to a trampoline.
      return startsWith(live, 0, NOPS[4]) || isRel32(live, 0, 0xe8);
    case 'return-thunk':
      return startsWith(live, 0, [0xc3]) ? isPadding(live, 1, end) : isRel32(live, 0, 0xe9);
    case 'retpoline':
      return isRel32(live, 0, 0xe8, 0xe9) || (live[0] === 0x2e && isRel32(live, 1, 0xe8, 0xe9)) || isInlinedIndirect(live, 0, end) || (live[0] >= 0x70 && live[0] <= 0x7f);
    case 'static-call':
      // __static_call_transform(): call/jmp to the current target, a nop for NULL, `ret` for a tail call to NULL.
      return isRel32(live, 0, 0xe8, 0xe9) || startsWith(live, 0, NOPS[4]) || (live[0] === 0xc3 && isPadding(live, 1, end));
    case 'lock-prefix':
      return live[0] === 0xf0 || live[0] === 0x3e; // alternatives_smp_unlock(): lock → ds on one CPU
    case 'jump-label':
      return end === 2 ? live[0] === 0xeb || isPadding(live, 0, 2) : live[0] === 0xe9 || isPadding(live, 0, end);
    case 'endbr':
      return [ENDBR64, ...ENDBR_POISONS].some((form) => startsWith(live, 0, form));
    case 'call':
      // callthunks: the call now enters the callee's padding, where the accounting thunk was written.
      return isRel32(live, 0, 0xe8);
    case 'alternative':
      // apply_alternatives(): a replacement (relocated) padded with nops, or the original with its nops optimized.
      return (
        isPadding(live, 0, end) ||
        replacements.some((r) => r.length <= end && matchesPattern(live, r) && isPadding(live, r.length, end)) ||
        ([original, ...replacements].some((r) => r[0] === 0xe9 || r[0] === 0xeb) && isJump(live, end)) ||
        isOptimizedOriginal(live, original, end)
      );
    case 'paravirt':
      // paravirt_patch(): nops for a no-op, a direct call to the op, or the native instructions inlined, padded.
      return isPadding(live, 0, end) || (live[0] === 0xe8 && isPadding(live, 5, end)) || NATIVE_PARAVIRT.some((n) => n.length <= end && startsWith(live, 0, n) && isPadding(live, n.length, end));
  }
}
