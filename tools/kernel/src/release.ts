import { UserError } from './errors';

/**
 * A Debian release's kernel series as data: everything that differs between bookworm's 6.1 and trixie's 6.12 for
 * provisioning (package names, how an ABI is spelled, which apt suites carry it). Adding a Debian release is one
 * more entry of RELEASES; no stage spells a package name of its own. What a kernel is built with (the compiler, a
 * build root) is read from the kernel itself once its config is unpacked (toolchain.ts), not written here.
 */
export interface DebianRelease {
  /** Debian's code name, also the apt suite of its main archive. */
  suite: string;
  /** Debian's release number. */
  debian: number;
  /** The upstream kernel series (`linux-source-<series>`). */
  series: string;
  /** apt suites that carry its kernels (security updates first, the point release last). */
  aptSuites: string[];
  /** The ABI part before the flavour, e.g. 6.1.0-57 or 6.12.118+deb13 (one capture group per number). */
  abiBase: RegExp;
  /** Debian names kbuild's host tools once per series (bookworm) or once per ABI (trixie). */
  kbuildPackage: (base: string) => string;
  /** Where the image package puts the modules: /lib/modules, or /usr/lib/modules once /usr is merged (trixie). */
  modulesDir: string;
}

/** The flavours of the amd64 kernel: each ABI exists in all three (different configs; rt has PREEMPT_RT). */
export const FLAVOURS = ['amd64', 'cloud-amd64', 'rt-amd64'] as const;
export type Flavour = (typeof FLAVOURS)[number];

/**
 * Why a flavour cannot be rebuilt from linux-source, if it cannot. Debian builds rt from its "rt" featureset: the
 * source package's debian/patches-rt applied on top of what linux-source ships (measured on 6.12.118+deb13-rt-amd64:
 * Debian's rt config on the linux-source tree lost CONFIG_PREEMPT_LAZY, PREEMPT_BUILD and PREEMPT_DYNAMIC in
 * olddefconfig, options those patches add), so objects built from linux-source would not be the shipped kernel's.
 */
export function unbuildableFlavour(flavour: Flavour): string | undefined {
  return flavour === 'rt-amd64' ? "the rt flavour is built with Debian's rt patches (debian/patches-rt), which linux-source does not carry" : undefined;
}

export const RELEASES: readonly DebianRelease[] = [
  {
    suite: 'bookworm',
    debian: 12,
    series: '6.1',
    aptSuites: ['bookworm-security', 'bookworm-updates', 'bookworm'],
    abiBase: /^6\.1\.0-\d+$/,
    // linux-kbuild-6.1: one package name for the whole series (decisions: kbuild's host tools per ABI).
    kbuildPackage: () => 'linux-kbuild-6.1',
    modulesDir: 'lib/modules',
  },
  {
    suite: 'trixie',
    debian: 13,
    series: '6.12',
    aptSuites: ['trixie-security', 'trixie'],
    // 6.12.118+deb13, and a second upload of one upstream version: 6.12.115+deb13.1 (= 6.12.115-2).
    abiBase: /^6\.12\.\d+\+deb13(\.\d+)?$/,
    kbuildPackage: (base) => `linux-kbuild-${base}`,
    modulesDir: 'usr/lib/modules',
  },
];

/** One kernel ABI taken apart: `6.12.118+deb13-rt-amd64` = release trixie, base 6.12.118+deb13, flavour rt-amd64. */
export interface AbiName {
  abi: string;
  base: string;
  flavour: Flavour;
  release: DebianRelease;
}

export function releaseBySuite(suite: string): DebianRelease {
  const release = RELEASES.find((r) => r.suite === suite);
  if (!release) throw new UserError(`unknown Debian release "${suite}"; known: ${RELEASES.map((r) => r.suite).join(', ')}`);
  return release;
}

/** The ABI's parts, or undefined for a name that is no amd64 kernel ABI of a known release. */
export function parseAbi(abi: string): AbiName | undefined {
  // Longest flavour first: "rt-amd64" and "cloud-amd64" also end in "-amd64".
  const flavour = [...FLAVOURS].sort((a, b) => b.length - a.length).find((f) => abi.endsWith(`-${f}`));
  if (!flavour) return undefined;
  const base = abi.slice(0, -flavour.length - 1);
  const release = RELEASES.find((r) => r.abiBase.test(base));
  return release ? { abi, base, flavour, release } : undefined;
}

/** The ABI's parts; one clear line for a name that is none. */
export function requireAbi(abi: string): AbiName {
  const name = parseAbi(abi);
  if (!name) throw new UserError(`not a Debian kernel ABI: "${abi}"`);
  return name;
}

/**
 * Newest first: the numbers of the ABI base compared one by one (6.12.115+deb13.1 before 6.12.115+deb13), then
 * the flavours in FLAVOURS order.
 */
export function compareAbis(a: string, b: string): number {
  const numbers = (abi: string) => (parseAbi(abi)?.base ?? abi).match(/\d+/g)!.map(Number);
  const x = numbers(a);
  const y = numbers(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (y[i] ?? -1) - (x[i] ?? -1);
    if (d) return d;
  }
  const flavour = (abi: string) => FLAVOURS.indexOf(parseAbi(abi)?.flavour ?? 'amd64');
  return flavour(a) - flavour(b);
}

/** The Debian packages one ABI is made of, all at one source version. */
export interface ReleasePackages {
  source: string;
  headers: string;
  headersCommon: string;
  kbuild: string;
  image: string;
  dbg: string;
}

/** Package names of an ABI: the rt flavour's headers share `-common-rt`, the others `-common`. */
export function releasePackages(name: AbiName): ReleasePackages {
  return {
    source: `linux-source-${name.release.series}`,
    headers: `linux-headers-${name.abi}`,
    headersCommon: `linux-headers-${name.base}-common${name.flavour === 'rt-amd64' ? '-rt' : ''}`,
    kbuild: name.release.kbuildPackage(name.base),
    image: `linux-image-${name.abi}`,
    dbg: `linux-image-${name.abi}-dbg`,
  };
}

/**
 * What a request names: an ABI, `newest` (the newest ABI of the machine's own release, the default) or
 * `newest-<suite>`. Flavour: `newest-trixie` is the amd64 flavour; `newest-trixie-rt-amd64` another one.
 */
export type KernelRequest = { kind: 'abi'; name: AbiName } | { kind: 'newest'; release: DebianRelease; flavour: Flavour };

export function parseRequest(requested: string, hostSuite: string): KernelRequest {
  if (requested === 'newest') return { kind: 'newest', release: releaseBySuite(hostSuite), flavour: 'amd64' };
  const newest = /^newest-([a-z]+)(?:-((?:cloud-|rt-)?amd64))?$/.exec(requested);
  if (newest) return { kind: 'newest', release: releaseBySuite(newest[1]!), flavour: (newest[2] ?? 'amd64') as Flavour };
  const name = parseAbi(requested);
  if (!name) {
    const known = RELEASES.map((r) => `newest-${r.suite}`).join(', ');
    throw new UserError(`not a Debian kernel ABI: "${requested}" (e.g. 6.1.0-57-amd64, 6.12.118+deb13-amd64; or newest, ${known})`);
  }
  return { kind: 'abi', name };
}
