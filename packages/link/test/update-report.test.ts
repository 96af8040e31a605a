// Each changed file's fate in report.json and which changelog items an update carries.
import { describe, expect, it } from 'vitest';
import type { DiffReport } from '@hotsplice/objdiff';
import { NOT_CARRIED, changelogCoverage, fileOutcomes, type InputFile } from '../src/update-report';

const verdict = (object: string, changed: string[], refused: DiffReport['refused'] = []): DiffReport => ({
  object,
  objname: 'nfsd',
  changed,
  new: [],
  newData: [],
  refused,
  patched: [],
  symbols: [],
  callbacks: [],
});

const FILES: InputFile[] = [
  { path: 'fs/nfsd/nfs4state.c', kind: 'source', objects: ['fs/nfsd/nfs4state.o'] },
  { path: 'fs/nfsd/state.h', kind: 'source', objects: ['fs/nfsd/nfs4state.o', 'fs/nfsd/nfs4proc.o'] },
  { path: 'fs/ext4/mballoc.c', kind: 'source', objects: ['fs/ext4/mballoc.o'] },
  { path: 'fs/ntfs3/super.c', kind: 'not-built' },
  { path: 'net/sched/Kconfig', kind: 'not-live-patchable', reason: 'configuration changes need a new kernel' },
  { path: 'Documentation/x.rst', kind: 'outside-the-kernel', reason: 'documentation' },
];
const REPORTS = [
  verdict('fs/nfsd/nfs4state.o', ['nfsd4_sequence']),
  verdict('fs/nfsd/nfs4proc.o', []),
  verdict('fs/ext4/mballoc.o', [], [{ symbol: 'ext4_mb_ops', reason: 'changed existing data: size 8 -> 16' }]),
];

describe('the fate of each changed file', () => {
  it('joins sources with their objects’ verdicts and keeps the rest as classified', () => {
    expect(fileOutcomes(FILES, REPORTS)).toEqual([
      { path: 'fs/nfsd/nfs4state.c', outcome: 'built', detail: 'nfsd4_sequence' },
      { path: 'fs/nfsd/state.h', outcome: 'built', detail: 'nfsd4_sequence' },
      { path: 'fs/ext4/mballoc.c', outcome: 'refused', detail: 'fs/ext4/mballoc.o: ext4_mb_ops: changed existing data: size 8 -> 16' },
      { path: 'fs/ntfs3/super.c', outcome: 'not built in this config', detail: '' },
      { path: 'net/sched/Kconfig', outcome: 'not live-patchable', detail: 'configuration changes need a new kernel' },
      { path: 'Documentation/x.rst', outcome: 'outside the kernel', detail: 'documentation' },
    ]);
  });

  it('names a change the selection left out as not selected, which is not carried', () => {
    expect(fileOutcomes([{ path: 'fs/nfsd/nfs4state.c', kind: 'not-selected' }], REPORTS)).toEqual([{ path: 'fs/nfsd/nfs4state.c', outcome: 'not selected', detail: '' }]);
    expect(NOT_CARRIED).toContain('not selected');
  });

  it('counts a file whose object only registers callbacks as built', () => {
    const callbacksOnly: DiffReport = {
      ...REPORTS[0],
      object: 'fs/proc/uptime.o',
      objname: 'vmlinux',
      changed: [],
      patched: [],
      ignored: ['uptime_proc_show'],
      callbacks: [{ kind: 'post_patch', function: 'uptime_kpatch_post_patch', newSymbol: 'x', takesObject: true }],
    };
    expect(fileOutcomes([{ path: 'fs/proc/uptime.c', kind: 'source', objects: ['fs/proc/uptime.o'] }], [callbacksOnly])).toEqual([
      { path: 'fs/proc/uptime.c', outcome: 'built', detail: 'uptime_kpatch_post_patch (post_patch callback)' },
    ]);
  });

  it('tells from a title’s subsystem prefix which files an item is about', () => {
    const outcomes = fileOutcomes(FILES, REPORTS);
    const items = [
      { version: '2', title: 'nfsd: preflight SEQUENCE replies (CVE-1)', cves: ['CVE-1'] },
      { version: '2', title: 'ext4: fix NULL folio dereference (CVE-2)', cves: ['CVE-2'] },
      { version: '2', title: 'fs/ntfs3: check a length (CVE-3)', cves: ['CVE-3'] },
      { version: '2', title: 'HID: sony: fix UAF (CVE-4)', cves: ['CVE-4'] },
    ];
    expect(changelogCoverage(items, outcomes).map((i) => [i.cves[0], i.coverage, i.files])).toEqual([
      ['CVE-1', 'carried', ['fs/nfsd/nfs4state.c', 'fs/nfsd/state.h']],
      ['CVE-2', 'not carried', ['fs/ext4/mballoc.c']],
      ['CVE-3', 'not in this kernel', ['fs/ntfs3/super.c']],
      ['CVE-4', 'unknown', []],
    ]);
  });
});
