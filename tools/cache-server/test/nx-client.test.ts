import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCacheServer, startCacheServer } from '../src';

// Nx's own HTTP cache client (nx 24.0.6, Rust) against the server, on a two-target workspace small enough to run
// in seconds. The kernel pipeline version of this is test/kernel/remote-cache.test.ts.
const REPO = join(__dirname, '..', '..', '..');
const READ = 'ro-token';
const WRITE = 'rw-token';

function workspace(input: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'hs-nxc-'));
  writeFileSync(join(ws, 'nx.json'), JSON.stringify({ analytics: false, neverConnectToCloud: true, useDaemonProcess: false }));
  writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'probe', private: true }));
  symlinkSync(join(REPO, 'node_modules'), join(ws, 'node_modules'));
  mkdirSync(join(ws, 'p'));
  writeFileSync(join(ws, 'p', 'input.txt'), input);
  const build = (name: string) => ({
    command: `node -e "const f=require('fs');f.mkdirSync('dist/${name}',{recursive:true});f.writeFileSync('dist/${name}/out.bin',require('crypto').createHash('sha512').update(f.readFileSync('p/input.txt')+'${name}').digest())"`,
    cache: true,
    inputs: ['{projectRoot}/input.txt'],
    outputs: [`{workspaceRoot}/dist/${name}`],
  });
  writeFileSync(join(ws, 'p', 'project.json'), JSON.stringify({ name: 'p', targets: { one: build('one'), two: build('two') } }));
  return ws;
}

// Asynchronous on purpose: the server's commit handler runs in this process, a synchronous spawn would block it.
async function nx(ws: string, token: string, url: string) {
  const r = await execa(process.execPath, [join(ws, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'run-many', '-t', 'one', 'two', '--output-style=static'], {
    cwd: ws,
    reject: false,
    timeout: 60_000,
    env: {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_CACHE_DIRECTORY: join(ws, '.nx-cache'),
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: url,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
    },
  });
  return { code: r.exitCode, output: `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
}

describe('Nx’s remote cache client against the server', () => {
  let dir: string;
  let server: RunningCacheServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hs-nxc-store-'));
    server = await startCacheServer({ dir, port: 0, readToken: READ, writeToken: WRITE });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a second workspace with an empty local cache restores every task from the server, byte for byte', async () => {
    const a = workspace('same input');
    const first = await nx(a, WRITE, server.url);
    expect(first.code, first.output).toBe(0);
    expect(first.output).not.toMatch(/remote cache/);
    expect(readdirSync(join(dir, 'store'))).toHaveLength(2);

    const b = workspace('same input');
    const second = await nx(b, WRITE, server.url);
    expect(second.code, second.output).toBe(0);
    expect(second.output.match(/\[remote cache\]/g)?.length).toBe(2);
    for (const t of ['one', 'two']) expect(readFileSync(join(b, 'dist', t, 'out.bin'))).toEqual(readFileSync(join(a, 'dist', t, 'out.bin')));
  });

  it('a read-only token gets hits, and its new results are not stored (Nx takes the 403 silently)', async () => {
    const c = workspace('same input');
    const hit = await nx(c, READ, server.url);
    expect(hit.code, hit.output).toBe(0);
    expect(hit.output.match(/\[remote cache\]/g)?.length).toBe(2);

    const d = workspace('a different input');
    const miss = await nx(d, READ, server.url);
    expect(miss.code, miss.output).toBe(0);
    expect(miss.output).not.toMatch(/remote cache/);
    expect(readdirSync(join(dir, 'store'))).toHaveLength(2);
  });

  it('a wrong token fails the run with the server’s 401', async () => {
    const e = workspace('same input');
    const run = await nx(e, 'not-a-token', server.url);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/401|Missing or invalid authentication token/);
  });
});
