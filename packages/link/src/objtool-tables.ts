import { type ElfObject, ObjectBuilder, SHF_EXECINSTR, SHT_RELA, parseElf } from '@hotsplice/elf';
import { type ObjtoolPass, UserError, lastObjtoolWarning } from '@hotsplice/kernel';

/**
 * The tables objtool writes (tools/objtool/check.c: .static_call_sites, .retpoline_sites, .return_sites,
 * .ibt_endbr_seal, .cfi_sites, .call_sites, __mcount_loc with --mcount; orc_gen.c: .orc_unwind, .orc_unwind_ip,
 * .orc_header). Each pass skips its table when the object already has one ("file already has .return_sites,
 * skipping"), for all the code in the object.
 */
export function objtoolTables(mcountByObjtool: boolean): string[] {
  return [
    '.orc_unwind',
    '.orc_unwind_ip',
    '.orc_header',
    '.return_sites',
    '.call_sites',
    '.retpoline_sites',
    '.static_call_sites',
    '.ibt_endbr_seal',
    '.cfi_sites',
    ...(mcountByObjtool ? ['__mcount_loc'] : []),
  ];
}

/**
 * New code without objtool's tables, for a kernel whose objtool runs when a composite module is linked (6.12 with
 * IBT: scripts/Makefile.build `$(multi-obj-m): objtool-enabled := $(delay-objtool)`). New code from a single-object
 * module (dummy.o) comes with the tables kbuild's per-object objtool pass gave its functions; carried into the update
 * module, they made that link's pass skip every table for the whole module, so the loader's `jmp
 * __x86_return_thunk` sites were never rewritten ("Unpatched return thunk in use" when livepatch called its
 * callbacks) and the loader had no ORC. Without them, the link's pass writes every table for all the module's code.
 */
export function withoutObjtoolTables(code: Buffer, tables: string[]): Buffer {
  const b = ObjectBuilder.fromElf(parseElf(code));
  const found = b.sections.filter((s) => tables.includes(s.name));
  if (!found.length) return code;
  for (const section of found) b.removeSection(section);
  return b.toBuffer();
}

/**
 * The tables a pass of objtool with these arguments must have written into this code, from what the code holds:
 * ORC for any instructions (--orc: tools/objtool/orc_gen.c orc_create, an entry per instruction run), return sites
 * for `jmp __x86_return_thunk` (--rethunk), retpoline sites for calls through `__x86_indirect_thunk_*` (--retpoline).
 * objtool writes them at the end of its check (tools/objtool/check.c check); a fatal warning ("can't find jump dest
 * instruction", an unknown instruction…) stops the check before that and still exits 0 ("don't fail the kernel
 * build on fatal warnings"): a table missing here is such a stop, not a choice.
 */
export function tablesObjtoolOwes(code: ElfObject, args: readonly string[]): string[] {
  const executable = code.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0n && s.size > 0);
  const targets = new Set(
    code.sections
      .filter((s) => s.type === SHT_RELA && executable.some((x) => x.index === s.info))
      .flatMap((s) => code.relocations.get(s.index) ?? [])
      .map((r) => code.symbols[r.symbol]?.name ?? ''),
  );
  const owed: string[] = [];
  if (args.includes('--orc') && executable.length) owed.push('.orc_unwind_ip');
  if (args.includes('--rethunk') && targets.has('__x86_return_thunk')) owed.push('.return_sites');
  if (args.includes('--retpoline') && [...targets].some((t) => t.startsWith('__x86_indirect_thunk_'))) owed.push('.retpoline_sites');
  return owed;
}

/**
 * Refuses code a pass of objtool left without a table it owes (tablesObjtoolOwes of the code before the pass): the
 * pass stopped at a fatal warning. `what` names the code; objtool's last warning says why it stopped.
 */
export function refuseStoppedObjtool(before: ElfObject, after: ElfObject, pass: ObjtoolPass, what: string): void {
  const missing = tablesObjtoolOwes(before, pass.args).filter((table) => !after.sectionByName(table));
  if (missing.length) {
    throw new UserError(`objtool (as at the kernel's link) wrote no ${missing.join(', ')} for ${what}: ${lastObjtoolWarning(pass.output) ?? 'it printed nothing'}`);
  }
}
