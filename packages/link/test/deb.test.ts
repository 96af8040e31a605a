// The .deb of an update and of hotsplice-tools, built with dpkg-deb and read back with dpkg-deb, dpkg's version
// order and lintian.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type Manifest, buildDeb, toolsDeb, updateDeb } from '../src';
import { Scratch, run } from './helpers/toolchain';

const scratch = new Scratch();
afterAll(() => scratch.remove());

const manifest = (id: string, level?: number): Manifest => ({
  format: 'hotsplice-update/1',
  id,
  module: id,
  kernel: { abi: '6.1.0-57-amd64', version: '6.1.192-3', vmlinuxBuildId: 'ab'.repeat(20) },
  replace: level !== undefined,
  patches: [],
  members: {},
  objects: [{ objname: 'vmlinux', functions: [{ name: 'version_proc_show', sympos: 0, object: 'fs/proc/version.o', newSymbol: 'x' }] }],
  ...(level !== undefined ? { level } : {}),
  cves: ['CVE-2026-0001'],
  effectiveVersion: '6.1.192-3',
});

const UNIT = readFileSync(join(__dirname, '..', '..', 'cli', 'systemd', 'hotsplice.service'), 'utf8');

describe('update packages', () => {
  it('a patch level is the ABI’s one package, its version the level, depending on the exact kernel image', async () => {
    const deb = await buildDeb(updateDeb(manifest('fleet_l2', 2), Buffer.from('tarball'), '0.1.0'), join(scratch.dir, 'a'));
    expect(deb).toBe(join(scratch.dir, 'a', 'hotsplice-patch-6.1.0-57-amd64_2_amd64.deb'));
    const field = (name: string) => run('dpkg-deb', ['-f', deb, name]).trim();
    expect(field('Package')).toBe('hotsplice-patch-6.1.0-57-amd64');
    expect(field('Version')).toBe('2');
    expect(field('Architecture')).toBe('amd64');
    expect(field('Depends')).toBe('hotsplice-tools (>= 0.1.0), linux-image-6.1.0-57-amd64 (= 6.1.192-3) | linux-image-6.1.0-57-amd64-unsigned (= 6.1.192-3)');
    expect(field('Description')).toContain('Fixes: CVE-2026-0001.');
    const listing = run('dpkg-deb', ['-c', deb]);
    expect(listing).toMatch(/^-rw-r--r-- root\/root +7 2024-01-01 00:00 \.\/usr\/lib\/hotsplice\/6\.1\.0-57-amd64\/hotsplice-fleet_l2\.tar\.gz$/m);
    const scripts = join(scratch.dir, 'ctl');
    run('dpkg-deb', ['-e', deb, scripts]);
    expect(readFileSync(join(scripts, 'postinst'), 'utf8')).toContain("hotsplice install '/usr/lib/hotsplice/6.1.0-57-amd64/hotsplice-fleet_l2.tar.gz'");
    expect(readFileSync(join(scripts, 'prerm'), 'utf8')).toContain("hotsplice uninstall 'fleet_l2'");
    // apt orders the levels: 10 after 9 after 2.
    expect(() => run('dpkg', ['--compare-versions', '10', 'gt', '9'])).not.toThrow();
  });

  it('a standalone update has a package of its own per ABI, and the same inputs give the same bytes', async () => {
    const pkg = updateDeb(manifest('cve_2026_0001'), Buffer.from('tarball'), '0.1.0');
    const [a, b] = [await buildDeb(pkg, join(scratch.dir, 'b1')), await buildDeb(pkg, join(scratch.dir, 'b2'))];
    expect(a.endsWith('/hotsplice-update-cve-2026-0001-6.1.0-57-amd64_1_amd64.deb')).toBe(true);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('lintian finds no error or warning in either package', async () => {
    const dir = join(scratch.dir, 'lint');
    const update = await buildDeb(updateDeb(manifest('fleet_l1', 1), gzipSync('tar'), '0.1.0'), dir);
    const tools = await buildDeb(toolsDeb(Buffer.from('#!/usr/bin/env node\nconsole.log(1)\n'), UNIT, '0.1.0', Buffer.from('.TH HOTSPLICE 8\n.SH NAME\nhotsplice \\- live kernel updates\n')), dir);
    for (const deb of [update, tools]) {
      // --fail-on none: the verdict is ours, from the tags it prints.
      const tags = run('lintian', ['--fail-on', 'none', '--no-tag-display-limit', deb]).trim();
      expect(tags.split('\n').filter((l) => /^[EW]: /.test(l)), deb).toEqual([]);
    }
  }, 120_000);
});
