import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { VmlinuxSource } from '@hotsplice/runpre';
import { verifyObjects } from '../../src/executors/verify-pre';
import { VERSION_PATCH, wrongBuild } from './wrong-build';
import { nx, scratchWorkspace, writeConfig } from './workspace';

// Build-time run-pre (issue 6 item 2): the verify-pre target matches the old code of every changed vmlinux object
// against Debian's -dbg vmlinux and stops the package on a mismatch or a wrong sympos.
const kernel = inject('kernel');
const ID = 'verify_pre_test';
const OBJECT = 'fs/proc/version.o';
const PATCH = VERSION_PATCH;
const vmlinux = () => new VmlinuxSource(kernel.vmlinux, kernel.systemMap);

describe('verify-pre: the old code against the -dbg vmlinux', () => {
  let ws: string;
  let first: ReturnType<typeof nx>;
  beforeAll(() => {
    ws = scratchWorkspace();
    writeFileSync(join(ws, 'one.patch'), PATCH);
    writeConfig(ws, ID, ['one.patch']);
    first = nx(ws, ['run', 'kernel:package']);
  });

  it('runs after collect and before package, and passes for a real update', () => {
    expect(first.code, first.output.slice(-3000)).toBe(0);
    expect(first.tasks.get('kernel:verify-pre'), first.output.slice(-3000)).toBe('ran');
    const line = /verify-pre: fs\/proc\/version\.o \[vmlinux\]: 1\/1 function\(s\) of the old code match vmlinux, sympos checked \((\d+) ms\)/.exec(first.output);
    expect(line, first.output.slice(-3000)).not.toBeNull();
    console.log(`verify-pre ${OBJECT}: ${line![1]} ms`);
    const report = JSON.parse(readFileSync(join(ws, 'dist/.hotsplice', ID, 'verify-pre.json'), 'utf8'));
    const source = vmlinux();
    try {
      expect(report.objects).toMatchObject([
        { object: OBJECT, objname: 'vmlinux', status: 'matched', matched: 1, functions: 1, results: [{ name: 'version_proc_show', status: 'matched', sympos: 0, address: `0x${source.addressOf('version_proc_show').toString(16)}` }] },
      ]);
    } finally {
      source.close();
    }
  });

  it('is wired before the package and cached like the other steps', () => {
    const project = JSON.parse(execFileSync(process.execPath, [join(ws, 'node_modules/nx/dist/bin/nx.js'), 'show', 'project', 'kernel', '--json'], { cwd: ws, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } }));
    expect(project.targets.package.dependsOn).toContain('verify-pre');
    expect(project.targets['verify-pre'].dependsOn).toEqual(['collect']);
    const again = nx(ws, ['run', 'kernel:package']);
    expect(again.code, again.output.slice(-3000)).toBe(0);
    expect(again.tasks.get('kernel:verify-pre')).toBe('cache');
  });

  it('fails for old code compiled with -O1, naming the object, the function, the offset and both byte strings', async () => {
    const wrong = await wrongBuild(kernel.sourceTree, mkdtempSync(join(tmpdir(), 'hs-verify-pre-')));
    expect(wrong.patched.map((p) => p.oldName)).toEqual(['version_proc_show']);
    const [verdict] = await verifyObjects([{ ...wrong, objname: 'vmlinux' }], vmlinux);
    expect(verdict).toMatchObject({ object: OBJECT, status: 'failed', matched: 0, functions: 1 });
    expect(verdict.detail).toMatch(/^run-pre: version_proc_show \(fs\/proc\/version\.o\) differs from vmlinux\S* at version_proc_show\+0x[0-9a-f]+: .*expected [0-9a-f ]+, found [0-9a-f ]+$/);
    expect(verdict.detail!.split('\n')).toHaveLength(1);
    console.log(`-O1 old code: ${verdict.detail}`);
  });

  it('fails when the differ’s sympos is not the position of the copy that matched', async () => {
    const oldCode = readFileSync(join(ws, 'dist/.hotsplice', ID, 'old', OBJECT));
    const [verdict] = await verifyObjects([{ object: OBJECT, objname: 'vmlinux', oldCode, patched: [{ oldName: 'version_proc_show', sympos: 1 }] }], vmlinux);
    expect(verdict.status).toBe('failed');
    expect(verdict.detail).toMatch(/^run-pre: version_proc_show \(fs\/proc\/version\.o\): the differ gave sympos 1, but the copy that matches vmlinux\S* \(0x[0-9a-f]+\) is sympos 0$/);
  });

  it('reports module objects as checked at apply time, without opening vmlinux', async () => {
    const verdicts = await verifyObjects([{ object: 'drivers/net/dummy.o', objname: 'dummy', oldCode: new Uint8Array(), patched: [{ oldName: 'dummy_get_stats64', sympos: 0 }] }], () => {
      throw new Error('vmlinux opened for a module object');
    });
    expect(verdicts).toMatchObject([{ status: 'not-checked', detail: 'not checked at build time (module object of dummy; checked at apply time when the module is loaded)' }]);
  });
});
