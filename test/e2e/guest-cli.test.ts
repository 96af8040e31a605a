import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '@hotsplice/guest';

const kernel = inject('kernel');
const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'hotsplice.js');

describe('hotsplice guest (the CLI verb)', () => {
  it('shares one boot between scripts, passes files, and exits with the failing script’s code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hs-guest-cli-'));
    await writeFile(join(dir, 'data.txt'), 'payload-42\n');
    await writeFile(join(dir, 'read.sh'), 'cat data.txt\ncat /proc/sys/kernel/osrelease\n');
    await writeFile(join(dir, 'fail.sh'), 'echo failing on purpose\nexit 3\n');
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'guest', '--run', join(dir, 'read.sh'), '--run', join(dir, 'fail.sh'), '--file', join(dir, 'data.txt'), '--json', '--quiet'],
        { maxBuffer: 64 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
      ),
    );
    expect(run.code).toBe(3);
    const result = JSON.parse(run.stdout);
    expect(result.abi).toBe(kernel.abi);
    expect(result.scripts).toEqual([
      { name: '01-read.sh', exitCode: 0, output: `payload-42\n${kernel.abi}\n` },
      { name: '02-fail.sh', exitCode: 3, output: 'failing on purpose\n' },
    ]);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(false);
    expect(result.initramfsBytes).toBeLessThan(4 << 20); // busybox only: no node
    expect(run.stderr).toMatch(/hotsplice guest: booted in [\d.]+ s, total [\d.]+ s; 01-read.sh=0 02-fail.sh=3/);
  });
});
