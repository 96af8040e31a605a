import { describe, expect, it } from 'vitest';
import { parseDryRun } from '../src/kbuild-plan';
import { preprocessCommand } from '../src/preprocess';

// The shape of `make -n` output for kbuild's C rule (scripts/Makefile.build rule_cc_o_c and force_checksrc, with
// scripts/Kbuild.include's delete-on-interrupt traps), cut short: what the plan reads from a dry run.
const trap = (o: string) => `trap 'rm -f ${o}; trap - HUP; kill -s HUP $$' HUP;`;
const compile = (o: string, extra = '') =>
  `gcc-12 -Wp,-MMD,${o.replace(/([^/]+)$/, '.$1')}.d -nostdinc -I./include -O2${extra} -DKBUILD_MODNAME='"x"' -c -o ${o} ${o.replace(/\.o$/, '.c')}   ; ./tools/objtool/objtool --orc   ${o}`;
const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const OUTPUT = [
  `set -e;  echo '  CC      kernel/kthread.o';    ${trap('kernel/kthread.o')} ${compile('kernel/kthread.o')}; scripts/basic/fixdep kernel/.kthread.o.d kernel/kthread.o ${quoted(compile('kernel/kthread.o'))} > kernel/.kthread.o.cmd; rm -f kernel/.kthread.o.d`,
  `set -e;     ${trap('kernel/kthread.o')} `,
  // Up to date: only the empty force_checksrc line, which names the object.
  `set -e;     ${trap('fs/proc/version.o')} `,
  // A host program (HOSTCC): not a kernel object.
  `set -e;  ${trap('scripts/mod/modpost.o')} gcc -c -o scripts/mod/modpost.o scripts/mod/modpost.c; scripts/basic/fixdep scripts/mod/.modpost.o.d scripts/mod/modpost.o 'gcc -c -o scripts/mod/modpost.o scripts/mod/modpost.c'`,
  'make -f ./scripts/Makefile.build obj=kernel \\',
].join('\n');

describe('kbuild plan: a dry run of the whole build', () => {
  it('takes each compile as fixdep would record it, and names up-to-date objects by their rule', () => {
    const { commands, upToDate } = parseDryRun(OUTPUT, 'gcc-12');
    expect(commands).toEqual({ 'kernel/kthread.o': compile('kernel/kthread.o') });
    expect(upToDate).toEqual(['fs/proc/version.o']);
  });

  it('refuses a command that does not compile its target (an interleaved line)', () => {
    const cut = `set -e; scripts/basic/fixdep kernel/.a.o.d kernel/a.o ${quoted(compile('kernel/b.o'))}`;
    expect(() => parseDryRun(cut, 'gcc-12')).toThrow('the command for kernel/a.o does not compile it');
  });
});

describe('preprocessing with the recorded command', () => {
  it('keeps every flag in order, turns -c -o OBJ into -E -o OUT, and drops the dependency file and objtool', () => {
    const { file, args } = preprocessCommand(compile('kernel/kthread.o', " -include ./include/linux/kconfig.h -D'HS=\"a b\"'"), '/tmp/x.i');
    expect(file).toBe('gcc-12');
    expect(args).toEqual(['-nostdinc', '-I./include', '-O2', '-include', './include/linux/kconfig.h', '-DHS="a b"', '-DKBUILD_MODNAME="x"', '-E', '-fno-working-directory', '-ftrack-macro-expansion=0', '-o', '/tmp/x.i', 'kernel/kthread.c']);
  });
});
