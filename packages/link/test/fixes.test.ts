// What an update fixes: the CVEs a patch's header names, a Debian update's carried changelog CVEs, and the
// effective Debian version (the newest whose every fix is live).
import { describe, expect, it } from 'vitest';
import type { ChangelogItem } from '@hotsplice/kernel';
import { cvesOfPatchHeader, updateFixes } from '../src/fixes';
import type { FileOutcome, UpdateInputs } from '../src/update-report';

describe('CVE ids of a patch header', () => {
  it('reads the commit message before the first file, not the code', () => {
    const patch = [
      'From 1234 Mon Sep 17 00:00:00 2001',
      'Subject: [PATCH] nfsd: fix a use after free',
      '',
      'Fixes CVE-2026-99362 and CVE-2026-1001 (also CVE-2026-99362).',
      '---',
      ' fs/nfsd/nfs4state.c | 1 +',
      'diff --git a/fs/nfsd/nfs4state.c b/fs/nfsd/nfs4state.c',
      '--- a/fs/nfsd/nfs4state.c',
      '+++ b/fs/nfsd/nfs4state.c',
      '@@ -1 +1,2 @@',
      '+/* see CVE-2020-0001 */',
    ].join('\n');
    expect(cvesOfPatchHeader(patch)).toEqual(['CVE-2026-1001', 'CVE-2026-99362']);
    expect(cvesOfPatchHeader('--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a CVE-2020-0001\n+b\n')).toEqual([]);
  });
});

const item = (version: string, title: string, cves: string[] = []): ChangelogItem => ({ version, title, cves });
const outcome = (path: string, o: FileOutcome['outcome']): FileOutcome => ({ path, outcome: o, detail: '' });

describe('an update’s fixes and effective Debian version', () => {
  const debian = (changelog: ChangelogItem[]): UpdateInputs => ({ hunks: [], files: [], debian: { from: '6.1.192-1', to: '6.1.192-3', changelog } });

  it('a patch of one’s own fixes what it names and leaves the kernel’s version', () => {
    expect(updateFixes({ hunks: [], files: [], cves: ['CVE-2026-2', 'CVE-2026-1'] }, [], '6.1.192-3')).toEqual({ cves: ['CVE-2026-1', 'CVE-2026-2'], effectiveVersion: '6.1.192-3' });
    expect(updateFixes(undefined, [], '6.1.192-3')).toEqual({ cves: [], effectiveVersion: '6.1.192-3' });
  });

  it('a Debian update carried whole reaches its version, with the changelog’s CVEs', () => {
    const changelog = [item('6.1.192-3', 'nfsd: fix nfsd4_sequence (CVE-2026-99362)', ['CVE-2026-99362']), item('6.1.192-2', 'ext4: fix mb_load_buddy (CVE-2026-1234)', ['CVE-2026-1234'])];
    const outcomes = [outcome('fs/nfsd/nfs4state.c', 'built'), outcome('fs/ext4/mballoc.c', 'built')];
    expect(updateFixes(debian(changelog), outcomes, '6.1.192-1')).toEqual({ cves: ['CVE-2026-1234', 'CVE-2026-99362'], effectiveVersion: '6.1.192-3' });
  });

  it('stops below the first version with a fix not carried (or not told), and names only carried CVEs', () => {
    const changelog = [item('6.1.192-3', 'nfsd: fix nfsd4_sequence (CVE-2026-99362)', ['CVE-2026-99362']), item('6.1.192-2', 'ext4: fix mb_load_buddy (CVE-2026-1234)', ['CVE-2026-1234'])];
    const refusedNfsd = [outcome('fs/nfsd/nfs4state.c', 'refused'), outcome('fs/ext4/mballoc.c', 'built')];
    expect(updateFixes(debian(changelog), refusedNfsd, '6.1.192-1')).toEqual({ cves: ['CVE-2026-1234'], effectiveVersion: '6.1.192-2' });
    const refusedExt4 = [outcome('fs/nfsd/nfs4state.c', 'built'), outcome('fs/ext4/mballoc.c', 'refused')];
    expect(updateFixes(debian(changelog), refusedExt4, '6.1.192-1')).toEqual({ cves: ['CVE-2026-99362'], effectiveVersion: '6.1.192-1' });
    // An item no changed file can be tied to holds the version back: a scanner must not be told more than is known.
    const untold = [...changelog, item('6.1.192-2', 'Bump ABI to 57')];
    expect(updateFixes(debian(untold), [outcome('fs/nfsd/nfs4state.c', 'built'), outcome('fs/ext4/mballoc.c', 'built')], '6.1.192-1').effectiveVersion).toBe('6.1.192-1');
  });

  it('a fix for code this kernel does not build does not hold the version back', () => {
    const changelog = [item('6.1.192-3', 'ntfs3: fix a leak (CVE-2026-7)', ['CVE-2026-7'])];
    expect(updateFixes(debian(changelog), [outcome('fs/ntfs3/super.c', 'not built in this config')], '6.1.192-1')).toEqual({ cves: [], effectiveVersion: '6.1.192-3' });
  });
});
