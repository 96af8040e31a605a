import { run } from './exec';
import { UserError } from './errors';
import { type HostTools, KBUILD_PACKAGE, chooseHostTools } from './host-tools';

/** The Debian packages one kernel ABI needs, all at the same source version. */
export interface KernelPackages {
  abi: string; // e.g. "6.1.0-56-amd64"
  version: string; // Debian package version, e.g. "6.1.192-2"
  source: string;
  headers: string;
  headersCommon: string;
  kbuild: string;
  image: string;
  dbg: string;
  /** Debian's kbuild package at exactly `version`, or (not offered any more) built from this ABI's source. */
  hostTools: HostTools;
}

const IMAGE_NAME = /^linux-image-(6\.1\.0-\d+-amd64)$/;

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

/** Ask apt how many bytes each package of the kernel is, for download progress. */
export async function packageSizes(p: KernelPackages, names = packageList(p)): Promise<Record<string, number>> {
  return parseSizes(await run('apt-cache', ['show', ...names.map((pkg) => `${pkg}=${p.version}`)]));
}

/** ABIs named by `apt-cache pkgnames linux-image-6.1` output, newest first (signed amd64 flavour only). */
export function parseAbis(pkgnames: string): string[] {
  const abis = pkgnames
    .split('\n')
    .map((line) => IMAGE_NAME.exec(line.trim())?.[1])
    .filter((abi): abi is string => abi !== undefined);
  return [...new Set(abis)].sort((a, b) => abiNumber(b) - abiNumber(a));
}

function abiNumber(abi: string): number {
  return Number(/^6\.1\.0-(\d+)-/.exec(abi)?.[1] ?? -1);
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
export function packagesFor(abi: string, version: string, hostTools: HostTools = { from: 'package', package: KBUILD_PACKAGE, version }): KernelPackages {
  const base = abi.replace(/-amd64$/, '');
  return {
    abi,
    version,
    source: 'linux-source-6.1',
    headers: `linux-headers-${abi}`,
    headersCommon: `linux-headers-${base}-common`,
    kbuild: KBUILD_PACKAGE,
    image: `linux-image-${abi}`,
    dbg: `linux-image-${abi}-dbg`,
    hostTools,
  };
}

/** The packages to download: kbuild only when its exact version is the one used. */
export function packageList(p: KernelPackages): string[] {
  const kbuild = p.hostTools.from === 'package' ? [p.kbuild] : [];
  return [p.source, p.headers, p.headersCommon, ...kbuild, p.image, p.dbg];
}

async function availableAbis(): Promise<string[]> {
  return parseAbis(await run('apt-cache', ['pkgnames', 'linux-image-6.1']));
}

/**
 * Pick an ABI (the requested one, or the newest) whose image version linux-source-6.1 also offers, and where its
 * kbuild host tools come from (`madison` also lists linux-kbuild-6.1's versions).
 */
export function chooseKernel(abis: string[], madison: string, requested?: string): KernelPackages {
  const sourceVersions = parseMadison(madison, 'linux-source-6.1');
  const kbuildVersions = parseMadison(madison, KBUILD_PACKAGE);
  const wanted = requested && requested !== 'newest' ? requested : undefined;
  if (wanted && !abis.includes(wanted)) {
    throw new UserError(`unknown kernel ABI "${wanted}"; apt offers: ${abis.join(', ')}`);
  }
  for (const abi of wanted ? [wanted] : abis) {
    const image = packagesFor(abi, '').image;
    const versions = parseMadison(madison, image);
    const version = versions.find((v) => sourceVersions.includes(v));
    if (version) return packagesFor(abi, version, chooseHostTools(version, kbuildVersions));
    if (wanted) {
      throw new UserError(
        `kernel ABI "${abi}" (${versions.join(', ') || 'no version'}) has no matching linux-source-6.1 (apt offers ${sourceVersions.join(', ') || 'none'})`,
      );
    }
  }
  throw new UserError(`no kernel ABI has a matching linux-source-6.1 version; apt offers: ${abis.join(', ')}`);
}

/** Ask apt (two apt-cache calls, ~2 s) which packages make up the requested or newest kernel, and which kbuild. */
export async function resolveKernel(requested?: string): Promise<KernelPackages> {
  let abis = await availableAbis();
  if (abis.length === 0) {
    // A fresh machine may have empty package lists; they need one `apt-get update` (root).
    if (process.getuid?.() !== 0) {
      throw new UserError('apt knows no linux-image-6.1.0-*-amd64 package; as root run: apt-get update');
    }
    await run('apt-get', ['update', '-qq']);
    abis = await availableAbis();
  }
  if (abis.length === 0) throw new UserError('apt offers no linux-image-6.1.0-*-amd64 package (is this Debian 12?)');
  const images = abis.map((abi) => packagesFor(abi, '').image);
  const madison = await run('apt-cache', ['madison', 'linux-source-6.1', KBUILD_PACKAGE, ...images]);
  return chooseKernel(abis, madison, requested);
}
