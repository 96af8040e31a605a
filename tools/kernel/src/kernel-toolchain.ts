import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aptFor } from './apt';
import { ensureBuildRoot } from './build-root';
import { exists } from './cache';
import { UserError } from './errors';
import type { KernelLayout, KernelPaths } from './prepare';
import { requireAbi } from './release';
import { type Toolchain, compilerVersionLine, hostCompilerVersion, hostMatches, readCompiler } from './toolchain';

// Which toolchain builds a prepared kernel: chosen once by prepare, recorded beside the kernel's files.

export function toolchainFields(toolchain: Toolchain): Pick<KernelPaths, 'compiler' | 'compilerVersion' | 'buildRoot'> {
  return { compiler: toolchain.cc, compilerVersion: toolchain.versionText, ...(toolchain.buildRoot ? { buildRoot: toolchain.buildRoot } : {}) };
}

/**
 * The kernel's own compiler (its config's CONFIG_CC_VERSION_TEXT): this machine's when it prints exactly that
 * version line (bookworm's gcc-12 for 6.1 here), else a build root of the kernel's release, made once, whose
 * compiler must print it.
 */
export async function provideToolchain(root: string, layout: KernelLayout, say: (m: string) => void): Promise<Toolchain> {
  const compiler = await readCompiler(layout.config);
  if (await hostMatches(compiler)) return compiler;
  const release = requireAbi(layout.abi).release;
  const buildRoot = await ensureBuildRoot(root, release, compiler, aptFor(layout, root), say);
  const line = await compilerVersionLine({ compiler: compiler.cc, buildRoot: buildRoot.dir });
  if (line !== compiler.versionText) {
    const host = await hostCompilerVersion(compiler.cc);
    throw new UserError(
      `${layout.abi} was built by "${compiler.versionText}"; this machine has ${host ? `"${host}"` : `no ${compiler.cc}`} and the ${release.suite} build root "${line}"`,
    );
  }
  say(`compiler: ${compiler.versionText} (build root ${buildRoot.dir})`);
  return { ...compiler, buildRoot: buildRoot.dir };
}

/** The toolchain prepare chose for a kernel, kept beside its files: graph time and executors read it, never re-decide. */
export const TOOLCHAIN_FILE = 'toolchain.json';

/**
 * The toolchain a previous prepare chose, without apt or mmdebstrap (graph time); undefined when none is ready. A
 * kernel prepared before toolchains were recorded was prepared with the machine's compiler, if it matches.
 */
export async function knownToolchain(layout: KernelLayout): Promise<Toolchain | undefined> {
  const recorded = await readFile(join(layout.dir, TOOLCHAIN_FILE), 'utf8').then((t) => JSON.parse(t) as Toolchain, () => undefined);
  if (recorded) return !recorded.buildRoot || (await exists(join(recorded.buildRoot, 'usr'))) ? recorded : undefined;
  const compiler = await readCompiler(layout.config).catch(() => undefined);
  return compiler && (await hostMatches(compiler)) ? compiler : undefined;
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
