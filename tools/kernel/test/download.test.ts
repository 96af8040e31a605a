// kernel prepare's download step leaves nothing in the cache when apt fails, and tidies a killed run's leftovers.
// apt is replaced by scripts on PATH that fail the way apt does for a version the archive no longer has.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
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
});
