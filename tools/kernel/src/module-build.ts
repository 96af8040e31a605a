import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { UserError } from './errors';
import { run } from './exec';
import { KERNEL_CC } from './build-flags';

export interface ModuleBuild {
  /** Directory with the module's C sources and Kbuild file (read only; never built in place). */
  sourceDir: string;
  /** Empty or reusable directory where kbuild runs (outside the repo). */
  buildDir: string;
  /** The unpacked, Makefile-fixed headers tree of `hotsplice kernel prepare`. */
  headersTree: string;
}

/**
 * Build an out-of-tree module with kbuild against Debian's headers tree (modpost checks symbols and CRCs
 * against Debian's Module.symvers). Returns the path of each .ko produced.
 */
export async function buildExternalModule(build: ModuleBuild): Promise<string[]> {
  await rm(build.buildDir, { recursive: true, force: true });
  await mkdir(build.buildDir, { recursive: true });
  await cp(build.sourceDir, build.buildDir, { recursive: true });
  // CC must match Debian's compiler (CONFIG_CC_VERSION_TEXT); the headers tree sets ARCH and KERNELRELEASE.
  await run('make', ['-C', build.headersTree, `M=${build.buildDir}`, `CC=${KERNEL_CC}`, `-j${availableParallelism()}`, '-s', 'modules']);
  const modules = (await readdir(build.buildDir)).filter((name) => name.endsWith('.ko'));
  if (modules.length === 0) throw new UserError(`kbuild produced no .ko in ${build.buildDir}`);
  return modules.map((name) => join(build.buildDir, name));
}
