import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { debDataMember, extractDeb, parseAr } from '../src/deb';

// A real .deb built by dpkg-deb (xz data, like Debian's kernel packages).
let deb: string;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hs-deb-'));
  const root = join(work, 'pkg');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr/lib/debug/boot'), { recursive: true });
  await writeFile(
    join(root, 'DEBIAN/control'),
    'Package: hs-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n',
  );
  await writeFile(join(root, 'usr/lib/debug/boot/System.map-X'), 'ffffffff81000000 T _text\n');
  await writeFile(join(root, 'usr/lib/debug/boot/vmlinux-X'), Buffer.alloc(300_000, 7));
  await writeFile(join(root, 'usr/lib/debug/boot/other'), 'not wanted');
  deb = join(work, 'hs-test_1.0_all.deb');
  execFileSync('dpkg-deb', ['-Zxz', '--build', root, deb], { stdio: 'ignore' });
});

describe('Debian package reading', () => {
  it('lists the ar members of a .deb', async () => {
    const members = parseAr(await readFile(deb));
    expect(members.map((m) => m.name)).toEqual(['debian-binary', 'control.tar.xz', 'data.tar.xz']);
    expect(members[0].size).toBe(4);
  });

  it('finds data.tar.xz from the headers alone, at the same offset', async () => {
    const data = await debDataMember(deb);
    const inMemory = parseAr(await readFile(deb))[2];
    expect(data).toEqual(inMemory);
  });

  it('extracts only the requested members', async () => {
    const dest = join(work, 'only');
    await mkdir(dest);
    await extractDeb(deb, dest, {
      label: 'test',
      quiet: true,
      members: ['./usr/lib/debug/boot/System.map-X', './usr/lib/debug/boot/vmlinux-X'],
    });
    expect((await readdir(join(dest, 'usr/lib/debug/boot'))).sort()).toEqual(['System.map-X', 'vmlinux-X']);
    expect((await readFile(join(dest, 'usr/lib/debug/boot/vmlinux-X'))).length).toBe(300_000);
  });

  it('reports a truncated package instead of crashing', async () => {
    const cut = join(work, 'cut.deb');
    await writeFile(cut, (await readFile(deb)).subarray(0, 200));
    await expect(debDataMember(cut)).rejects.toThrow(/truncated ar member at offset \d+|no data.tar member/);
  });
});
