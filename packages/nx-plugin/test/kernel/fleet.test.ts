// One fix for a fleet in one command, on the real kernels: two bookworm ABIs (the newest 6.1 and -55 = 6.1.192-1,
// which the Debian-fixes tests prepare anyway; the machine's gcc-12), trixie's newest 6.12 (gcc-14 in its build
// root) and an ABI apt does not have. Each real kernel gets its package from its own pipeline; the missing one is
// named in the summary with the reason; a second run is all cache hits.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { readFleetSummary } from '../../src/executors/fleet';
import { REPO, nx, scratchWorkspace } from './workspace';

const bookworm = inject('kernel');
const trixie = inject('trixie');
/** An older bookworm ABI, its own Debian version (6.1.192-1) and kbuild host tools built from its source. */
const OLDER = '6.1.0-55-amd64';
const ID = 'fleet_marker';
const project = (abi: string) => `kernel-${abi.replace('+', '_')}`;

describe('a fleet update: two bookworm 6.1 ABIs, trixie 6.12 and a kernel apt does not offer', () => {
  let ws: string;
  let first: ReturnType<typeof nx>;

  beforeAll(() => {
    ws = scratchWorkspace();
    writeFileSync(join(ws, 'fix.patch'), readFileSync(join(REPO, 'examples', 'proc-version-marker.patch')));
    writeFileSync(join(ws, 'fleet.txt'), `# the web tier\n${bookworm.abi}\n${OLDER}  # not updated yet\nnewest-trixie\n6.1.0-0-amd64\n`);
    writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ id: ID, fleet: 'fleet.txt', patches: ['fix.patch'] }));
    first = nx(ws, ['run', 'kernel:hotpatch']);
  });

  it('builds a package per real kernel and names the one it could not build, exit 1', async () => {
    expect(first.code, first.output.slice(-3000)).toBe(1);
    const summary = await readFleetSummary(ws, ID);
    // A real kernel without a package says why first (its step's own line).
    expect(summary.kernels.slice(0, 3).map((k) => `${k.request}: ${k.reason ?? 'package'}`)).toEqual([bookworm.abi, OLDER, 'newest-trixie'].map((r) => `${r}: package`));
    expect(summary.kernels.map((k) => [k.request, k.abi, k.suite, k.version, k.package])).toEqual([
      [bookworm.abi, bookworm.abi, 'bookworm', bookworm.version, `dist/hotpatch/${ID}/${bookworm.abi}/hotsplice-${ID}.tar.gz`],
      [OLDER, OLDER, 'bookworm', '6.1.192-1', `dist/hotpatch/${ID}/${OLDER}/hotsplice-${ID}.tar.gz`],
      ['newest-trixie', trixie.abi, 'trixie', trixie.version, `dist/hotpatch/${ID}/${trixie.abi}/hotsplice-${ID}.tar.gz`],
      ['6.1.0-0-amd64', undefined, undefined, undefined, undefined],
    ]);
    expect(summary.kernels[3]!.reason).toMatch(/^prepare: unknown kernel ABI "6\.1\.0-0-amd64"; apt offers: 6\.1\.0-\d+-amd64/);
    expect(readFileSync(join(ws, 'dist', 'hotpatch', ID, 'fleet.txt'), 'utf8')).toBe(
      [
        `hotsplice fleet update ${ID}: 3 of 4 kernel(s) have a package`,
        `  ${bookworm.abi} (bookworm ${bookworm.version}): dist/hotpatch/${ID}/${bookworm.abi}/hotsplice-${ID}.tar.gz`,
        `  ${OLDER} (bookworm 6.1.192-1): dist/hotpatch/${ID}/${OLDER}/hotsplice-${ID}.tar.gz`,
        `  ${trixie.abi} (trixie ${trixie.version}): dist/hotpatch/${ID}/${trixie.abi}/hotsplice-${ID}.tar.gz`,
        `  6.1.0-0-amd64: no package: ${summary.kernels[3]!.reason}`,
        '',
      ].join('\n'),
    );
    for (const k of summary.kernels.slice(0, 3)) {
      expect(existsSync(join(ws, k.package!))).toBe(true);
      // Each package is for its own kernel: the package step's summary names the ABI and its Debian version.
      const text = readFileSync(join(ws, 'dist', 'hotpatch', ID, k.abi!, 'summary.txt'), 'utf8');
      expect(text.split('\n')[0]).toBe(`hotsplice update ${ID} for Linux ${k.abi} (Debian ${k.version})`);
    }
    // Each kernel's pipeline ran in its own projects.
    for (const abi of [bookworm.abi, OLDER, trixie.abi]) {
      expect(first.tasks.get(`${project(abi)}-fs-proc-version:diff`), abi).toBe('ran');
      expect(first.tasks.get(`${project(abi)}:link`), abi).toBe('ran');
    }
  });

  it('runs nothing again but the fleet step itself when nothing changed', () => {
    const again = nx(ws, ['run', 'kernel:hotpatch']);
    expect(again.code).toBe(1);
    const ran = [...again.tasks].filter(([, how]) => how === 'ran').map(([task]) => task).sort();
    // Each kernel's manifest is restored too: its key reads that kernel's own tree (tools/setup/tree-stamp.sh).
    expect(ran).toEqual(['kernel:hotpatch']);
    for (const abi of [bookworm.abi, OLDER, trixie.abi]) expect(again.tasks.get(`${project(abi)}:manifest`), abi).toBe('cache');
  });
});
