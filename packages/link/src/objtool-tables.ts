import { ObjectBuilder, parseElf } from '@hotsplice/elf';

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
