import { createHash } from 'node:crypto';
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AptConfig, aptOptions, ensureLists, releaseSources } from './apt-config';
import { RECIPE, isDone, once } from './cache';
import { UserError } from './errors';
import { run } from './exec';
import type { DebianRelease } from './release';
import { type KernelCompiler, compilerPackage } from './toolchain';

/**
 * What building kernel objects and modules needs, beside the compiler itself: kbuild's make, binutils (as, ld,
 * objcopy), libc headers (CC_CAN_LINK and HOSTCC's host programs: fixdep, modpost, genksyms, objtool), flex and
 * bison (Kconfig, genksyms), bc (timeconst.h), libelf (objtool), libssl (certs' extract-cert), pahole (Kconfig reads
 * its version: without it olddefconfig turns DEBUG_INFO_BTF off), awk (kbuild's scripts), python3 (6.12's `make
 * prepare` builds tools/bpf/resolve_btfids, whose libbpf runs scripts/bpf_doc.py). `gcc` is HOSTCC.
 */
export const BUILD_ROOT_PACKAGES = ['make', 'gcc', 'binutils', 'libc6-dev', 'flex', 'bison', 'bc', 'libelf-dev', 'libssl-dev', 'dwarves', 'mawk', 'python3'];

/** The packages of one release's build root for `compiler`. */
export function buildRootPackages(compiler: KernelCompiler): string[] {
  return [compilerPackage(compiler.cc), ...BUILD_ROOT_PACKAGES];
}

/** `apt-cache policy` Candidate versions by package. */
export function parseCandidates(policy: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of policy.matchAll(/^(\S+):\n\s+Installed: .*\n\s+Candidate: (\S+)$/gm)) out[m[1]!] = m[2]!;
  return out;
}

/** A build root: the directory, its key (release + every named package at its version) and what made it. */
export interface BuildRoot {
  dir: string;
  key: string;
  suite: string;
  packages: Record<string, string>;
  /** Seconds mmdebstrap took when it was made. */
  createdSeconds: number;
  /** The release's package lists when the versions were asked (apt-config.ts ensureLists). */
  listsStamp?: number;
}

const CURRENT = 'current.json';

function buildRootsDir(cache: string): string {
  return join(cache, 'buildroot');
}

/** The build root of `release` that prepare made last (graph time: no apt, no mmdebstrap); undefined if none. */
export async function currentBuildRoot(cache: string, release: DebianRelease): Promise<BuildRoot | undefined> {
  try {
    const root = JSON.parse(await readFile(join(buildRootsDir(cache), `${release.suite}-${CURRENT}`), 'utf8')) as BuildRoot;
    return (await isDone(root.dir, root.key)) ? root : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The build root of `release` with the kernel's compiler, made once per set of package versions with mmdebstrap
 * (the release's packages from the machine's own mirrors, signed by Debian's keyring) and kept in the cache.
 */
export async function ensureBuildRoot(
  cache: string,
  release: DebianRelease,
  compiler: KernelCompiler,
  apt: AptConfig,
  say: (message: string) => void,
): Promise<BuildRoot> {
  const names = buildRootPackages(compiler);
  // Asking apt for the versions takes ~2 s: the last answer holds until the release's package lists change.
  const listsStamp = await ensureLists(apt, release);
  const last = await currentBuildRoot(cache, release);
  if (last && last.listsStamp === listsStamp && names.every((n) => last.packages[n])) return last;
  const packages = parseCandidates(await run('apt-cache', [...aptOptions(apt), 'policy', ...names]));
  const missing = names.filter((n) => !packages[n] || packages[n] === '(none)');
  if (missing.length) throw new UserError(`Debian ${release.suite} offers no ${missing.join(', ')}: cannot make a build root for ${compiler.versionText}`);
  const key = JSON.stringify({ suite: release.suite, packages, recipe: RECIPE });
  const dir = join(buildRootsDir(cache), `${release.suite}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
  let createdSeconds = 0;
  const made = await once(dir, key, async (target) => {
    // The release's sources, one-line form, as mmdebstrap takes them (the private apt configuration's).
    const sources = await releaseSources(release);
    say(`build root: making ${release.suite} with ${names.join(', ')} (mmdebstrap)`);
    const started = Date.now();
    // mmdebstrap wants an empty directory or none; `once` has just made it empty.
    await run('mmdebstrap', ['--quiet', '--variant=essential', `--include=${names.join(',')}`, release.suite, target, ...sources]);
    createdSeconds = (Date.now() - started) / 1000;
    await writeFile(join(target, '.hotsplice-build-root.json'), `${JSON.stringify({ suite: release.suite, packages, createdSeconds }, null, 2)}\n`);
  });
  if (!made) createdSeconds = (JSON.parse(await readFile(join(dir, '.hotsplice-build-root.json'), 'utf8')) as BuildRoot).createdSeconds;
  const root: BuildRoot = { dir, key, suite: release.suite, packages, createdSeconds, listsStamp };
  if (made) say(`build root: ${release.suite} created in ${createdSeconds.toFixed(1)} s (${dir})`);
  const current = join(buildRootsDir(cache), `${release.suite}-${CURRENT}`);
  await writeFile(`${current}.tmp`, JSON.stringify(root));
  await rename(`${current}.tmp`, current);
  return root;
}

/** Top-level directories a build root provides itself; everything else of the machine is bound in at its own path. */
const ROOT_OWN = new Set(['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc', 'proc', 'dev', 'sys', 'run', 'boot']);

/**
 * The argv that runs `file args` inside a build root with bubblewrap: the root's /usr and /etc (merged /usr: /bin,
 * /lib… are its links), and every other top-level directory of this machine (the cache, the workspace, /tmp) bound
 * at the same path, so the tree's recorded commands, `-fdebug-prefix-map` and every cache key see the same paths
 * inside and out. The working directory and the environment carry over, except PATH.
 */
export async function inBuildRoot(root: string, file: string, args: readonly string[], cwd = process.cwd()): Promise<[string, string[]]> {
  const bind: string[] = ['--ro-bind', join(root, 'usr'), '/usr', '--ro-bind', join(root, 'etc'), '/etc'];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isSymbolicLink() && ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'].includes(entry.name)) {
      bind.push('--symlink', `usr/${entry.name}`, `/${entry.name}`);
    }
  }
  for (const entry of await hostTopLevel()) bind.push('--bind', `/${entry}`, `/${entry}`);
  // The machine's PATH may name bound directories (a ~/.cargo/bin rustc made Kconfig set CONFIG_RUSTC_VERSION):
  // inside, only the build root's own programs.
  const path = ['--setenv', 'PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  return ['bwrap', [...bind, '--dev-bind', '/dev', '/dev', '--proc', '/proc', '--ro-bind', '/sys', '/sys', ...path, '--die-with-parent', '--chdir', cwd, file, ...args]];
}

let topLevel: Promise<string[]> | undefined;

async function hostTopLevel(): Promise<string[]> {
  topLevel ??= readdir('/', { withFileTypes: true }).then((entries) =>
    entries.filter((e) => e.isDirectory() && !e.isSymbolicLink() && !ROOT_OWN.has(e.name)).map((e) => e.name),
  );
  return topLevel;
}
