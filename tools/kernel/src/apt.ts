import { run } from './exec';
import { UserError } from './errors';
import { type AptConfig, aptConfigFor, aptOptions, ensureLists, hostSuite } from './apt-config';
import { type HostTools, chooseHostTools } from './host-tools';
import {
  type DebianRelease,
  type Flavour,
  type ReleasePackages,
  compareAbis,
  parseAbi,
  parseRequest,
  releasePackages,
  requireAbi,
  RELEASES,
  unbuildableFlavour,
} from './release';

/** The Debian packages one kernel ABI needs, all at the same source version. */
export interface KernelPackages extends ReleasePackages {
  abi: string; // e.g. "6.1.0-56-amd64", "6.12.118+deb13-amd64"
  version: string; // Debian package version, e.g. "6.1.192-2"
  /** The Debian release (absent in resolutions cached before releases existed: those are all bookworm). */
  suite?: string;
  /** Debian's kbuild package at exactly `version`, or (not offered any more) built from this ABI's source. */
  hostTools: HostTools;
}

/** Download size of each package in `apt-cache show PKG=VER…` output, by package name. */
export function parseSizes(show: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const stanza of show.split(/\n\s*\n/)) {
    const pkg = /^Package: (\S+)$/m.exec(stanza)?.[1];
    const size = /^Size: (\d+)$/m.exec(stanza)?.[1];
    if (pkg && size) sizes[pkg] = Number(size);
  }
  return sizes;
}

/** The apt configuration that reaches a resolved kernel's release. */
export function aptFor(pkgs: Pick<KernelPackages, 'abi'>, cache: string): AptConfig {
  return aptConfigFor(requireAbi(pkgs.abi).release, cache);
}

/** Ask apt how many bytes each package of the kernel is, for download progress. */
export async function packageSizes(p: KernelPackages, names: string[], apt: AptConfig = { kind: 'host' }): Promise<Record<string, number>> {
  return parseSizes(await run('apt-cache', [...aptOptions(apt), 'show', ...names.map((pkg) => `${pkg}=${p.version}`)]));
}

/**
 * ABIs named by `apt-cache pkgnames linux-image-<series>` output, newest first: images of `release` (bookworm by
 * default) in the given flavours (the signed amd64 one by default; never -dbg or -unsigned).
 */
export function parseAbis(pkgnames: string, release: DebianRelease = RELEASES[0]!, flavours: readonly Flavour[] = ['amd64']): string[] {
  const abis = pkgnames
    .split('\n')
    .map((line) => /^linux-image-(\S+)$/.exec(line.trim())?.[1])
    .map((abi) => (abi ? parseAbi(abi) : undefined))
    .filter((name) => name !== undefined && name.release === release && flavours.includes(name.flavour))
    .map((name) => name!.abi);
  return [...new Set(abis)].sort(compareAbis);
}

/** Versions listed by `apt-cache madison PKG`, in apt's order (newest first). */
export function parseMadison(output: string, pkg: string): string[] {
  return output
    .split('\n')
    .map((line) => line.split('|').map((field) => field.trim()))
    .filter((fields) => fields.length >= 3 && fields[0] === pkg)
    .map((fields) => fields[1]);
}

/** The packages of `abi` at `version`; kbuild's host tools come from its package unless `hostTools` says otherwise. */
export function packagesFor(abi: string, version: string, hostTools?: HostTools): KernelPackages {
  const name = requireAbi(abi);
  const names = releasePackages(name);
  return { abi, version, suite: name.release.suite, ...names, hostTools: hostTools ?? { from: 'package', package: names.kbuild, version } };
}

/** The packages to download: kbuild only when its exact version is the one used. */
export function packageList(p: KernelPackages): string[] {
  const kbuild = p.hostTools.from === 'package' ? [p.kbuild] : [];
  return [p.source, p.headers, p.headersCommon, ...kbuild, p.image, p.dbg];
}

/**
 * Pick an ABI (the requested one, or the newest of `abis`) whose image version its linux-source package also
 * offers, and where its kbuild host tools come from (`madison` also lists the kbuild packages' versions).
 */
export function chooseKernel(abis: string[], madison: string, requested?: string): KernelPackages {
  const wanted = requested && !requested.startsWith('newest') ? requested : undefined;
  if (wanted && !abis.includes(wanted)) {
    throw new UserError(`unknown kernel ABI "${wanted}"; apt offers: ${abis.join(', ')}`);
  }
  for (const abi of wanted ? [wanted] : abis) {
    const names = packagesFor(abi, '');
    const sourceVersions = parseMadison(madison, names.source);
    const versions = parseMadison(madison, names.image);
    const version = versions.find((v) => sourceVersions.includes(v));
    if (version) {
      const hostTools = chooseHostTools(version, names.kbuild, parseMadison(madison, names.kbuild));
      return packagesFor(abi, version, hostTools);
    }
    if (wanted) {
      throw new UserError(
        `kernel ABI "${abi}" (${versions.join(', ') || 'no version'}) has no matching ${names.source} (apt offers ${sourceVersions.join(', ') || 'none'})`,
      );
    }
  }
  const source = abis.length ? packagesFor(abis[0]!, '').source : 'linux-source';
  throw new UserError(`no kernel ABI has a matching ${source} version; apt offers: ${abis.join(', ')}`);
}

/** The ABIs of one release and flavours apt offers (with a private configuration's lists fetched first). */
async function availableAbis(release: DebianRelease, apt: AptConfig, flavours: readonly Flavour[]): Promise<string[]> {
  return parseAbis(await run('apt-cache', [...aptOptions(apt), 'pkgnames', `linux-image-${release.series}`]), release, flavours);
}

/** `apt-cache madison` of every package the choice between `abis` needs: sources, kbuilds and images. */
async function madisonFor(abis: string[], apt: AptConfig): Promise<string> {
  const names = new Set<string>();
  for (const abi of abis) {
    const p = packagesFor(abi, '');
    names.add(p.source).add(p.kbuild).add(p.image);
  }
  return run('apt-cache', [...aptOptions(apt), 'madison', ...names]);
}

/**
 * Ask apt (two apt-cache calls, ~2 s) which packages make up the requested kernel: an ABI of any known release,
 * `newest` (the machine's own release) or `newest-<suite>[-<flavour>]`; and where its kbuild comes from.
 */
export async function resolveKernel(requested = 'newest', cache?: string): Promise<KernelPackages> {
  const request = parseRequest(requested, hostSuite());
  const why = unbuildableFlavour(request.kind === 'abi' ? request.name.flavour : request.flavour);
  if (why) throw new UserError(`cannot build for ${requested}: ${why}`);
  const release = request.kind === 'abi' ? request.name.release : request.release;
  const flavours = request.kind === 'abi' ? [request.name.flavour] : [request.flavour];
  const apt = cache ? aptConfigFor(release, cache) : ({ kind: 'host' } as AptConfig);
  await ensureLists(apt, release);
  const pattern = `linux-image-${release.series}.*-${flavours[0]}`;
  let abis = await availableAbis(release, apt, flavours);
  if (abis.length === 0 && apt.kind === 'host') {
    // A fresh machine may have empty package lists; they need one `apt-get update` (root).
    if (process.getuid?.() !== 0) {
      throw new UserError(`apt knows no ${pattern} package; as root run: apt-get update`);
    }
    await run('apt-get', ['update', '-qq']);
    abis = await availableAbis(release, apt, flavours);
  }
  if (abis.length === 0) throw new UserError(`apt offers no ${pattern} package (Debian ${release.debian}, ${release.suite})`);
  return chooseKernel(abis, await madisonFor(abis, apt), requested);
}

/** One row of `hotsplice kernel list`. */
export interface OfferedKernel {
  suite: string;
  abi: string;
  flavour: Flavour;
  /** The image's version that its source package also offers (what prepare would fetch), else the newest image. */
  version: string;
  /** False when apt has no linux-source at the image's version, or the flavour is not built from it (rt). */
  buildable: boolean;
}

/** Every kernel ABI apt offers across the known releases, each release newest first. */
export async function offeredKernels(cache: string, refresh = false): Promise<OfferedKernel[]> {
  const rows: OfferedKernel[] = [];
  for (const release of RELEASES) {
    const apt = aptConfigFor(release, cache);
    await ensureLists(apt, release, refresh);
    const abis = await availableAbis(release, apt, ['amd64', 'cloud-amd64', 'rt-amd64']);
    if (!abis.length) continue;
    const madison = await madisonFor(abis, apt);
    for (const abi of abis) {
      const names = packagesFor(abi, '');
      const images = parseMadison(madison, names.image);
      const match = images.find((v) => parseMadison(madison, names.source).includes(v));
      const flavour = parseAbi(abi)!.flavour;
      rows.push({ suite: release.suite, abi, flavour, version: match ?? images[0] ?? '', buildable: match !== undefined && !unbuildableFlavour(flavour) });
    }
  }
  return rows;
}
