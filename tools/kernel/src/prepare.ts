import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
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
}

export interface PrepareOptions {
  abi?: string;
  cache?: string;
  quiet?: boolean;
  timer?: PhaseTimer;
}

/** Where an ABI's files live in the cache; pure, so the same paths are known without preparing. */
export function kernelPaths(root: string, pkgs: Pick<KernelPackages, 'abi' | 'version'>): KernelPaths & { dir: string } {
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
  };
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
  const paths = kernelPaths(root, pkgs);
  const say = (message: string) => quiet || log(message);
  say(`hotsplice kernel: ${pkgs.abi} (Debian ${pkgs.version}), cache ${paths.dir}`);

  const debs = await timer.run('download', () => download(root, pkgs, say, quiet));
  await timer.run('unpack', async () => {
    await once(join(paths.dir, 'headers'), pkgs.version, async (dir) => {
      for (const pkg of [pkgs.headers, pkgs.headersCommon, pkgs.kbuild]) {
        await extractDeb(debs[pkg], dir, { label: `unpack ${pkg}`, quiet });
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
    if (fresh) await rm(join(paths.dir, 'prepared'), { recursive: true, force: true });
  });
  await timer.run('prepare tree', () => prepareSourceTree(paths, quiet));
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
    const cached = JSON.parse(await readFile(join(cache, 'resolved.json'), 'utf8')) as { key: string; pkgs: KernelPackages };
    if (JSON.parse(cached.key).requested !== requested) return undefined;
    const { dir, ...paths } = kernelPaths(cache, cached.pkgs);
    return (await isDone(join(dir, 'prepared'), preparedKey(paths))) ? paths : undefined;
  } catch {
    return undefined;
  }
}

/** apt-cache takes ~1 s per call; remember the answer until apt's package lists change. */
async function resolveCached(root: string, requested?: string): Promise<KernelPackages> {
  const listsStamp = await stat('/var/lib/apt/lists').then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const file = join(root, 'resolved.json');
  const key = JSON.stringify({ listsStamp, requested: requested ?? 'newest', recipe: RECIPE });
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
function preparedKey(paths: Pick<KernelPaths, 'version' | 'sourceTree' | 'abi'>): string {
  return JSON.stringify({ version: paths.version, vars: kbuildVariables(paths.sourceTree, paths.abi) });
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
