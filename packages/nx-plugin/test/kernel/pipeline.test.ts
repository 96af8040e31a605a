import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, nx, scratchWorkspace, writeConfig } from './workspace';

// The Nx pipeline on the real Debian tree, asserted from Nx's own task results (design.md §5).
const PATCHES = join(REPO, 'bench', 'patches');

describe('the Nx pipeline: cache keys and early cutoff', () => {
  let ws: string;
  beforeAll(() => {
    ws = scratchWorkspace();
    writeFileSync(join(ws, 'one.patch'), readFileSync(join(PATCHES, 'proc-version-marker.patch')));
    writeFileSync(
      join(ws, 'two.patch'),
      readFileSync(join(PATCHES, 'proc-version-marker.patch'), 'utf8') + readFileSync(join(PATCHES, 'proc-meminfo-field.patch'), 'utf8'),
    );
    writeConfig(ws, 'cache_test', ['one.patch']);
  });

  it('builds every object task once, then a second run is all cache hits', () => {
    const first = nx(ws, ['run', 'kernel:collect']);
    expect(first.code, first.output).toBe(0);
    expect(Object.fromEntries(first.tasks), first.output.slice(-3000)).toEqual({
      'kernel:prepare': 'ran',
      'kernel:manifest': 'ran',
      'kernel-fs-proc-version:snap': 'ran',
      'kernel-fs-proc-version:diff': 'ran',
      'kernel:collect': 'ran',
    });
    const second = nx(ws, ['run', 'kernel:collect']);
    expect(second.code, second.output).toBe(0);
    // The manifest too: its key reads the tree's files (tools/setup/tree-stamp.sh), which did not change.
    expect([...second.tasks].filter(([, how]) => how === 'ran')).toEqual([]);
    expect(second.tasks.get('kernel-fs-proc-version:snap')).toBe('cache');
    expect(second.tasks.get('kernel-fs-proc-version:diff')).toBe('cache');
    expect(second.tasks.get('kernel:collect')).toBe('cache');
  });

  it('reruns only the new object’s tasks when the patch grows to touch one more object', () => {
    writeConfig(ws, 'cache_test', ['two.patch']);
    const run = nx(ws, ['run', 'kernel:collect']);
    expect(run.code, run.output).toBe(0);
    expect(run.tasks.get('kernel:prepare')).toBe('cache');
    expect(run.tasks.get('kernel-fs-proc-version:snap')).toBe('cache');
    expect(run.tasks.get('kernel-fs-proc-version:diff')).toBe('cache');
    expect(run.tasks.get('kernel-fs-proc-meminfo:snap')).toBe('ran');
    expect(run.tasks.get('kernel-fs-proc-meminfo:diff')).toBe('ran');
    expect(run.tasks.get('kernel:collect')).toBe('ran');
    const collected = JSON.parse(readFileSync(join(ws, 'dist/.hotsplice/cache_test/collect.json'), 'utf8'));
    expect(collected.markers.map((m: { object: string; report: { changed: string[] } }) => [m.object, m.report.changed])).toEqual([
      ['fs/proc/meminfo.o', ['meminfo_proc_show']],
      ['fs/proc/version.o', ['version_proc_show']],
    ]);
  });

  it('keeps every task cached, the manifest too, when only "check" (what `try` shows in the guest) changes', () => {
    writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ id: 'cache_test', kernel: { abi: 'newest' }, patches: ['two.patch'], check: 'cat /proc/meminfo' }));
    const run = nx(ws, ['run', 'kernel:collect']);
    expect(run.code, run.output).toBe(0);
    expect([...run.tasks].filter(([, how]) => how === 'ran').map(([task]) => task)).toEqual([]);
    expect(run.tasks.get('kernel:collect')).toBe('cache');
  });

  it('links and packages two updates side by side (run-many): those steps are not batched, a batch holds Nx up', () => {
    mkdirSync(join(ws, 'second'));
    writeFileSync(join(ws, 'second', 'hotpatch.json'), JSON.stringify({ id: 'cache_second', kernel: { abi: 'newest' }, patches: ['../one.patch'] }));
    // Up to collect first; then a job that re-links every update (the uncached manifest left out, or it staggers
    // the two pipelines) has both links ready at the same moment.
    const upToCollect = nx(ws, ['run-many', '-t', 'collect', '--projects', 'kernel,kernel-cache_second']);
    expect(upToCollect.code, upToCollect.output.slice(-3000)).toBe(0);
    // Nx writes its task profile under its working directory.
    const run = nx(ws, ['run-many', '-t', 'link,verify-pre,package', '--projects', 'kernel,kernel-cache_second', '--exclude-task-dependencies'], { NX_PROFILE: 'links.json' });
    expect(run.code, run.output.slice(-3000)).toBe(0);
    for (const step of ['link', 'verify-pre', 'package']) {
      // Nx awaits a running batch before it starts any other task: batched, the two links ran one after the other.
      expect(run.output).not.toMatch(new RegExp(`Running 2 tasks with @hotsplice/nx-plugin:${step}`));
      expect([run.tasks.get(`kernel:${step}`), run.tasks.get(`kernel-cache_second:${step}`)]).toEqual(['ran', 'ran']);
    }
    const spans = (JSON.parse(readFileSync(join(ws, 'links.json'), 'utf8')) as Array<{ ph: string; name: string; ts: number; dur: number }>)
      .filter((e) => e.ph === 'X' && e.name.endsWith(':link'))
      .map((e) => [e.ts, e.ts + e.dur]);
    expect(spans).toHaveLength(2);
    // Side by side: the second link started before the first ended.
    expect(Math.max(spans[0]![0]!, spans[1]![0]!)).toBeLessThan(Math.min(spans[0]![1]!, spans[1]![1]!));
    expect(existsSync(join(ws, 'dist/hotpatch/cache_test/hotsplice-cache_test.tar.gz'))).toBe(true);
    expect(existsSync(join(ws, 'dist/hotpatch/cache_second/hotsplice-cache_second.tar.gz'))).toBe(true);
    rmSync(join(ws, 'second'), { recursive: true });
  });

  it('misses every object task when the compiler identity changes, and cuts off early on identical outputs', () => {
    // A gcc-12 that reports another version but compiles exactly as before.
    const bin = mkdtempSync(join(tmpdir(), 'hs-gcc-'));
    const real = '/usr/bin/gcc-12';
    writeFileSync(join(bin, 'gcc-12'), `#!/bin/sh\nif [ "$1" = --version ]; then echo "gcc-12 (hotsplice test build) 12.2.0"; exit 0; fi\nexec ${real} "$@"\n`);
    chmodSync(join(bin, 'gcc-12'), 0o755);
    const run = nx(ws, ['run', 'kernel:collect'], { PATH: `${bin}:${process.env.PATH}` });
    expect(run.code, run.output).toBe(0);
    // The manifest's key names the gcc-12 PATH finds: it runs again and hashes the new version line.
    expect(run.tasks.get('kernel:manifest')).toBe('ran');
    for (const task of ['version:snap', 'version:diff', 'meminfo:snap', 'meminfo:diff']) expect(run.tasks.get(`kernel-fs-proc-${task}`)).toBe('ran');
    // Byte-identical objects and markers: collect's inputs did not change, so it is a cache hit.
    expect(run.tasks.get('kernel:collect')).toBe('cache');
  });
});
