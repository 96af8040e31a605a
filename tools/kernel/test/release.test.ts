// The kernel release record for every supported Debian release: ABI names, package names, requests, apt's private
// configuration for another release, the compiler a kernel names and the build root that provides it. The apt
// outputs are shapes measured on this bookworm machine (2026-12-07) with trixie in a private sources list.
import { describe, expect, it } from 'vitest';
import { chooseKernel, packageList, parseAbis } from '../src/apt';
import { aptOptions, parseMirrors, privateSources } from '../src/apt-config';
import { buildRootPackages, parseCandidates } from '../src/build-root';
import { RELEASES, compareAbis, parseAbi, parseRequest, releaseBySuite, releasePackages, unbuildableFlavour } from '../src/release';
import { compilerPackage, parseCompiler } from '../src/toolchain';

const bookworm = releaseBySuite('bookworm');
const trixie = releaseBySuite('trixie');

describe('Debian releases', () => {
  it('knows bookworm (6.1) and trixie (6.12), each once', () => {
    expect(RELEASES.map((r) => [r.suite, r.debian, r.series])).toEqual([
      ['bookworm', 12, '6.1'],
      ['trixie', 13, '6.12'],
    ]);
    expect(() => releaseBySuite('sid')).toThrow('unknown Debian release "sid"; known: bookworm, trixie');
  });

  it('takes every ABI spelling apart: release, base, flavour', () => {
    const parts = (abi: string) => {
      const n = parseAbi(abi);
      return n && [n.release.suite, n.base, n.flavour];
    };
    expect(parts('6.1.0-57-amd64')).toEqual(['bookworm', '6.1.0-57', 'amd64']);
    expect(parts('6.1.0-57-cloud-amd64')).toEqual(['bookworm', '6.1.0-57', 'cloud-amd64']);
    expect(parts('6.1.0-57-rt-amd64')).toEqual(['bookworm', '6.1.0-57', 'rt-amd64']);
    expect(parts('6.12.118+deb13-amd64')).toEqual(['trixie', '6.12.118+deb13', 'amd64']);
    expect(parts('6.12.118+deb13-rt-amd64')).toEqual(['trixie', '6.12.118+deb13', 'rt-amd64']);
    expect(parts('6.12.115+deb13.1-cloud-amd64')).toEqual(['trixie', '6.12.115+deb13.1', 'cloud-amd64']);
    for (const bad of ['6.12-amd64', '6.1.0-57-arm64', '5.10.0-30-amd64', '6.12.118+deb13-amd64-dbg', '../../etc']) expect(parseAbi(bad), bad).toBeUndefined();
  });

  it('names each release’s packages: one kbuild per series (bookworm) or per ABI (trixie), -common-rt for rt', () => {
    expect(releasePackages(parseAbi('6.1.0-57-amd64')!)).toEqual({
      source: 'linux-source-6.1',
      headers: 'linux-headers-6.1.0-57-amd64',
      headersCommon: 'linux-headers-6.1.0-57-common',
      kbuild: 'linux-kbuild-6.1',
      image: 'linux-image-6.1.0-57-amd64',
      dbg: 'linux-image-6.1.0-57-amd64-dbg',
    });
    expect(releasePackages(parseAbi('6.12.118+deb13-rt-amd64')!)).toEqual({
      source: 'linux-source-6.12',
      headers: 'linux-headers-6.12.118+deb13-rt-amd64',
      headersCommon: 'linux-headers-6.12.118+deb13-common-rt',
      kbuild: 'linux-kbuild-6.12.118+deb13',
      image: 'linux-image-6.12.118+deb13-rt-amd64',
      dbg: 'linux-image-6.12.118+deb13-rt-amd64-dbg',
    });
    expect(releasePackages(parseAbi('6.12.118+deb13-cloud-amd64')!).headersCommon).toBe('linux-headers-6.12.118+deb13-common');
  });

  it('builds amd64 and cloud-amd64 from linux-source, never rt (Debian’s rt patches are not in it)', () => {
    expect(unbuildableFlavour('amd64')).toBeUndefined();
    expect(unbuildableFlavour('cloud-amd64')).toBeUndefined();
    expect(unbuildableFlavour('rt-amd64')).toBe("the rt flavour is built with Debian's rt patches (debian/patches-rt), which linux-source does not carry");
  });

  it('orders ABIs newest first by their numbers, not as text; flavours in a fixed order', () => {
    const abis = ['6.12.99+deb13-amd64', '6.12.115+deb13-amd64', '6.12.115+deb13.1-rt-amd64', '6.12.115+deb13.1-amd64', '6.12.118+deb13-amd64'];
    expect([...abis].sort(compareAbis)).toEqual([
      '6.12.118+deb13-amd64',
      '6.12.115+deb13.1-amd64',
      '6.12.115+deb13.1-rt-amd64',
      '6.12.115+deb13-amd64',
      '6.12.99+deb13-amd64',
    ]);
    expect(['6.1.0-9-amd64', '6.1.0-57-amd64'].sort(compareAbis)).toEqual(['6.1.0-57-amd64', '6.1.0-9-amd64']);
  });

  it('reads a request: an ABI, newest (the machine’s release), newest-<release>[-<flavour>]', () => {
    expect(parseRequest('newest', 'bookworm')).toMatchObject({ kind: 'newest', release: bookworm, flavour: 'amd64' });
    expect(parseRequest('newest', 'trixie')).toMatchObject({ kind: 'newest', release: trixie });
    expect(parseRequest('newest-trixie', 'bookworm')).toMatchObject({ kind: 'newest', release: trixie, flavour: 'amd64' });
    expect(parseRequest('newest-trixie-rt-amd64', 'bookworm')).toMatchObject({ kind: 'newest', release: trixie, flavour: 'rt-amd64' });
    expect(parseRequest('6.12.118+deb13-cloud-amd64', 'bookworm')).toMatchObject({ kind: 'abi', name: { base: '6.12.118+deb13', flavour: 'cloud-amd64' } });
    expect(() => parseRequest('newest-buster', 'bookworm')).toThrow('unknown Debian release "buster"');
    expect(() => parseRequest('linux-6.12', 'bookworm')).toThrow('not a Debian kernel ABI: "linux-6.12"');
  });
});

// `apt-cache pkgnames linux-image-6.12` and `apt-cache madison …` through the private trixie configuration.
const TRIXIE_PKGNAMES = `linux-image-6.12.118+deb13-amd64
linux-image-6.12.118+deb13-amd64-dbg
linux-image-6.12.118+deb13-amd64-unsigned
linux-image-6.12.118+deb13-cloud-amd64
linux-image-6.12.118+deb13-rt-amd64
linux-image-6.12.115+deb13.1-amd64
linux-image-6.12.115+deb13-amd64
linux-image-6.12-amd64
`;
const TRIXIE_MADISON = `linux-source-6.12 | 6.12.118-1 | http://mirror/debian-security trixie-security/main amd64 Packages
linux-source-6.12 | 6.12.117-1 | http://mirror/debian trixie/main amd64 Packages
linux-source-6.12 | 6.12.115-2 | http://mirror/debian-security trixie-security/main amd64 Packages
linux-kbuild-6.12.118+deb13 | 6.12.118-1 | http://mirror/debian-security trixie-security/main amd64 Packages
linux-kbuild-6.12.115+deb13.1 | 6.12.115-2 | http://mirror/debian-security trixie-security/main amd64 Packages
linux-image-6.12.118+deb13-amd64 | 6.12.118-1 | http://mirror/debian-security trixie-security/main amd64 Packages
linux-image-6.12.115+deb13.1-amd64 | 6.12.115-2 | http://mirror/debian-security trixie-security/main amd64 Packages
linux-image-6.12.115+deb13-amd64 | 6.12.115-1 | http://mirror/debian-security trixie-security/main amd64 Packages
`;

describe('trixie through apt', () => {
  it('lists trixie’s signed images of one flavour, never bookworm’s, -dbg, -unsigned or the meta package', () => {
    expect(parseAbis(TRIXIE_PKGNAMES, trixie)).toEqual(['6.12.118+deb13-amd64', '6.12.115+deb13.1-amd64', '6.12.115+deb13-amd64']);
    expect(parseAbis(TRIXIE_PKGNAMES, trixie, ['rt-amd64'])).toEqual(['6.12.118+deb13-rt-amd64']);
    expect(parseAbis(TRIXIE_PKGNAMES, bookworm)).toEqual([]);
  });

  it('picks the newest trixie ABI with its per-ABI kbuild at the same version', () => {
    const k = chooseKernel(parseAbis(TRIXIE_PKGNAMES, trixie), TRIXIE_MADISON, 'newest-trixie');
    expect(k).toMatchObject({ abi: '6.12.118+deb13-amd64', version: '6.12.118-1', suite: 'trixie' });
    expect(k.hostTools).toEqual({ from: 'package', package: 'linux-kbuild-6.12.118+deb13', version: '6.12.118-1' });
    expect(packageList(k)).toEqual([
      'linux-source-6.12',
      'linux-headers-6.12.118+deb13-amd64',
      'linux-headers-6.12.118+deb13-common',
      'linux-kbuild-6.12.118+deb13',
      'linux-image-6.12.118+deb13-amd64',
      'linux-image-6.12.118+deb13-amd64-dbg',
    ]);
    // The second upload of 6.12.115 (+deb13.1 = 6.12.115-2) is its own ABI; the first has no source left.
    expect(chooseKernel(parseAbis(TRIXIE_PKGNAMES, trixie), TRIXIE_MADISON, '6.12.115+deb13.1-amd64').version).toBe('6.12.115-2');
    expect(() => chooseKernel(parseAbis(TRIXIE_PKGNAMES, trixie), TRIXIE_MADISON, '6.12.115+deb13-amd64')).toThrow(
      'kernel ABI "6.12.115+deb13-amd64" (6.12.115-1) has no matching linux-source-6.12 (apt offers 6.12.118-1, 6.12.117-1, 6.12.115-2)',
    );
  });
});

// `apt-cache policy` on this machine: its own mirrors, which a private configuration reuses (no host is written here).
const POLICY = `Package files:
 100 /var/lib/dpkg/status
     release a=now
 500 http://deb.example/debian-security bookworm-security/main amd64 Packages
     release v=12,o=Debian,a=oldstable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64
 500 http://deb.example/debian bookworm-updates/main amd64 Packages
     release v=12-updates,o=Debian,a=oldstable-updates,n=bookworm-updates,l=Debian,c=main,b=amd64
 500 http://deb.example/debian bookworm/main amd64 Packages
     release v=12.15,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64
Pinned packages:
`;

describe('a private apt configuration for another release', () => {
  it('uses the machine’s own archive and security mirrors, signed by Debian’s keyring', () => {
    const mirrors = parseMirrors(POLICY, 'bookworm');
    expect(mirrors).toEqual({ archive: 'http://deb.example/debian', security: 'http://deb.example/debian-security' });
    expect(privateSources(trixie, mirrors)).toBe(
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.example/debian-security trixie-security main\n' +
        'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.example/debian trixie main\n',
    );
    expect(() => parseMirrors(POLICY, 'trixie')).toThrow("apt's sources name no mirror for trixie");
  });

  it('points apt at its own lists and package cache, never the machine’s', () => {
    expect(aptOptions({ kind: 'host' })).toEqual([]);
    expect(aptOptions({ kind: 'private', suite: 'trixie', dir: '/c/apt/trixie', sourcesList: '/c/apt/trixie/sources.list' })).toEqual([
      '-o',
      'Dir::Etc::SourceList=/c/apt/trixie/sources.list',
      '-o',
      'Dir::Etc::SourceParts=/dev/null',
      '-o',
      'Dir::State::Lists=/c/apt/trixie/lists',
      '-o',
      'Dir::Cache=/c/apt/trixie/cache',
    ]);
  });
});

describe('the compiler a kernel names, and its build root', () => {
  it('reads CONFIG_CC_VERSION_TEXT of bookworm’s and trixie’s configs', () => {
    expect(parseCompiler('CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"\nCONFIG_CC_IS_GCC=y\n')).toEqual({
      cc: 'gcc-12',
      versionText: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
    });
    const trixieCc = parseCompiler('CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"\n');
    expect(trixieCc.cc).toBe('x86_64-linux-gnu-gcc-14');
    expect(compilerPackage(trixieCc.cc)).toBe('gcc-14');
    expect(compilerPackage('gcc-12')).toBe('gcc-12');
    expect(() => parseCompiler('CONFIG_CC_IS_GCC=y\n', 'config-x')).toThrow('config-x: no CONFIG_CC_VERSION_TEXT');
    expect(() => compilerPackage('clang-19')).toThrow('the kernel\'s compiler "clang-19" is not a Debian gcc');
  });

  it('builds a root from the compiler’s package and what kbuild needs, keyed by apt’s candidate versions', () => {
    expect(buildRootPackages({ cc: 'x86_64-linux-gnu-gcc-14', versionText: '' })).toEqual([
      'gcc-14',
      'make',
      'gcc',
      'binutils',
      'libc6-dev',
      'flex',
      'bison',
      'bc',
      'libelf-dev',
      'libssl-dev',
      'dwarves',
      'mawk',
      'python3',
    ]);
    const policy = `gcc-14:
  Installed: (none)
  Candidate: 14.2.0-19
  Version table:
     14.2.0-19 500
make:
  Installed: (none)
  Candidate: 4.4.1-2
`;
    expect(parseCandidates(policy)).toEqual({ 'gcc-14': '14.2.0-19', make: '4.4.1-2' });
  });
});
