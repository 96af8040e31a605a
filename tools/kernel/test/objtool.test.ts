// Kernel facts read from a kernel's config and its tables: when objtool runs, with which arguments (as
// scripts/Makefile.lib computes them), and the size of struct alt_instr in a relocatable object's table.
import { describe, expect, it } from 'vitest';
import { altInstrEntrySize } from '../src/x86-tables';
import { objtoolArgs, objtoolAtLink, parseConfig } from '../src/objtool';

// The lines of Debian's config-6.12.118+deb13-amd64 that objtool's arguments depend on.
const TRIXIE = parseConfig(`CONFIG_HAVE_JUMP_LABEL_HACK=y
CONFIG_HAVE_NOINSTR_HACK=y
CONFIG_MITIGATION_CALL_DEPTH_TRACKING=y
CONFIG_X86_KERNEL_IBT=y
CONFIG_HAVE_OBJTOOL_NOP_MCOUNT=y
CONFIG_FTRACE_MCOUNT_USE_CC=y
CONFIG_UNWINDER_ORC=y
CONFIG_MITIGATION_RETPOLINE=y
CONFIG_MITIGATION_RETHUNK=y
CONFIG_MITIGATION_SLS=y
CONFIG_HAVE_STATIC_CALL_INLINE=y
CONFIG_HAVE_UACCESS_VALIDATION=y
CONFIG_PREFIX_SYMBOLS=y
CONFIG_FUNCTION_PADDING_BYTES=16
CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"
`);
// bookworm's 6.1: no IBT, so objtool runs on every object when it is compiled.
const BOOKWORM = parseConfig('CONFIG_HAVE_JUMP_LABEL_HACK=y\nCONFIG_UNWINDER_ORC=y\nCONFIG_RETHUNK=y\n# CONFIG_X86_KERNEL_IBT is not set\n');

describe('objtool of a kernel', () => {
  it('runs at link time only where IBT (or clang LTO) is on', () => {
    expect(objtoolAtLink(TRIXIE)).toBe(true);
    expect(objtoolAtLink(BOOKWORM)).toBe(false);
    expect(TRIXIE.get('CONFIG_CC_VERSION_TEXT')).toBe('"x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"');
  });

  it('takes the arguments the config gives, --module for module code, --noinstr only for vmlinux', () => {
    const vmlinux = ['--hacks=jump_label', '--hacks=noinstr', '--hacks=skylake', '--ibt', '--orc', '--retpoline', '--rethunk', '--sls', '--static-call', '--uaccess', '--prefix=16', '--link'];
    expect(objtoolArgs(TRIXIE, false)).toEqual(vmlinux);
    expect(objtoolArgs(TRIXIE, true)).toEqual([...vmlinux, '--module']);
    const validating = new Map([...TRIXIE, ['CONFIG_NOINSTR_VALIDATION', 'y']]);
    expect(objtoolArgs(validating, false).at(-1)).toBe('--noinstr');
    expect(objtoolArgs(validating, true)).not.toContain('--noinstr');
    const mcount = new Map([...TRIXIE, ['CONFIG_FTRACE_MCOUNT_USE_OBJTOOL', 'y']]);
    expect(objtoolArgs(mcount, false)).toContain('--mnop');
  });
});

describe('struct alt_instr entries', () => {
  it('are 14 bytes in 6.12 and 12 in 6.1, as the table itself tells (two relocations per entry)', () => {
    expect(altInstrEntrySize(994, 142)).toBe(14); // kernel/sched/core.o of 6.12.118
    expect(altInstrEntrySize(1078, 154)).toBe(14); // arch/x86/kernel/process_64.o of 6.12.118
    expect(altInstrEntrySize(12 * 30, 60)).toBe(12);
    expect(altInstrEntrySize(0, 0)).toBe(12);
  });
});
