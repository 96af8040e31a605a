import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type NxRun, nx, scratchWorkspace } from '../../../../packages/nx-plugin/test/kernel/workspace';
import { freePort } from '../../src';
import { killGroup, sha256, spawnCacheServer } from '../helpers';

// The main job in two workspace copies with separate, empty local Nx caches sharing one `hotsplice cache-server`:
// the second gets every object task from the server and restores byte-identical outputs. The second also sets a
// compiler wrapper (hotpatch.json ccWrapper and HOTSPLICE_CC_WRAPPER): it must not change any cache key.
inject('kernel');
const READ = 'ci-read-only';
const WRITE = 'ci-read-write';
const ID = 'proc_version_marker';

const objectTasks = (run: NxRun) => [...run.tasks.keys()].filter((t) => /:(snap|diff)$/.test(t)).sort();

function files(dir: string, under: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(join(dir, under), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length + 1), sha256(readFileSync(path)));
  }
  return out;
}

describe('two workspaces sharing the cache server (kernel:hotpatch)', () => {
  let server: ChildProcess;
  let url: string;
  let store: string;
  let a: string;
  let b: string;
  let cold: NxRun;
  let warm: NxRun;
  const seconds = { cold: 0, remote: 0 };
  const env = (ws: string, token: string, extra: NodeJS.ProcessEnv = {}) => ({
    NX_CACHE_DIRECTORY: join(ws, '.nx-local-cache'),
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: url,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
    ...extra,
  });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-kernel-'));
    store = join(dir, 'store');
    const port = await freePort();
    // A process of its own: nx() below blocks this one while Nx talks to the server.
    server = await spawnCacheServer(dir, port, ['--read-token', READ, '--write-token', WRITE]);
    url = `http://127.0.0.1:${port}`;

    a = scratchWorkspace();
    let t = Date.now();
    cold = nx(a, ['run', 'kernel:hotpatch'], env(a, WRITE));
    seconds.cold = (Date.now() - t) / 1000;
    if (cold.code !== 0) throw new Error(cold.output);

    b = scratchWorkspace();
    const config = JSON.parse(readFileSync(join(b, 'hotpatch.json'), 'utf8'));
    writeFileSync(join(b, 'hotpatch.json'), `${JSON.stringify({ ...config, ccWrapper: 'distcc' }, null, 2)}\n`);
    t = Date.now();
    warm = nx(b, ['run', 'kernel:hotpatch'], env(b, WRITE, { HOTSPLICE_CC_WRAPPER: 'distcc' }));
    seconds.remote = (Date.now() - t) / 1000;
    if (warm.code !== 0) throw new Error(warm.output);
    console.log(
      `remote cache: kernel:hotpatch with empty Nx caches ${seconds.cold.toFixed(1)} s; second workspace, empty local ` +
        `cache, remote hits ${seconds.remote.toFixed(1)} s; ${readdirSync(store).length} entries stored`,
    );
  });
  afterAll(async () => {
    if (server) await killGroup(server, 'SIGTERM');
  });

  it('the first workspace builds the object tasks and stores them on the server', () => {
    expect(objectTasks(cold).length).toBeGreaterThanOrEqual(2);
    for (const task of objectTasks(cold)) expect(cold.tasks.get(task), task).toBe('ran');
    expect(readdirSync(store).length).toBeGreaterThanOrEqual(objectTasks(cold).length);
  });

  it('the second, with an empty local cache and a compiler wrapper, gets every object task as a remote hit', () => {
    expect(objectTasks(warm)).toEqual(objectTasks(cold));
    for (const task of objectTasks(warm)) {
      expect(warm.tasks.get(task), task).toBe('cache');
      expect(warm.output, task).toMatch(new RegExp(`> nx run ${task.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\[remote cache\\]`));
    }
    for (const later of ['kernel:collect', 'kernel:link', 'kernel:package']) {
      expect(warm.output, later).toMatch(new RegExp(`> nx run ${later}\\s+\\[remote cache\\]`));
    }
  });

  it('restores byte-identical outputs: the package, report, summary and every object', () => {
    const first = files(a, 'dist/hotpatch');
    expect(files(b, 'dist/hotpatch')).toEqual(first);
    expect(first.has(`dist/hotpatch/${ID}/hotsplice-${ID}.tar.gz`)).toBe(true);
    // The tasks' declared outputs (link's kbuild scratch folder is not one, Nx does not restore it).
    const objects = (ws: string) =>
      new Map([...files(ws, 'dist/.hotsplice').entries()].filter(([path]) => /\.(o|KSPLICE)$/.test(path) && !path.includes('/kbuild/')));
    expect(objects(b)).toEqual(objects(a));
    expect([...objects(a).keys()].filter((p) => /\/(pre|post)\//.test(p)).length).toBeGreaterThanOrEqual(2);
  });

  it('a job with the read-only token gets the same hits and writes nothing', () => {
    const before = readdirSync(store).sort();
    const c = scratchWorkspace();
    const run = nx(c, ['run', 'kernel:hotpatch'], env(c, READ));
    expect(run.code, run.output).toBe(0);
    for (const task of objectTasks(run)) expect(run.tasks.get(task), task).toBe('cache');
    expect(readdirSync(store).sort()).toEqual(before);
  });

  it('a job with a wrong token fails on the 401 instead of building without the cache', () => {
    const d = scratchWorkspace();
    const run = nx(d, ['run', 'kernel:hotpatch'], env(d, 'not-the-token'));
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/401|Missing or invalid authentication token/);
  });
});
