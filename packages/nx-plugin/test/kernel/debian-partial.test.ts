// A partial Debian update (exit 4): Debian's 6.1.192-1 -> 6.1.192-3 for the -55 kernel carries two fixes (ext4's
// mballoc, 6.1.192-2, and nfsd's CVE-2026-99362, 6.1.192-3); `--only fs/ext4/` ships the first and must say, in the
// exit code, the report and the summary, that the nfsd fix is not in the package. Both source versions come from apt.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpdateReport } from '@hotsplice/link';
import { create, scratchWorkspace } from './workspace';

const ABI = '6.1.0-55-amd64'; // Debian 6.1.192-1
const ID = 'deb_ext4_only';

describe('a Debian update with only some of its files selected', () => {
  let ws: string;
  let r: ReturnType<typeof create>;
  beforeAll(() => {
    ws = scratchWorkspace();
    r = create(ws, '--debian-update', '6.1.192-3', '--abi', ABI, '--only', 'fs/ext4/', '--id', ID);
  }, 3_600_000);

  it('builds the selected fix and exits 4 (partial), naming what the package lacks', () => {
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(4);
    expect(r.stderr).toContain('hotsplice: partial update: 1 change(s) not carried: fs/nfsd/nfs4state.c');
    const report = JSON.parse(readFileSync(join(ws, 'dist', 'hotpatch', ID, 'report.json'), 'utf8')) as UpdateReport;
    expect(report.outcomes).toEqual([
      { path: 'fs/ext4/mballoc.c', outcome: 'built', detail: 'ext4_mb_init_group, ext4_mb_load_buddy_gfp' },
      { path: 'fs/nfsd/nfs4state.c', outcome: 'not selected', detail: '' },
    ]);
    const summary = readFileSync(join(ws, 'dist', 'hotpatch', ID, 'summary.txt'), 'utf8');
    expect(summary).toContain('  CVE-2026-99362: not carried (nfsd: preflight SEQUENCE replies before accepting a slot (CVE-2026-99362))');
    // The package is the ext4 fix alone, for ext4's klp object.
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(ws, 'dist', 'hotpatch', ID, `hotsplice-${ID}.tar.gz`), 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest.kernel).toMatchObject({ abi: ABI, version: '6.1.192-1' });
    expect(manifest.objects.map((o: { objname: string; functions: Array<{ name: string }> }) => [o.objname, o.functions.map((f) => f.name)])).toEqual([
      ['ext4', ['ext4_mb_init_group', 'ext4_mb_load_buddy_gfp']],
    ]);
  });
});
