import { copyFile, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type KernelPackages, packageList, packageSizes, resolveKernel } from './apt';
import { kbuildVariables } from './build-flags';
import { RECIPE, cacheRoot, exists, isDone, markDone, once } from './cache';
import { extractDeb, extractTarRange } from './deb';
import { UserError } from './errors';
import { run } from './exec';
import { removeStale } from './stale';
import { fixHeadersMakefile } from './headers';
import { type HostTools, KBUILD_PACKAGE, describeHostTools, installHostToolsFromSource } from './host-tools';
import { PhaseTimer, Progress, log } from './report';

/** What `hotsplice kernel prepare --json` prints: everything later stages need about the kernel. */
export interface KernelPaths {
  abi: string;
  version: string;
  sourceTree: string;
  headersTree: string;
  vmlinux: string;
  systemMap: string;
  vmlinuz: string;
  config: string;
  symvers: string;
  modulesDir: string;
  /** Where the headers tree's kbuild host tools came from: "kbuild package linux-kbuild-6.1 6.1.192-3" or "built from source 6.1.192-2". */
  hostTools: string;
}

export interface PrepareOptions {
  abi?: string;
  cache?: string;
  quiet?: boolean;
  timer?: PhaseTimer;
}

/** Where an ABI's files live in the cache; pure, so the same paths are known without preparing. */
export function kernelPaths(
  root: string,
  pkgs: Pick<KernelPackages, 'abi' | 'version'>,
  // A resolution cached before hostTools existed always used the kbuild package.
  hostTools: HostTools = { from: 'package', package: KBUILD_PACKAGE, version: pkgs.version },
): KernelPaths & { dir: string } {
  const dir = join(root, 'kernel', `${pkgs.abi}_${pkgs.version}`);
  const { abi } = pkgs;
  return {
    dir,
    abi,
    version: pkgs.version,
    sourceTree: join(dir, 'src', 'linux-source-6.1'),
    headersTree: join(dir, 'headers', 'usr', 'src', `linux-headers-${abi}`),
    vmlinux: join(dir, 'dbg', 'usr', 'lib', 'debug', 'boot', `vmlinux-${abi}`),
    systemMap: join(dir, 'dbg', 'usr', 'lib', 'debug', 'boot', `System.map-${abi}`),
    vmlinuz: join(dir, 'image', 'boot', `vmlinuz-${abi}`),
    config: join(dir, 'image', 'boot', `config-${abi}`),
    symvers: join(dir, 'headers', 'usr', 'src', `linux-headers-${abi}`, 'Module.symvers'),
    modulesDir: join(dir, 'image', 'lib', 'modules', abi),
    hostTools: describeHostTools(hostTools),
  };
}

/** The kbuild directory built from the ABI's own source (same layout as linux-kbuild-6.1's /usr/lib/linux-kbuild-6.1). */
export function sourceKbuildDir(dir: string): string {
  return join(dir, 'kbuild');
}

/** The marker key of the headers step: unchanged for the package (prepared trees stay valid), its own for source. */
function headersKey(pkgs: KernelPackages): string {
  return pkgs.hostTools.from === 'package' ? pkgs.version : `${pkgs.version} kbuild from source`;
}

/**
 * Fetch, unpack and prepare one Debian kernel (idempotent, crash-safe: every step writes its marker last and
 * a step without its marker is redone from scratch).
 */
export async function prepareKernel(options: PrepareOptions = {}): Promise<KernelPaths> {
  const timer = options.timer ?? new PhaseTimer();
  const root = options.cache ?? cacheRoot();
  const quiet = options.quiet ?? false;
  const pkgs = await timer.run('resolve', () => resolveCached(root, options.abi));
  const paths = kernelPaths(root, pkgs, pkgs.hostTools);
  const say = (message: string) => quiet || log(message);
  say(`hotsplice kernel: ${pkgs.abi} (Debian ${pkgs.version}), cache ${paths.dir}`);
  say(`kbuild host tools: ${paths.hostTools}${pkgs.hostTools.from === 'source' ? ` (apt has no ${KBUILD_PACKAGE} ${pkgs.version})` : ''}`);

  const debs = await timer.run('download', () => download(root, pkgs, say, quiet));
  await timer.run('unpack', async () => {
    await once(join(paths.dir, 'headers'), headersKey(pkgs), async (dir) => {
      const kbuild = pkgs.hostTools.from === 'package' ? [pkgs.kbuild] : [];
      for (const pkg of [pkgs.headers, pkgs.headersCommon, ...kbuild]) {
        await extractDeb(debs[pkg], dir, { label: `unpack ${pkg}`, quiet });
      }
      // The headers packages link scripts/ and tools/ to ../../lib/linux-kbuild-6.1/: point that at our own build.
      if (!kbuild.length) {
        await mkdir(join(dir, 'usr', 'lib'), { recursive: true });
        await symlink(join('..', '..', '..', 'kbuild'), join(dir, 'usr', 'lib', KBUILD_PACKAGE));
      }
      await fixHeadersMakefile(paths.headersTree);
    });
    await once(join(paths.dir, 'image'), pkgs.version, (dir) =>
      extractDeb(debs[pkgs.image], dir, { label: `unpack ${pkgs.image}`, quiet }),
    );
    // Of the 858 MB -dbg package only System.map and vmlinux are needed; tar stops once it has both.
    await once(join(paths.dir, 'dbg'), pkgs.version, (dir) =>
      extractDeb(debs[pkgs.dbg], dir, {
        label: `unpack ${pkgs.dbg} (vmlinux, System.map)`,
        members: [`./usr/lib/debug/boot/System.map-${pkgs.abi}`, `./usr/lib/debug/boot/vmlinux-${pkgs.abi}`],
        quiet,
      }),
    );
    const fresh = await once(join(paths.dir, 'src'), pkgs.version, (dir) => unpackSource(debs[pkgs.source], dir, quiet));
    if (fresh) {
      await rm(join(paths.dir, 'prepared'), { recursive: true, force: true });
      await rm(sourceKbuildDir(paths.dir), { recursive: true, force: true });
    }
  });
  await timer.run('prepare tree', () => prepareSourceTree(paths, quiet));
  if (pkgs.hostTools.from === 'source') {
    // `make prepare modules_prepare` has just built fixdep, genksyms, modpost and objtool from this ABI's source.
    await timer.run('host tools', () =>
      once(sourceKbuildDir(paths.dir), hostToolsKey(paths), (dir) => installHostToolsFromSource(paths.sourceTree, dir, pkgs.version).then(() => undefined)),
    );
  }
  if (!options.timer && !quiet) log(timer.summary('hotsplice kernel prepare'));
  const { dir: _dir, ...result } = paths;
  return result;
}

/**
 * The kernel a previous `prepare` left ready, without asking apt (graph-time callers such as Nx's createNodes must
 * not take seconds); undefined when it was never prepared for this request.
 */
export async function preparedKernel(requested = 'newest', cache = cacheRoot()): Promise<KernelPaths | undefined> {
  try {
    const cached = JSON.parse(await readFile(resolvedFile(cache, requested), 'utf8')) as { key: string; pkgs: KernelPackages };
    if (JSON.parse(cached.key).requested !== requested) return undefined;
    const { dir, ...paths } = kernelPaths(cache, cached.pkgs, cached.pkgs.hostTools);
    if (!(await isDone(join(dir, 'prepared'), preparedKey(paths)))) return undefined;
    if (cached.pkgs.hostTools?.from === 'source' && !(await isDone(sourceKbuildDir(dir), hostToolsKey(paths)))) return undefined;
    return paths;
  } catch {
    return undefined;
  }
}

/** Bumped when resolveKernel's answer gains information (2: where kbuild's host tools come from). */
const RESOLVER = 2;

/**
 * One cached answer per request, so preparing `--abi 6.1.0-56-amd64` leaves the newest ABI's answer (which Nx's
 * graph reads) in place. The name is checked before it becomes part of a path (apt checks the ABI itself later).
 */
function resolvedFile(root: string, requested: string): string {
  if (requested === 'newest') return join(root, 'resolved.json');
  if (!/^[\w.+-]+$/.test(requested)) throw new UserError(`not a kernel ABI: "${requested}"`);
  return join(root, `resolved-${requested}.json`);
}

/** apt-cache takes ~1 s per call; remember the answer until apt's package lists change. */
async function resolveCached(root: string, requested?: string): Promise<KernelPackages> {
  const listsStamp = await stat('/var/lib/apt/lists').then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const file = resolvedFile(root, requested ?? 'newest');
  const key = JSON.stringify({ listsStamp, requested: requested ?? 'newest', recipe: RECIPE, resolver: RESOLVER });
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as { key: string; pkgs: KernelPackages };
    if (cached.key === key) return cached.pkgs;
  } catch {
    // no cached answer yet
  }
  const pkgs = await resolveKernel(requested);
  await mkdir(root, { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify({ key, pkgs }));
  await rename(`${file}.tmp`, file);
  return pkgs;
}

/** `apt-get download` each package (all of the kernel's, or `names` of them) once into the cache, keyed by name and version. */
export async function download(
  root: string,
  pkgs: KernelPackages,
  say: (m: string) => void,
  quiet: boolean,
  names: string[] = packageList(pkgs),
): Promise<Record<string, string>> {
  const dir = join(root, 'debs');
  await mkdir(dir, { recursive: true });
  const found = new Map((await readdir(dir)).map((name) => [name.split('_').slice(0, 2).join('_'), join(dir, name)]));
  // Debian escapes an epoch's ':' as %3a in file names; these packages have none.
  const missing = names.filter((pkg) => !found.has(`${pkg}_${pkgs.version}`));
  if (missing.length) {
    say(`downloading ${missing.join(', ')}`);
    // apt-get writes into the working directory; a private one keeps half-downloaded files out of the cache.
    // It goes whatever happens (apt can fail on a version it no longer has); a killed run's goes on the next one.
    await removeStale(dir, '.partial-');
    const partial = join(dir, `.partial-${process.pid}`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial);
    try {
      const sizes = await packageSizes(pkgs, missing);
      const total = missing.reduce((sum, pkg) => sum + (sizes[pkg] ?? 0), 0);
      const progress = new Progress('download', total, quiet);
      const poll = setInterval(() => void bytesUnder(partial).then((n) => progress.update(n)), 500);
      try {
        await run('apt-get', ['download', '-q', ...missing.map((pkg) => `${pkg}=${pkgs.version}`)], { cwd: partial });
      } finally {
        clearInterval(poll);
      }
      progress.finish();
      for (const name of await readdir(partial)) {
        await rename(join(partial, name), join(dir, name));
        found.set(name.split('_').slice(0, 2).join('_'), join(dir, name));
      }
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  const debs: Record<string, string> = {};
  for (const pkg of names) {
    const file = found.get(`${pkg}_${pkgs.version}`);
    if (!file) throw new UserError(`apt-get download did not produce ${pkg}_${pkgs.version}`);
    debs[pkg] = file;
  }
  return debs;
}

/** Bytes of all files below `dir` (apt-get's partial downloads included). */
async function bytesUnder(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.filter((e) => e.isFile()).map((e) => stat(join(e.parentPath, e.name)).then((s) => s.size, () => 0)),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** linux-source-6.1 ships the tree as one tarball inside the package: extract that, then unpack it. */
export async function unpackSource(deb: string, dir: string, quiet: boolean): Promise<void> {
  const member = './usr/src/linux-source-6.1.tar.xz';
  await extractDeb(deb, dir, { label: 'unpack linux-source-6.1.deb', members: [member], quiet });
  const tarball = join(dir, member);
  const { size } = await stat(tarball);
  await extractTarRange(tarball, 0, size, tarball, dir, { label: 'unpack linux-source-6.1.tar.xz', quiet });
  await rm(join(dir, 'usr'), { recursive: true });
}

/** The prepared tree's marker key: a change of package version or of the make variables prepares again. */
export function preparedKey(paths: Pick<KernelPaths, 'version' | 'sourceTree' | 'abi'>): string {
  return JSON.stringify({ version: paths.version, vars: kbuildVariables(paths.sourceTree, paths.abi) });
}

/** The source-built kbuild directory follows the prepared tree it was copied from. */
export function hostToolsKey(paths: Pick<KernelPaths, 'version' | 'sourceTree' | 'abi'>): string {
  return JSON.stringify({ hostTools: 'from source', prepared: preparedKey(paths) });
}

/** Debian's config, `olddefconfig`, `prepare modules_prepare` with the flags every object build will use. */
async function prepareSourceTree(paths: KernelPaths & { dir: string }, quiet: boolean): Promise<void> {
  const vars = kbuildVariables(paths.sourceTree, paths.abi);
  const marker = join(paths.dir, 'prepared');
  const key = preparedKey(paths);
  if (await isDone(marker, key)) return;
  await rm(marker, { recursive: true, force: true });
  if (!(await exists(paths.sourceTree))) throw new UserError(`${paths.sourceTree} is missing; run prepare again`);
  const make = (args: string[]) =>
    run('make', ['-C', paths.sourceTree, '-s', `-j${jobs()}`, ...vars, ...args], {
      stdout: quiet ? 'pipe' : ['pipe', 'inherit'],
    });
  await copyFile(paths.config, join(paths.sourceTree, '.config'));
  await make(['olddefconfig']);
  await make(['prepare', 'modules_prepare']);
  await mkdir(marker, { recursive: true });
  await markDone(marker, key);
}

function jobs(): number {
  return Math.max(1, availableParallelism());
}
