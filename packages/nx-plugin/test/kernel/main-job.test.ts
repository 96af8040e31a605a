import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { nx, scratchWorkspace } from './workspace';

// The main job as the README runs it, on the workspace's own hotpatch.json and example patch.
const kernel = inject('kernel');
const ID = 'proc_version_marker';

describe('nx run kernel:hotpatch (the main job)', () => {
  let ws: string;
  let first: Buffer;
  beforeAll(() => {
    ws = scratchWorkspace();
    const run = nx(ws, ['run', 'kernel:hotpatch']);
    if (run.code !== 0) throw new Error(run.output);
    first = readFileSync(join(ws, 'dist/hotpatch', ID, `hotsplice-${ID}.tar.gz`));
  });

  it('packages a livepatch module for Debian’s ABI with its klp relocation sections', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-pkg-'));
    execFileSync('tar', ['-xzf', join(ws, 'dist/hotpatch', ID, `hotsplice-${ID}.tar.gz`), '-C', dir]);
    const ko = join(dir, `${ID}.ko`);
    expect(execFileSync('modinfo', ['-F', 'livepatch', ko], { encoding: 'utf8' }).trim()).toBe('Y');
    expect(execFileSync('modinfo', ['-F', 'vermagic', ko], { encoding: 'utf8' }).split(' ')[0]).toBe(kernel.abi);
    const sections = execFileSync('readelf', ['-W', '-S', ko], { encoding: 'utf8' });
    expect(sections).toMatch(/\.klp\.rela\.vmlinux\.\.text\.version_proc_show\s+RELA\s.*\bAIo\b/);
    const symbols = execFileSync('readelf', ['-W', '-s', ko], { encoding: 'utf8' });
    expect(symbols).toMatch(/GLOBAL DEFAULT OS \[0xff20\] \.klp\.sym\.vmlinux\.linux_proc_banner,0$/m);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.kernel.abi).toBe(kernel.abi);
    expect(manifest.objects).toEqual([
      { objname: 'vmlinux', functions: [{ name: 'version_proc_show', sympos: 0, object: 'fs/proc/version.o', newSymbol: '__hotsplice_vmlinux__version_proc_show__0' }] },
    ]);
    for (const [member, sha] of Object.entries(manifest.members)) {
      expect(createHash('sha256').update(readFileSync(join(dir, member))).digest('hex'), member).toBe(sha);
    }
  });

  it('puts the self-contained target CLI beside the package: it runs from an empty directory with node alone', () => {
    const bare = mkdtempSync(join(tmpdir(), 'hs-target-'));
    copyFileSync(join(ws, 'dist/hotpatch', ID, 'hotsplice.cjs'), join(bare, 'hotsplice.cjs'));
    const help = execFileSync(process.execPath, [join(bare, 'hotsplice.cjs'), '--help'], { cwd: bare, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    const commands = help.split('\ncommands:\n')[1].split('\n\n')[0].split('\n');
    expect(commands.map((l) => l.trim().split(' ')[0])).toEqual(['apply', 'undo', 'view', 'status', 'install', 'uninstall', 'list', 'verify']);
  });

  it('builds a byte-identical package from the same input', () => {
    const again = nx(ws, ['run', 'kernel:hotpatch', '--skip-nx-cache']);
    expect(again.code, again.output).toBe(0);
    expect(again.tasks.get('kernel:link'), again.output.slice(-3000)).toBe('ran');
    const second = readFileSync(join(ws, 'dist/hotpatch', ID, `hotsplice-${ID}.tar.gz`));
    expect(second.equals(first)).toBe(true);
  });
});
