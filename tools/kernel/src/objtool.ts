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
  const on = (option: string) => config.get(`CONFIG_${option}`) === 'y';
  const args: string[] = [];
  const add = (when: boolean, ...flags: string[]) => when && args.push(...flags);
  add(on('HAVE_JUMP_LABEL_HACK'), '--hacks=jump_label');
  add(on('HAVE_NOINSTR_HACK'), '--hacks=noinstr');
  add(on('MITIGATION_CALL_DEPTH_TRACKING'), '--hacks=skylake');
  add(on('X86_KERNEL_IBT'), '--ibt');
  add(on('FINEIBT'), '--cfi');
  add(on('FTRACE_MCOUNT_USE_OBJTOOL'), '--mcount');
  add(on('FTRACE_MCOUNT_USE_OBJTOOL') && on('HAVE_OBJTOOL_NOP_MCOUNT'), '--mnop');
  add(on('UNWINDER_ORC'), '--orc');
  add(on('MITIGATION_RETPOLINE'), '--retpoline');
  add(on('MITIGATION_RETHUNK'), '--rethunk');
  add(on('MITIGATION_SLS'), '--sls');
  add(on('STACK_VALIDATION'), '--stackval');
  add(on('HAVE_STATIC_CALL_INLINE'), '--static-call');
  add(on('HAVE_UACCESS_VALIDATION'), '--uaccess');
  add(on('GCOV_KERNEL') || on('KCOV'), '--no-unreachable');
  add(on('PREFIX_SYMBOLS'), `--prefix=${config.get('CONFIG_FUNCTION_PADDING_BYTES')}`);
  add(objtoolAtLink(config), '--link');
  add(module, '--module');
  add(!module && on('NOINSTR_VALIDATION'), '--noinstr');
  return args;
}

/**
 * Run the kernel's own objtool (the headers tree's, i.e. its kbuild's) over one object the way the kernel's link
 * ran it over vmlinux.o or a module, in the kernel's build root: the object gains the tables the shipped kernel has
 * for the same code. Returns whether it ran (not for a kernel whose objtool runs per object). The caller leaves out
 * objects objtool already processed (a single-object module's: kbuild runs objtool on it when compiling it).
 */
export async function runLinkObjtool(
  kernel: { headersTree: string; config: string; buildRoot?: string },
  object: string,
  module: boolean,
): Promise<boolean> {
  const config = parseConfig(await readFile(kernel.config, 'utf8'));
  if (!objtoolAtLink(config)) return false;
  const objtool = join(kernel.headersTree, 'tools', 'objtool', 'objtool');
  const [file, args] = await toolchainCommand(kernel, objtool, [...objtoolArgs(config, module), object]);
  // kbuild exports SRCARCH; objtool refuses to start without it.
  const result = await execa(file, args, { reject: false, all: true, env: { SRCARCH: 'x86' } });
  if (result.failed) {
    throw new UserError(`objtool (as at the kernel's link) failed on ${object}:\n${String(result.all ?? result.shortMessage).trim().split('\n').slice(-8).join('\n')}`);
  }
  return true;
}
