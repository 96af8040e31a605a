import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UserError } from './errors';
import type { KernelPaths } from './prepare';

/**
 * A compiler the user names for an update's compiles in place of the kernel's own (`create --compiler PATH`,
 * hotpatch.json "compiler"), and whether a version line other than the kernel's is accepted ("forceCompiler").
 */
export interface ChosenCompiler {
  path: string;
  force?: boolean;
}

/** How an update's compiles use a chosen compiler: what it is, what the kernel was built by, and whether that differs. */
export interface CompilerUse {
  path: string;
  /** The first line of `<path> --version`. */
  versionText: string;
  /** The kernel's CONFIG_CC_VERSION_TEXT. */
  kernelVersionText: string;
  /** The two lines differ and the user forced it: the package records it. */
  mismatch: boolean;
}

/**
 * Check a chosen compiler against the kernel's CONFIG_CC_VERSION_TEXT. The same line: used. Another: refused in one
 * line naming both, unless forced. It runs on this machine, so a kernel whose build tools (fixdep, objtool, modpost)
 * run in a build root of another Debian release cannot take one.
 */
export async function checkChosenCompiler(kernel: Pick<KernelPaths, 'abi' | 'compilerVersion' | 'buildRoot' | 'suite'>, chosen: ChosenCompiler): Promise<CompilerUse> {
  if (kernel.buildRoot) {
    throw new UserError(`--compiler ${chosen.path}: ${kernel.abi} is built in its ${kernel.suite} build root (its objtool, modpost and fixdep are that release's programs), where a compiler of this machine does not run`);
  }
  const versionText = await promisify(execFile)(chosen.path, ['--version'], { encoding: 'utf8' }).then(
    ({ stdout }) => stdout.split('\n', 1)[0]!,
    (err: Error) => {
      throw new UserError(`--compiler ${chosen.path}: cannot run it (${err.message.split('\n', 1)[0]})`);
    },
  );
  const mismatch = versionText !== kernel.compilerVersion;
  if (mismatch && !chosen.force) {
    throw new UserError(
      `--compiler ${chosen.path} is "${versionText}", but ${kernel.abi} was built by "${kernel.compilerVersion}"; --force-compiler builds with it anyway (recorded in the package)`,
    );
  }
  return { path: chosen.path, versionText, kernelVersionText: kernel.compilerVersion, mismatch };
}

/**
 * make's command-line variable that keeps kbuild from re-syncing the prepared tree's config when `$(CC) --version`
 * prints another line than the config's (include/config/auto.conf.cmd compares CC_VERSION_TEXT and then runs
 * syncconfig, which would rewrite auto.conf and autoconf.h of a tree other updates share). Passed through MAKEFLAGS,
 * where GNU make takes `NAME=value` words as command-line variables (spaces escaped).
 */
export function keepConfigMakeflag(kernelVersionText: string): string {
  return `CC_VERSION_TEXT=${kernelVersionText.replace(/\$/g, '$$$$').replace(/ /g, '\\ ')}`;
}
