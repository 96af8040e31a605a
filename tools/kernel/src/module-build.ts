import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { UserError } from './errors';
import { run } from './exec';
import { toolchainCommand } from './toolchain-command';

export interface ModuleBuild {
  /** Directory with the module's C sources and Kbuild file (read only; never built in place). */
  sourceDir: string;
  /** Empty or reusable directory where kbuild runs (outside the repo). */
  buildDir: string;
  /** The prepared kernel: its unpacked, Makefile-fixed headers tree, its compiler and build root. */
  kernel: { headersTree: string; compiler: string; buildRoot?: string };
  /** Variables for make beside this process's environment (make takes them as make variables: KCFLAGS). */
  env?: Record<string, string>;
}

/**
 * Build an out-of-tree module with kbuild against Debian's headers tree (modpost checks symbols and CRCs
 * against Debian's Module.symvers). Returns the path of each .ko produced.
 */
export async function buildExternalModule(build: ModuleBuild): Promise<string[]> {
  await rm(build.buildDir, { recursive: true, force: true });
  await mkdir(build.buildDir, { recursive: true });
  await cp(build.sourceDir, build.buildDir, { recursive: true });
  // CC must match Debian's compiler (CONFIG_CC_VERSION_TEXT); the headers tree sets ARCH and KERNELRELEASE. kbuild's
  // host tools (fixdep, objtool, modpost) are the kernel release's programs: they run in its build root too.
  const { headersTree, compiler } = build.kernel;
  const make = ['-C', headersTree, `M=${build.buildDir}`, `CC=${compiler}`, `-j${availableParallelism()}`, '-s', 'modules'];
  const [file, args] = await toolchainCommand(build.kernel, 'make', make);
  await run(file, args, { env: build.env }, `make ${make.join(' ')}`);
  const modules = (await readdir(build.buildDir)).filter((name) => name.endsWith('.ko'));
  if (modules.length === 0) throw new UserError(`kbuild produced no .ko in ${build.buildDir}`);
  return modules.map((name) => join(build.buildDir, name));
}
