import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from './errors';
import { toolchainCommand } from './toolchain-command';

/** A kernel config's assignments (CONFIG_X=y, CONFIG_N=16, strings with their quotes). */
export function parseConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const m of text.matchAll(/^(CONFIG_\w+)=(.*)$/gm)) values.set(m[1]!, m[2]!);
  return values;
}

/**
 * Whether objtool runs when vmlinux.o and each composite module are linked instead of on every object
 * (scripts/Makefile.lib `delay-objtool := $(or $(CONFIG_LTO_CLANG),$(CONFIG_X86_KERNEL_IBT))`): true for trixie's
 * 6.12 (IBT), false for bookworm's 6.1. Objects compiled in such a tree then carry none of objtool's tables
 * (.return_sites, .call_sites, .retpoline_sites, .static_call_sites, .ibt_endbr_seal, ORC), which the kernel
 * rewrites at boot and run-pre must know about.
 */
export function objtoolAtLink(config: Map<string, string>): boolean {
  return config.get('CONFIG_X86_KERNEL_IBT') === 'y' || config.get('CONFIG_LTO_CLANG') === 'y';
}

/**
 * objtool's arguments for a kernel object, as scripts/Makefile.lib (6.12) computes `objtool-args` from the config,
 * plus --link when objtool runs at link time, --module for module code, and what scripts/Makefile.vmlinux_o adds
 * for vmlinux.o (--noinstr with NOINSTR_VALIDATION).
 */
export function objtoolArgs(config: Map<string, string>, module: boolean): string[] {
  const on = (...options: string[]) => options.every((o) => config.get(`CONFIG_${o}`) === 'y');
  const args = OBJTOOL_FLAGS.filter(([when]) => when.split('|').some((all) => on(...all.split('&')))).map(([, flag]) => flag);
  if (on('PREFIX_SYMBOLS')) args.push(`--prefix=${config.get('CONFIG_FUNCTION_PADDING_BYTES')}`);
  if (objtoolAtLink(config)) args.push('--link');
  if (module) args.push('--module');
  else if (on('NOINSTR_VALIDATION')) args.push('--noinstr');
  return args;
}

/** scripts/Makefile.lib's `objtool-args-$(CONFIG_…) += …` lines, in order ("A|B": either, "A&B": both). */
const OBJTOOL_FLAGS: Array<[string, string]> = [
  ['HAVE_JUMP_LABEL_HACK', '--hacks=jump_label'],
  ['HAVE_NOINSTR_HACK', '--hacks=noinstr'],
  ['MITIGATION_CALL_DEPTH_TRACKING', '--hacks=skylake'],
  ['X86_KERNEL_IBT', '--ibt'],
  ['FINEIBT', '--cfi'],
  ['FTRACE_MCOUNT_USE_OBJTOOL', '--mcount'],
  ['FTRACE_MCOUNT_USE_OBJTOOL&HAVE_OBJTOOL_NOP_MCOUNT', '--mnop'],
  ['UNWINDER_ORC', '--orc'],
  ['MITIGATION_RETPOLINE', '--retpoline'],
  ['MITIGATION_RETHUNK', '--rethunk'],
  ['MITIGATION_SLS', '--sls'],
  ['STACK_VALIDATION', '--stackval'],
  ['HAVE_STATIC_CALL_INLINE', '--static-call'],
  ['HAVE_UACCESS_VALIDATION', '--uaccess'],
  ['GCOV_KERNEL|KCOV', '--no-unreachable'],
];

/** What a pass of objtool said: its arguments and everything it printed (warnings included). */
export interface ObjtoolPass {
  args: string[];
  output: string;
}

/**
 * Run the kernel's own objtool (the headers tree's, i.e. its kbuild's) over one object the way the kernel's link
 * ran it over vmlinux.o or a module, in the kernel's build root: the object gains the tables the shipped kernel has
 * for the same code. Returns the pass, or undefined for a kernel whose objtool runs per object. The caller leaves
 * out objects objtool already processed (a single-object module's: kbuild runs objtool on it when compiling it).
 * objtool exits 0 after a fatal warning too (tools/objtool/check.c check): the caller checks the tables it wrote.
 */
export async function runLinkObjtool(
  kernel: { headersTree: string; config: string; buildRoot?: string },
  object: string,
  module: boolean,
): Promise<ObjtoolPass | undefined> {
  const config = parseConfig(await readFile(kernel.config, 'utf8'));
  if (!objtoolAtLink(config)) return undefined;
  const objtool = join(kernel.headersTree, 'tools', 'objtool', 'objtool');
  const objtoolArguments = objtoolArgs(config, module);
  const [file, args] = await toolchainCommand(kernel, objtool, [...objtoolArguments, object]);
  // kbuild exports SRCARCH; objtool refuses to start without it.
  const result = await execa(file, args, { reject: false, all: true, env: { SRCARCH: 'x86' } });
  const output = String(result.all ?? result.shortMessage).trim();
  if (result.failed) {
    throw new UserError(`objtool (as at the kernel's link) failed on ${object}:\n${output.split('\n').slice(-8).join('\n')}`);
  }
  return { args: objtoolArguments, output };
}

/**
 * objtool's last warning in its output, without the file name it starts with (objtool prints "<file>: warning:
 * objtool: <what>"): after a fatal warning objtool stops, so the last one is the reason it stopped.
 */
export function lastObjtoolWarning(output: string): string | undefined {
  const lines = output.split('\n').filter((line) => line.includes('objtool: '));
  const last = lines.at(-1);
  return last === undefined ? undefined : last.slice(last.indexOf('objtool: ') + 'objtool: '.length).trim();
}
