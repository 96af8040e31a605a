import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../src';
import { HOTSPLICE_BIN, call, killGroup, spawnCacheServer } from './helpers';

// The server as a separate process, SIGKILLed alone (not its process group): its nginx must not outlive it.
const WRITE = 'crash-write-token';

/** Every live descendant of a process (through /proc/<pid>/task/<tid>/children). */
function descendants(pid: number): number[] {
  const tasks = existsSync(`/proc/${pid}/task`) ? readdirSync(`/proc/${pid}/task`) : [];
  const children = tasks.flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/** Running (not zombie) and not reaped. */
function alive(pid: number): boolean {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

const cmdline = (pid: number) => (existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '');

/** Processes whose command line names the server folder (nginx's master shows `-p <dir>`). */
function processesOf(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => alive(p) && cmdline(p).includes(dir));
}

function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.destroy();
      done(true);
    });
    sock.once('error', () => done(false));
  });
}

/**
 * The server's processes once nginx's master has named itself: it rewrites its command line ("nginx: master
 * process …") a moment after it starts, which on a busy machine can be after the server announced itself.
 */
async function processTree(pid: number): Promise<number[]> {
  let tree: number[] = [];
  await until(() => (tree = descendants(pid)).some((p) => cmdline(p).startsWith('nginx: master')), 10_000);
  return tree;
}

async function until(what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await what()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cache server killed with SIGKILL', () => {
  const started: ChildProcess[] = [];
  const strays: number[] = [];
  afterEach(async () => {
    for (const child of started.splice(0)) await killGroup(child, 'SIGTERM');
    for (const pid of strays.splice(0)) if (alive(pid)) process.kill(pid, 'SIGTERM');
  });
  const start = async (dir: string, port: number) => {
    const child = await spawnCacheServer(dir, port, ['--write-token', WRITE]);
    started.push(child);
    return child;
  };

  it('takes its nginx with it (port closed, no process of the folder left) and starts again on the same folder and port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-crash-'));
    const port = await freePort();
    const server = await start(dir, port);
    expect((await call(`http://127.0.0.1:${port}`, 'PUT', '4001', WRITE, Buffer.from('kept'))).status).toBe(200);
    const tree = await processTree(server.pid!);
    strays.push(...tree);
    expect(tree.some((p) => cmdline(p).startsWith('nginx: master'))).toBe(true);

    process.kill(server.pid!, 'SIGKILL');
    expect(await until(async () => !tree.some(alive) && !(await answers(port)), 5000)).toBe(true);
    expect(processesOf(dir)).toEqual([]);

    await start(dir, port);
    const got = await call(`http://127.0.0.1:${port}`, 'GET', '4001', WRITE);
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('kept');
  });

  it('a restart stops a stale nginx of the folder whose server is gone, then serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-crash-'));
    const port = await freePort();
    await killGroup(await start(dir, port), 'SIGTERM');
    // An nginx of the folder that outlived its server (an older version without the supervisor, or a supervisor
    // killed too), made directly: the folder's own config, no server behind it.
    const stale = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')], { detached: true, stdio: 'ignore' });
    strays.push(stale.pid!);
    expect(await until(() => answers(port), 10_000)).toBe(true);

    await start(dir, port);
    expect(alive(stale.pid!)).toBe(false);
    expect((await call(`http://127.0.0.1:${port}`, 'PUT', '4002', WRITE, Buffer.from('new'))).status).toBe(200);
  });

  it('a SIGTERM right after it announced itself stops it cleanly (exit 0, port closed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-crash-'));
    const port = await freePort();
    const child = spawn(process.execPath, [HOTSPLICE_BIN, 'cache-server', '--dir', dir, '--port', String(port), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.stdout!.once('data', () => child.kill('SIGTERM'));
    const [code, signal] = await new Promise<[number | null, string | null]>((done) => child.once('exit', (c, s) => done([c, s])));
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: 'hotsplice cache-server: stopped (SIGTERM)\n' });
    expect(await answers(port)).toBe(false);
    expect(processesOf(dir)).toEqual([]);
  });

  it('still refuses a second server on a folder whose server runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-crash-'));
    await start(dir, await freePort());
    const second = await import('node:child_process').then(({ spawnSync }) =>
      spawnSync(process.execPath, [HOTSPLICE_BIN, 'cache-server', '--dir', dir, '--write-token', WRITE], { encoding: 'utf8' }),
    );
    expect(second.status).toBe(1);
    expect(second.stderr.trim()).toMatch(new RegExp(`^hotsplice: a cache server already runs on ${dir} \\(hotsplice pid \\d+, nginx pid \\d+\\)$`));
  });
});
