// The pieces of `create --debian-update` that need no apt: the changelog between two versions, the classification
// of changed paths, and the comparison of two trees.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changelogBetween } from '../src/debian-changelog';
import { changedPaths, classifyChange } from '../src/source-delta';

// The shape of Debian's linux changelog (debian/changelog): own fixes as `  * …`, a stable update's as `    - …`
// with continuation lines and the upstream ChangeLog URL.
const CHANGELOG = `linux (6.1.192-3) bookworm-security; urgency=high

  * nfsd: preflight SEQUENCE replies before accepting a slot (CVE-2026-99362)

 -- A Maintainer <a@example.org>  Thu, 26 Nov 2026 18:12:56 +0100

linux (6.1.192-2) bookworm-security; urgency=high

  * ext4: fix NULL folio dereference in mballoc (Closes: #1154101)

 -- A Maintainer <a@example.org>  Mon, 16 Nov 2026 11:17:40 +0100

linux (6.1.192-1) bookworm-security; urgency=high

  * New upstream stable update:
    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.1.191
    - io_uring/io-wq: don't lose the signal that ends work (CVE-2026-99228)
    - apparmor: fix out-of-bounds write when null terminating a label vec
      (CVE-2026-89761)
    - io-wq: order the exit bit against worker creation task work

 -- A Maintainer <a@example.org>  Sun, 01 Nov 2026 10:00:00 +0100

linux (6.1.190-1) bookworm-security; urgency=high

  * Older: (CVE-2026-11111)
`;

describe('the changelog between two Debian versions', () => {
  it('takes the items after `from` up to `to`, with their CVE ids', () => {
    expect(changelogBetween(CHANGELOG, '6.1.192-2', '6.1.192-3')).toEqual([
      { version: '6.1.192-3', title: 'nfsd: preflight SEQUENCE replies before accepting a slot (CVE-2026-99362)', cves: ['CVE-2026-99362'] },
    ]);
    const stable = changelogBetween(CHANGELOG, '6.1.190-1', '6.1.192-2');
    expect(stable.map((i) => [i.version, i.title, i.cves])).toEqual([
      ['6.1.192-2', 'ext4: fix NULL folio dereference in mballoc (Closes: #1154101)', []],
      ['6.1.192-1', "io_uring/io-wq: don't lose the signal that ends work (CVE-2026-99228)", ['CVE-2026-99228']],
      ['6.1.192-1', 'apparmor: fix out-of-bounds write when null terminating a label vec (CVE-2026-89761)', ['CVE-2026-89761']],
      ['6.1.192-1', 'io-wq: order the exit bit against worker creation task work', []],
    ]);
  });
});

describe('changed paths of a Debian update', () => {
  it.each([
    ['fs/nfsd/nfs4state.c', true, true, { kind: 'source' }],
    ['include/linux/fs.h', true, true, { kind: 'source' }],
    ['fs/ext4/new-helper.c', false, true, { kind: 'source', created: true }],
    ['fs/ext4/old.c', true, false, { kind: 'not-live-patchable', reason: 'deleted: removing code cannot be live-patched', deleted: true }],
    ['fs/ext4/Makefile', true, true, { kind: 'not-live-patchable', reason: 'build files change how objects are built, not code' }],
    ['fs/ext4/Kconfig', true, true, { kind: 'not-live-patchable', reason: 'configuration changes need a new kernel' }],
    ['arch/x86/entry/entry_64.S', true, true, { kind: 'not-live-patchable', reason: 'assembly (.S) cannot be livepatched' }],
    ['arch/x86/kernel/vmlinux.lds.S', true, true, { kind: 'not-live-patchable', reason: 'assembly (.S) cannot be livepatched' }],
    ['drivers/gpu/firmware.bin', true, true, { kind: 'not-live-patchable', reason: 'not C code (only .c and .h files are live-patched)' }],
    ['arch/arm64/kernel/setup.c', true, true, { kind: 'outside-the-kernel', reason: 'another architecture' }],
    ['Documentation/admin-guide/x.rst', true, true, { kind: 'outside-the-kernel', reason: 'documentation' }],
    ['tools/perf/builtin.c', true, true, { kind: 'outside-the-kernel', reason: 'user-space tools and samples' }],
    ['scripts/mod/modpost.c', true, true, { kind: 'outside-the-kernel', reason: 'build scripts' }],
  ])('%s', (path, before, after, expected) => {
    expect(classifyChange(path, before, after)).toEqual({ path, ...expected });
  });

  it('finds files changed, added and removed between two trees, and nothing else', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hs-delta-'));
    const tree = async (name: string, files: Record<string, string>) => {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(join(root, name, path, '..'), { recursive: true });
        await writeFile(join(root, name, path), text);
      }
      return join(root, name);
    };
    const same = 'x'.repeat(200_000); // longer than one compare block
    const a = await tree('a', { 'fs/a.c': 'int a;\n', 'fs/same.c': same, 'fs/tail.c': `${same}1`, 'fs/gone.c': 'int g;\n' });
    const b = await tree('b', { 'fs/a.c': 'int a = 1;\n', 'fs/same.c': same, 'fs/tail.c': `${same}2`, 'fs/new.c': 'int n;\n' });
    await symlink('a.c', join(b, 'fs/link.c'));
    expect(await changedPaths(a, b)).toEqual([
      { path: 'fs/a.c', before: true, after: true },
      { path: 'fs/gone.c', before: true, after: false },
      { path: 'fs/new.c', before: false, after: true },
      { path: 'fs/tail.c', before: true, after: true },
    ]);
  });
});
