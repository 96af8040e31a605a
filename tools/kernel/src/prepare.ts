import { copyFile, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { type KernelPackages, aptFor, packageList, packageSizes, resolveKernel } from './apt';
import { aptConfigFor, aptOptions, ensureLists, hostSuite } from './apt-config';
import { kbuildVariables } from './build-flags';
import { RECIPE, cacheRoot, exists, isDone, markDone, once } from './cache';
import { extractDeb, extractTarRange } from './deb';
import { UserError } from './errors';
import { run } from './exec';
import { removeStale } from './stale';
import { fixHeadersMakefile } from './headers';
import { type HostTools, describeHostTools, installHostToolsFromSource } from './host-tools';
import { parseRequest, releasePackages, requireAbi } from './release';
import { PhaseTimer, Progress, log } from './report';
import { TOOLCHAIN_FILE, knownToolchain, provideToolchain, toolchainFields, writeJson } from './kernel-toolchain';
import { toolchainCommand } from './toolchain-command';

/** What `hotsplice kernel prepare --json` prints: everything later stages need about the kernel. */
export interface KernelPaths {
  abi: string;
  version: string;
  /** The Debian release (bookworm, trixie), its kernel series (6.1, 6.12) and the ABI's flavour (amd64, rt-amd64…). */
  suite: string;
  series: string;
  flavour: string;
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
  /** kbuild's CC, the first word of the config's CONFIG_CC_VERSION_TEXT (gcc-12, x86_64-linux-gnu-gcc-14). */
  compiler: string;
  /** CONFIG_CC_VERSION_TEXT: the compiler's `--version` line, checked against the one that runs. */
  compilerVersion: string;
  /** The build root (of the kernel's Debian release) every compile of this kernel runs in; absent: this machine's. */
  buildRoot?: string;
}

/** What kernelPaths knows before the kernel's config is read: everything but the toolchain. */
export type KernelLayout = Omit<KernelPaths, 'compiler' | 'compilerVersion' | 'buildRoot'> & { dir: string };

export interface PrepareOptions {
  abi?: string;
  cache?: string;
  quiet?: boolean;
  timer?: PhaseTimer;
}

/** Where an ABI's files live in the cache; pure, so the same paths are known without preparing. */
export function kernelPaths(root: string, pkgs: Pick<KernelPackages, 'abi' | 'version'>, hostTools?: HostTools): KernelLayout {
  const dir = join(root, 'kernel', `${pkgs.abi}_${pkgs.version}`);
  const { abi } = pkgs;
  const name = requireAbi(abi);
  // A resolution cached before hostTools existed always used the kbuild package.
  const tools = hostTools ?? { from: 'package', package: releasePackages(name).kbuild, version: pkgs.version };
  return {
    dir,
    abi,
    version: pkgs.version,
    suite: name.release.suite,
    series: name.release.series,
    flavour: name.flavour,
    sourceTree: join(dir, 'src', releasePackages(name).source),
    headersTree: join(dir, 'headers', 'usr', 'src', `linux-headers-${abi}`),
    vmlinux: join(dir, 'dbg', 'usr', 'lib', 'debug', 'boot', `vmlinux-${abi}`),
    systemMap: join(dir, 'dbg', 'usr', 'lib', 'debug', 'boot', `System.map-${abi}`),
    vmlinuz: join(dir, 'image', 'boot', `vmlinuz-${abi}`),
    config: join(dir, 'image', 'boot', `config-${abi}`),
    symvers: join(dir, 'headers', 'usr', 'src', `linux-headers-${abi}`, 'Module.symvers'),
    modulesDir: join(dir, 'image', name.release.modulesDir, abi),
    hostTools: describeHostTools(tools),
  };
}

/** The kbuild directory built from the ABI's own source (the layout of a linux-kbuild package's /usr/lib/linux-kbuild-*). */
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
  const layout = kernelPaths(root, pkgs, pkgs.hostTools);
  const say = (message: string) => quiet || log(message);
  say(`hotsplice kernel: ${pkgs.abi} (Debian ${layout.suite} ${pkgs.version}), cache ${layout.dir}`);
  say(`kbuild host tools: ${layout.hostTools}${pkgs.hostTools.from === 'source' ? ` (apt has no ${pkgs.kbuild} ${pkgs.version})` : ''}`);

  const debs = await timer.run('download', () => download(root, pkgs, say, quiet));
  await timer.run('unpack', async () => {
    await once(join(layout.dir, 'headers'), headersKey(pkgs), async (dir) => {
      const kbuild = pkgs.hostTools.from === 'package' ? [pkgs.kbuild] : [];
      for (const pkg of [pkgs.headers, pkgs.headersCommon, ...kbuild]) {
        await extractDeb(debs[pkg], dir, { label: `unpack ${pkg}`, quiet });
      }
      // The headers packages link scripts/ and tools/ to ../../lib/<kbuild package>/: point that at our own build.
      if (!kbuild.length) {
        await mkdir(join(dir, 'usr', 'lib'), { recursive: true });
        await symlink(join('..', '..', '..', 'kbuild'), join(dir, 'usr', 'lib', pkgs.kbuild));
      }
      await fixHeadersMakefile(layout.headersTree);
    });
    await once(join(layout.dir, 'image'), pkgs.version, (dir) =>
      extractDeb(debs[pkgs.image], dir, { label: `unpack ${pkgs.image}`, quiet }),
    );
    // Of the ~1 GB -dbg package only System.map and vmlinux are needed; tar stops once it has both.
    await once(join(layout.dir, 'dbg'), pkgs.version, (dir) =>
      extractDeb(debs[pkgs.dbg], dir, {
        label: `unpack ${pkgs.dbg} (vmlinux, System.map)`,
        members: [`./usr/lib/debug/boot/System.map-${pkgs.abi}`, `./usr/lib/debug/boot/vmlinux-${pkgs.abi}`],
        quiet,
      }),
    );
    const fresh = await once(join(layout.dir, 'src'), pkgs.version, (dir) => unpackSource(debs[pkgs.source], dir, quiet));
    if (fresh) {
      await rm(join(layout.dir, 'prepared'), { recursive: true, force: true });
      await rm(sourceKbuildDir(layout.dir), { recursive: true, force: true });
    }
  });
  const toolchain = await timer.run('build root', () => provideToolchain(root, layout, say));
  await writeJson(join(layout.dir, TOOLCHAIN_FILE), toolchain);
  const paths: KernelPaths & { dir: string } = { ...layout, ...toolchainFields(toolchain) };
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
  requested = sameRequest(requested);
  try {
    const cached = JSON.parse(await readFile(resolvedFile(cache, requested), 'utf8')) as { key: string; pkgs: KernelPackages };
    if (JSON.parse(cached.key).requested !== requested) return undefined;
    return await preparedPaths(cache, cached.pkgs);
  } catch {
    return undefined;
  }
}

/** The paths of a resolved kernel when its prepared tree (and source-built kbuild, if any) is done. */
export async function preparedPaths(cache: string, pkgs: Pick<KernelPackages, 'abi' | 'version' | 'hostTools'>): Promise<KernelPaths | undefined> {
  const layout = kernelPaths(cache, pkgs, pkgs.hostTools);
  const toolchain = await knownToolchain(layout);
  if (!toolchain) return undefined;
  const { dir, ...paths } = { ...layout, ...toolchainFields(toolchain) };
  if (!(await isDone(join(dir, 'prepared'), preparedKey(paths)))) return undefined;
  if (pkgs.hostTools?.from === 'source' && !(await isDone(sourceKbuildDir(dir), hostToolsKey(paths)))) return undefined;
  return paths;
}

/** Whether an ABI at a version is prepared (whichever way its kbuild host tools came). */
export async function isPrepared(cache: string, abi: string, version: string): Promise<boolean> {
  const sources: HostTools[] = [{ from: 'package', package: releasePackages(requireAbi(abi)).kbuild, version }, { from: 'source', version }];
  for (const hostTools of sources) if (await preparedPaths(cache, { abi, version, hostTools })) return true;
  return false;
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
/** `newest-<the machine's release>` is `newest`: one cached answer for both. */
function sameRequest(requested: string): string {
  return requested === `newest-${hostSuite()}` ? 'newest' : requested;
}

async function resolveCached(root: string, requested = 'newest'): Promise<KernelPackages> {
  requested = sameRequest(requested);
  const file = resolvedFile(root, requested);
  const request = parseRequest(requested, hostSuite());
  const release = request.kind === 'abi' ? request.name.release : request.release;
  const listsStamp = await ensureLists(aptConfigFor(release, root), release);
  const key = JSON.stringify({ listsStamp, requested, recipe: RECIPE, resolver: RESOLVER });
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as { key: string; pkgs: KernelPackages };
    if (cached.key === key) return cached.pkgs;
  } catch {
    // no cached answer yet
  }
  const pkgs = await resolveKernel(requested, root);
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
      const apt = aptFor(pkgs, root);
      const sizes = await packageSizes(pkgs, missing, apt);
      const total = missing.reduce((sum, pkg) => sum + (sizes[pkg] ?? 0), 0);
      const progress = new Progress('download', total, quiet);
      const poll = setInterval(() => void bytesUnder(partial).then((n) => progress.update(n)), 500);
      try {
        await run('apt-get', [...aptOptions(apt), 'download', '-q', ...missing.map((pkg) => `${pkg}=${pkgs.version}`)], { cwd: partial });
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

/** linux-source-<series> ships the tree as one tarball inside the package: extract that, then unpack it. */
export async function unpackSource(deb: string, dir: string, quiet: boolean): Promise<void> {
  const source = basename(deb).split('_', 1)[0]!; // linux-source-6.1_6.1.192-3_all.deb
  const member = `./usr/src/${source}.tar.xz`;
  await extractDeb(deb, dir, { label: `unpack ${source}.deb`, members: [member], quiet });
  const tarball = join(dir, member);
  const { size } = await stat(tarball);
  await extractTarRange(tarball, 0, size, tarball, dir, { label: `unpack ${source}.tar.xz`, quiet });
  await rm(join(dir, 'usr'), { recursive: true });
}

/**
 * The prepared tree's marker key: a change of package version, of the make variables (the compiler among them) or
 * of the build root prepares again. A tree the machine's own compiler prepares keeps the key it always had.
 */
export function preparedKey(paths: PreparedKeyFields): string {
  return JSON.stringify({ version: paths.version, vars: kbuildVariables(paths), ...(paths.buildRoot ? { buildRoot: paths.buildRoot } : {}) });
}

type PreparedKeyFields = Pick<KernelPaths, 'version' | 'sourceTree' | 'abi' | 'compiler' | 'buildRoot'>;

/** The source-built kbuild directory follows the prepared tree it was copied from. */
export function hostToolsKey(paths: PreparedKeyFields): string {
  return JSON.stringify({ hostTools: 'from source', prepared: preparedKey(paths) });
}

/**
 * The options Debian's config sets that the tree's config after olddefconfig has otherwise ("CONFIG_X: y -> not
 * set"). Options only the tree's config has (values Kconfig fills in that the package's copy leaves out, such as
 * CONFIG_BUILD_SALT) do not count.
 */
export function configChanges(debian: string, tree: string): string[] {
  const values = (text: string) => {
    const map = new Map<string, string>();
    for (const line of text.split('\n')) {
      const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
      const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
      if (set) map.set(set[1]!, set[2]!);
      else if (unset) map.set(unset[1]!, 'not set');
    }
    return map;
  };
  const mine = values(tree);
  return [...values(debian)].filter(([k, v]) => (mine.get(k) ?? 'not set') !== v).map(([k, v]) => `${k}: ${v} -> ${mine.get(k) ?? 'not set'}`);
}

/** Debian's config, `olddefconfig`, `prepare modules_prepare` with the flags every object build will use. */
async function prepareSourceTree(paths: KernelPaths & { dir: string }, quiet: boolean): Promise<void> {
  const vars = kbuildVariables(paths);
  const marker = join(paths.dir, 'prepared');
  const key = preparedKey(paths);
  if (await isDone(marker, key)) return;
  await rm(marker, { recursive: true, force: true });
  if (!(await exists(paths.sourceTree))) throw new UserError(`${paths.sourceTree} is missing; run prepare again`);
  const make = async (args: string[]) => {
    const [file, argv] = await toolchainCommand(paths, 'make', ['-C', paths.sourceTree, '-s', `-j${jobs()}`, ...vars, ...args]);
    return run(file, argv, { stdout: quiet ? 'pipe' : ['pipe', 'inherit'] }, `make ${args.join(' ')} in ${paths.sourceTree}`);
  };
  await copyFile(paths.config, join(paths.sourceTree, '.config'));
  await make(['olddefconfig']);
  const changed = configChanges(await readFile(paths.config, 'utf8'), await readFile(join(paths.sourceTree, '.config'), 'utf8'));
  if (changed.length) {
    // Kconfig turns options off whose tools it cannot find (pahole: DEBUG_INFO_BTF; gcc plugins; rustc): objects
    // built from such a tree are not the shipped kernel's.
    throw new UserError(`olddefconfig changed Debian's config of ${paths.abi} with ${paths.compiler}${paths.buildRoot ? ' in its build root' : ''}: ${changed.slice(0, 5).join('; ')}`);
  }
  await make(['prepare', 'modules_prepare']);
  await mkdir(marker, { recursive: true });
  await markDone(marker, key);
}

function jobs(): number {
  return Math.max(1, availableParallelism());
}
