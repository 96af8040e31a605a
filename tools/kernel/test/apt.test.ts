import { describe, expect, it } from 'vitest';
import { chooseKernel, packageList, packagesFor, parseAbis, parseMadison, parseSizes } from '../src/apt';
import { UserError } from '../src/errors';

// Shapes of real `apt-cache pkgnames linux-image-6.1` and `apt-cache madison` output on Debian 12.
const PKGNAMES = `linux-image-6.1.0-54-rt-amd64-dbg
linux-image-6.1.0-47-amd64-dbg
linux-image-6.12-amd64-dbg
linux-image-6.1.0-9-amd64
linux-image-6.1.0-47-amd64
linux-image-6.1.0-56-cloud-amd64
linux-image-6.1.0-56-amd64
linux-image-6.1.0-56-amd64-unsigned
linux-image-6.1.0-55-amd64
`;
const MADISON = `linux-source-6.1 |  6.1.192-2 | http://mirror/debian-security bookworm-security/main amd64 Packages
linux-source-6.1 |  6.1.192-1 | http://mirror/debian-security bookworm-security/main amd64 Packages
linux-source-6.1 |  6.1.170-3 | http://mirror/debian bookworm/main amd64 Packages
linux-kbuild-6.1 |  6.1.192-2 | http://mirror/debian-security bookworm-security/main amd64 Packages
linux-kbuild-6.1 |  6.1.170-3 | http://mirror/debian bookworm/main amd64 Packages
linux-image-6.1.0-56-amd64 |  6.1.192-2 | http://mirror/debian-security bookworm-security/main amd64 Packages
linux-image-6.1.0-55-amd64 |  6.1.192-1 | http://mirror/debian-security bookworm-security/main amd64 Packages
linux-image-6.1.0-47-amd64 |  6.1.170-3 | http://mirror/debian bookworm/main amd64 Packages
linux-image-6.1.0-9-amd64 |  6.1.27-1 | http://mirror/debian bookworm/main amd64 Packages
`;

describe('ABI resolution from apt-cache output', () => {
  it('lists only signed amd64 images, newest ABI number first (numeric, not lexical)', () => {
    expect(parseAbis(PKGNAMES)).toEqual(['6.1.0-56-amd64', '6.1.0-55-amd64', '6.1.0-47-amd64', '6.1.0-9-amd64']);
  });

  it('reads one package’s versions from madison output', () => {
    expect(parseMadison(MADISON, 'linux-source-6.1')).toEqual(['6.1.192-2', '6.1.192-1', '6.1.170-3']);
    expect(parseMadison(MADISON, 'linux-image-6.1.0-47-amd64')).toEqual(['6.1.170-3']);
  });

  it('picks the newest ABI whose version linux-source-6.1 also offers', () => {
    const k = chooseKernel(parseAbis(PKGNAMES), MADISON);
    expect(k).toEqual(packagesFor('6.1.0-56-amd64', '6.1.192-2'));
    expect(k.dbg).toBe('linux-image-6.1.0-56-amd64-dbg');
    expect(k.headersCommon).toBe('linux-headers-6.1.0-56-common');
  });

  it('skips a newest ABI with no matching source package', () => {
    const madison = MADISON.replace(/^linux-source-6.1 \|  6.1.192-2.*\n/m, '');
    expect(chooseKernel(parseAbis(PKGNAMES), madison).abi).toBe('6.1.0-55-amd64');
  });

  it('honours a requested ABI, and "newest" means no request', () => {
    expect(chooseKernel(parseAbis(PKGNAMES), MADISON, '6.1.0-47-amd64').version).toBe('6.1.170-3');
    expect(chooseKernel(parseAbis(PKGNAMES), MADISON, 'newest').abi).toBe('6.1.0-56-amd64');
  });

  it('uses linux-kbuild-6.1 only at the exact version; else kbuild is built from the ABI’s source, not downloaded', () => {
    const newest = chooseKernel(parseAbis(PKGNAMES), MADISON);
    expect(newest.hostTools).toEqual({ from: 'package', package: 'linux-kbuild-6.1', version: '6.1.192-2' });
    expect(packageList(newest)).toEqual([
      'linux-source-6.1',
      'linux-headers-6.1.0-56-amd64',
      'linux-headers-6.1.0-56-common',
      'linux-kbuild-6.1',
      'linux-image-6.1.0-56-amd64',
      'linux-image-6.1.0-56-amd64-dbg',
    ]);
    // apt offers kbuild 6.1.192-2 and 6.1.170-3, not 6.1.192-1: -55 must not get -56's objtool.
    const older = chooseKernel(parseAbis(PKGNAMES), MADISON, '6.1.0-55-amd64');
    expect(older.hostTools).toEqual({ from: 'source', version: '6.1.192-1' });
    expect(packageList(older)).toEqual([
      'linux-source-6.1',
      'linux-headers-6.1.0-55-amd64',
      'linux-headers-6.1.0-55-common',
      'linux-image-6.1.0-55-amd64',
      'linux-image-6.1.0-55-amd64-dbg',
    ]);
    expect(chooseKernel(parseAbis(PKGNAMES), MADISON, '6.1.0-47-amd64').hostTools.from).toBe('package');
  });

  it('names the available ABIs when the requested one is unknown', () => {
    const run = () => chooseKernel(parseAbis(PKGNAMES), MADISON, '6.1.0-99-amd64');
    expect(run).toThrow(UserError);
    expect(run).toThrow('unknown kernel ABI "6.1.0-99-amd64"; apt offers: 6.1.0-56-amd64, 6.1.0-55-amd64, 6.1.0-47-amd64, 6.1.0-9-amd64');
  });

  it('explains a requested ABI whose source version is gone', () => {
    expect(() => chooseKernel(parseAbis(PKGNAMES), MADISON, '6.1.0-9-amd64')).toThrow(
      'kernel ABI "6.1.0-9-amd64" (6.1.27-1) has no matching linux-source-6.1 (apt offers 6.1.192-2, 6.1.192-1, 6.1.170-3)',
    );
  });
});

describe('download sizes', () => {
  it('reads each package’s Size from apt-cache show stanzas', () => {
    const show = `Package: linux-source-6.1
Source: linux
Version: 6.1.192-2
Size: 139331676
Description: Linux kernel source

Package: linux-kbuild-6.1
Version: 6.1.192-2
Size: 1568188
`;
    expect(parseSizes(show)).toEqual({ 'linux-source-6.1': 139331676, 'linux-kbuild-6.1': 1568188 });
  });
});
