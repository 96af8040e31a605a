import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { UserError } from './errors';
import { run } from './exec';
import { toolchainCommand } from './toolchain-command';

/**
 * The compiler a kernel was built with, and where hotsplice runs it. CONFIG_CC_VERSION_TEXT of Debian's config is
 * the first line of `$(CC) --version` as Debian's build saw it (scripts/Kconfig.include cc-version-text): its first
 * word is the CC kbuild was called with (gcc-12 on bookworm, x86_64-linux-gnu-gcc-14 on trixie). kbuild compares it
 * again on every build (include/config/auto.conf.cmd: `ifneq "$(CC_VERSION_TEXT)" …` → syncconfig), so the same CC
 * name with the same version line is what keeps the prepared tree and the objects equal to Debian's.
 */
export interface KernelCompiler {
  /** kbuild's CC: the first word of CONFIG_CC_VERSION_TEXT. */
  cc: string;
  /** CONFIG_CC_VERSION_TEXT, e.g. "x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0". */
  versionText: string;
}

/** Where a kernel's compiles, objtool, modpost and module links run. */
export interface Toolchain extends KernelCompiler {
  /** A build root of the kernel's Debian release holding its exact compiler; undefined: the machine's own matches. */
  buildRoot?: string;
}

/** The compiler named by a kernel config's CONFIG_CC_VERSION_TEXT. */
export function parseCompiler(config: string, file = 'config'): KernelCompiler {
  const text = /^CONFIG_CC_VERSION_TEXT="(.*)"$/m.exec(config)?.[1];
  const cc = text?.split(' ', 1)[0];
  if (!text || !cc) throw new UserError(`${file}: no CONFIG_CC_VERSION_TEXT; cannot tell which compiler built this kernel`);
  return { cc, versionText: text };
}

export async function readCompiler(configFile: string): Promise<KernelCompiler> {
  return parseCompiler(await readFile(configFile, 'utf8'), configFile);
}

/** The Debian package that installs a CC: x86_64-linux-gnu-gcc-14 and gcc-14 both come from gcc-14. */
export function compilerPackage(cc: string): string {
  const m = /(?:^|-)(gcc-\d+)$/.exec(cc);
  if (!m) throw new UserError(`the kernel's compiler "${cc}" is not a Debian gcc; cannot provide it`);
  return m[1]!;
}

const versionLines = new Map<string, Promise<string | undefined>>();

/** The first line of `<cc> --version` on this machine (undefined when it has no such compiler); asked once per process. */
export function hostCompilerVersion(cc: string): Promise<string | undefined> {
  let line = versionLines.get(cc);
  if (!line) {
    line = promisify(execFile)(cc, ['--version'], { encoding: 'utf8' }).then(
      ({ stdout }) => stdout.split('\n', 1)[0],
      () => undefined,
    );
    versionLines.set(cc, line);
  }
  return line;
}

/** The first line of the kernel's compiler's `--version` where the kernel's compiles run (its build root or here). */
export async function compilerVersionLine(kernel: { compiler: string; buildRoot?: string }): Promise<string> {
  const [file, args] = await toolchainCommand(kernel, kernel.compiler, ['--version']);
  return (await run(file, args)).split('\n', 1)[0]!;
}

/** Whether the machine's own compiler is exactly the kernel's (bookworm's gcc-12 for 6.1 on this host). */
export async function hostMatches(compiler: KernelCompiler): Promise<boolean> {
  return (await hostCompilerVersion(compiler.cc)) === compiler.versionText;
}
