// kernel prepare's download step leaves nothing in the cache when apt fails, and tidies a killed run's leftovers.
// apt is replaced by scripts on PATH that fail the way apt does for a version the archive no longer has.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { packagesFor } from '../src/apt';
import { download } from '../src/prepare';

function fakeApt(script: string): string {
  const bin = mkdtempSync(join(tmpdir(), 'hs-fake-apt-'));
  for (const tool of ['apt-cache', 'apt-get']) {
    writeFileSync(join(bin, tool), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

afterEach(() => vi.unstubAllEnvs());

describe('download', () => {
  const pkgs = packagesFor('6.1.0-99-amd64', '6.1.999-1');

  it('removes its .partial-<pid> folder when apt fails on a missing version', async () => {
    vi.stubEnv('PATH', `${fakeApt(`echo "E: Version '6.1.999-1' for 'linux-source-6.1' was not found" >&2; exit 100`)}:${process.env.PATH}`);
    const root = mkdtempSync(join(tmpdir(), 'hs-dl-'));
    await expect(download(root, pkgs, () => undefined, true)).rejects.toThrow("E: Version '6.1.999-1' for 'linux-source-6.1' was not found");
    expect(readdirSync(join(root, 'debs'))).toEqual([]);
  });

  it('removes the .partial folders of runs that were killed, not those of live ones', async () => {
    vi.stubEnv('PATH', `${fakeApt('exit 100')}:${process.env.PATH}`);
    const root = mkdtempSync(join(tmpdir(), 'hs-dl-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    for (const name of [`.partial-${dead}`, `.partial-${process.ppid}`]) mkdirSync(join(root, 'debs', name, 'partial'), { recursive: true });
    await expect(download(root, pkgs, () => undefined, true)).rejects.toThrow(/failed \(exit code 100\)/);
    expect(readdirSync(join(root, 'debs'))).toEqual([`.partial-${process.ppid}`]);
  });

  it('runs two downloads of one process side by side, each in its own .partial folder (-dbg beside the others)', async () => {
    // apt-get download writes each package into its working directory after a while; the log says which directory.
    const log = join(mkdtempSync(join(tmpdir(), 'hs-dl-log-')), 'cwd');
    const script = [
      `case "$0" in *apt-cache) exit 0;; esac`,
      `echo "$PWD" >> ${log}; sleep 0.3`,
      `for a in "$@"; do case "$a" in *=*) touch "\${a%%=*}_\${a#*=}_amd64.deb";; esac; done`,
    ].join('\n');
    vi.stubEnv('PATH', `${fakeApt(script)}:${process.env.PATH}`);
    const root = mkdtempSync(join(tmpdir(), 'hs-dl-'));
    const others = [pkgs.source, pkgs.image];
    const [dbg, rest] = await Promise.all([download(root, pkgs, () => undefined, true, [pkgs.dbg]), download(root, pkgs, () => undefined, true, others)]);
    expect(dbg).toEqual({ [pkgs.dbg]: join(root, 'debs', `${pkgs.dbg}_6.1.999-1_amd64.deb`) });
    expect(Object.keys(rest)).toEqual(others);
    expect(new Set(readFileSync(log, 'utf8').trim().split('\n')).size).toBe(2);
    expect(readdirSync(join(root, 'debs')).sort()).toEqual([`${pkgs.dbg}_6.1.999-1_amd64.deb`, `${pkgs.image}_6.1.999-1_amd64.deb`, `${pkgs.source}_6.1.999-1_amd64.deb`].sort());
  });
});
