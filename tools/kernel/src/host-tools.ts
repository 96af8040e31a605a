import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exists } from './cache';
import { UserError } from './errors';

/**
 * Where the headers tree's `scripts/` and `tools/` (fixdep, modpost, genksyms, objtool, kbuild's Makefiles) come
 * from: Debian's kbuild package when apt still offers it at the ABI's exact version, else the ABI's own source
 * tree. Another version's kbuild is never used: its objtool and Makefiles belong to another kernel.
 */
export type HostTools = { from: 'package'; package: string; version: string } | { from: 'source'; version: string };

/**
 * The decision alone: exact version match of the kbuild package (bookworm names it once for the series,
 * `linux-kbuild-6.1`, so apt keeps only some versions; trixie once per ABI), or build from the source of `version`.
 */
export function chooseHostTools(version: string, kbuildPackage: string, offeredKbuild: readonly string[]): HostTools {
  return offeredKbuild.includes(version) ? { from: 'package', package: kbuildPackage, version } : { from: 'source', version };
}

/** The line prepare prints and KernelPaths.hostTools holds. */
export function describeHostTools(tools: HostTools): string {
  return tools.from === 'package' ? `kbuild package ${tools.package} ${tools.version}` : `built from source ${tools.version}`;
}

/**
 * The host programs an external module build runs from the headers tree (scripts/Makefile.build,
 * Makefile.modpost, Makefile.lib): fixdep after every compile, genksyms for exported symbols (CONFIG_MODVERSIONS),
 * objtool on every object (CONFIG_OBJTOOL), modpost once. `make prepare` builds all four in the source tree.
 * recordmcount is not needed: Debian's config has CONFIG_FTRACE_MCOUNT_USE_CC (gcc -mrecord-mcount).
 */
export const HOST_PROGRAMS = ['scripts/basic/fixdep', 'scripts/genksyms/genksyms', 'scripts/mod/modpost', 'tools/objtool/objtool'];

/** Written beside the tools: where they came from, and the sha256 of each program. */
export const PROVENANCE_FILE = 'hotsplice-host-tools.json';

export interface Provenance {
  hostTools: string;
  sha256: Record<string, string>;
}

/** Intermediate files of building the host programs (C sources, objects, kbuild's .cmd files): not kbuild's. */
function isBuildIntermediate(name: string): boolean {
  return /\.(c|h|o|a)$/.test(name) || (name.startsWith('.') && name.endsWith('.cmd')) || name === '.gitignore';
}

/**
 * Lay out a kbuild directory (the shape of a linux-kbuild package: `scripts/`, `tools/objtool/objtool`) from a source
 * tree that `make prepare modules_prepare` has built, copying (not linking) so a later rebuild in the source tree
 * cannot change the tools external modules are built with.
 */
export async function installHostToolsFromSource(sourceTree: string, dest: string, version: string): Promise<Provenance> {
  for (const program of HOST_PROGRAMS) {
    if (!(await exists(join(sourceTree, program)))) {
      throw new UserError(`${join(sourceTree, program)} is missing after make prepare modules_prepare; cannot build kbuild's host tools`);
    }
  }
  await copyTree(join(sourceTree, 'scripts'), join(dest, 'scripts'));
  await mkdir(join(dest, 'tools', 'objtool'), { recursive: true });
  await copyFile(join(sourceTree, 'tools/objtool/objtool'), join(dest, 'tools/objtool/objtool'));
  const provenance: Provenance = { hostTools: describeHostTools({ from: 'source', version }), sha256: {} };
  for (const program of HOST_PROGRAMS) provenance.sha256[program] = sha256(await readFile(join(dest, program)));
  await writeFile(join(dest, PROVENANCE_FILE), `${JSON.stringify(provenance, null, 2)}\n`);
  return provenance;
}

/** The provenance a source-built kbuild directory records, or undefined for Debian's package (it has none). */
export async function readProvenance(kbuildDir: string): Promise<Provenance | undefined> {
  return readFile(join(kbuildDir, PROVENANCE_FILE), 'utf8').then(
    (text) => JSON.parse(text) as Provenance,
    () => undefined,
  );
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function copyTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || isBuildIntermediate(entry.name)) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(to, source.slice(from.length + 1));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
    await chmod(target, (await stat(source)).mode & 0o7777); // scripts and programs must stay executable
  }
}
