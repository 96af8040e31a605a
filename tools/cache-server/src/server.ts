import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TOKEN_PATTERN, nginxConfig } from './nginx-config';
import { folderNginx, liveOwner, running, writeOwner } from './owner';
import { Store } from './store';
import { spawnSupervised } from './supervisor';

export interface CacheServerOptions {
  /** Server folder (created): the store, nginx's config, temp files, logs and pid. */
  dir: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to listen on (default 127.0.0.1; 0.0.0.0 for a build farm). */
  listen?: string;
  /** Read-only token (GET only; PUT → 403). Optional. */
  readToken?: string;
  /** Read-write token; a random one when not given. */
  writeToken?: string;
  /** Largest entry accepted (413 above). Default 256 MiB. */
  maxEntryBytes?: number;
  /** The store is kept under this by deleting the oldest entries. Default 8 GiB. */
  maxStoreBytes?: number;
  /** nginx binary (default: $HOTSPLICE_NGINX, /usr/sbin/nginx, or nginx on PATH). */
  nginx?: string;
  /** Called with each line nginx prints (startup problems). */
  onLog?: (line: string) => void;
}

export interface RunningCacheServer {
  url: string;
  port: number;
  dir: string;
  readToken?: string;
  writeToken: string;
  nginxPid: number;
  store: Store;
  /** Resolves when nginx exits (code, or signal name). */
  exited: Promise<number | string>;
  /** Stop nginx (fast shutdown) and the commit handler. */
  stop(): Promise<void>;
}

export const DEFAULT_MAX_ENTRY_BYTES = 256 * 2 ** 20;
export const DEFAULT_MAX_STORE_BYTES = 8 * 2 ** 30;

export class CacheServerError extends Error {}

/** Start nginx configured as Nx's self-hosted remote cache, with the commit handler beside it in this process. */
export async function startCacheServer(options: CacheServerOptions): Promise<RunningCacheServer> {
  const dir = resolve(options.dir);
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const maxStoreBytes = options.maxStoreBytes ?? DEFAULT_MAX_STORE_BYTES;
  if (!(Number.isSafeInteger(maxEntryBytes) && maxEntryBytes > 0)) throw new CacheServerError('max entry bytes must be a positive integer');
  if (!(Number.isSafeInteger(maxStoreBytes) && maxStoreBytes >= maxEntryBytes)) {
    throw new CacheServerError('max store bytes must be an integer at least as large as max entry bytes');
  }
  const writeToken = options.writeToken ?? randomBytes(24).toString('base64url');
  for (const [name, token] of [['read', options.readToken], ['write', writeToken]] as const) {
    if (token !== undefined && !TOKEN_PATTERN.test(token)) throw new CacheServerError(`the ${name} token may only hold A-Z a-z 0-9 . _ ~ + / - (and trailing =)`);
  }
  if (options.readToken && options.readToken === writeToken) throw new CacheServerError('the read and write tokens must differ');
  const nginx = options.nginx ?? findNginx();
  const listen = options.listen ?? '127.0.0.1';
  const configFile = join(dir, 'nginx.conf');
  // Before the port check: a stale nginx of this folder may still hold the port.
  await takeOver(dir, configFile);
  const port = options.port || (await freePort(listen));
  // nginx retries a busy port for seconds, and a stale listener would look like a started server: check first.
  await assertPortFree(listen, port);

  // Only this server writes tmp/ (nginx's body buffers, the commit handler's uploads): a killed run's leftovers go.
  await rm(join(dir, 'tmp'), { recursive: true, force: true });
  for (const sub of ['logs', 'run', 'tmp']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  await writeOwner(dir);
  const store = new Store(dir, maxEntryBytes, maxStoreBytes);
  await store.open();

  // The commit handler: only nginx reaches it (a socket in the server folder, or a private temp folder).
  let socketDir: string | undefined;
  let commitSocket = join(dir, 'run', 'commit.sock');
  if (Buffer.byteLength(commitSocket) > 100) {
    socketDir = await mkdtemp(join(tmpdir(), 'hs-cache-'));
    commitSocket = join(socketDir, 'commit.sock');
  }
  await rm(commitSocket, { force: true });
  const commit = await listenCommit(store, commitSocket);

  const asRoot = process.geteuid?.() === 0;
  await writeFile(
    configFile,
    nginxConfig({ dir, listen, port, commitSocket, readToken: options.readToken, writeToken, maxEntryBytes, asRoot }),
    { mode: 0o600 },
  );
  await chmod(configFile, 0o600);

  const lines: string[] = [];
  const nginxRun = spawnSupervised(nginx, ['-p', dir, '-c', configFile, '-e', join(dir, 'logs', 'error.log')], (line) => {
    lines.push(line);
    options.onLog?.(line);
  });
  const { exited } = nginxRun;

  const closeCommit = async () => {
    await new Promise<void>((done) => commit.close(() => done()));
    commit.closeAllConnections();
    if (socketDir) await rm(socketDir, { recursive: true, force: true });
  };
  const ready = await Promise.race([waitForPort(listen, port, 10_000).then(() => true, () => false), exited.then(() => false)]);
  if (!ready) {
    nginxRun.stop();
    await exited;
    await closeCommit();
    const log = await readFile(join(dir, 'logs', 'error.log'), 'utf8').catch(() => '');
    const why = [...lines, ...log.trim().split('\n').slice(-3)].filter(Boolean).join(' | ');
    throw new CacheServerError(`nginx did not start on ${listen}:${port}: ${why || 'no message'}`);
  }

  const nginxPid = await nginxRun.nginxPid;
  const host = listen === '0.0.0.0' ? '127.0.0.1' : listen.includes(':') ? `[${listen}]` : listen;
  return {
    url: `http://${host}:${port}`,
    port,
    dir,
    readToken: options.readToken,
    writeToken,
    nginxPid,
    store,
    exited,
    async stop() {
      nginxRun.stop();
      const timer = setTimeout(() => {
        try {
          process.kill(nginxPid, 'SIGKILL');
        } catch {
          // already gone
        }
        nginxRun.child.kill('SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
      await closeCommit();
    },
  };
}

/** The HTTP server nginx forwards accepted PUT bodies to (over a Unix socket, HTTP/1.1 keep-alive). */
function listenCommit(store: Store, socket: string): Promise<Server> {
  const server = createServer((req, res) => {
    const hash = /^\/v1\/cache\/([^/]+)$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'PUT' || !hash) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    store.commit(hash, req).then((result) => {
      if (result.status === 200) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Successfully uploaded the output\n');
      } else {
        res.writeHead(result.status, { 'content-type': 'text/plain', connection: 'close' }).end(`${result.message}\n`);
        req.resume();
      }
    });
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(socket, () => done(server));
  });
}

export function findNginx(): string {
  if (process.env.HOTSPLICE_NGINX) return process.env.HOTSPLICE_NGINX;
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
}

/** A TCP port nothing listens on right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((done, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
  });
}

/**
 * One server per folder: refuse when the folder's nginx runs for a live server; stop it when its server is gone
 * (killed together with the supervisor, or by an older version), so a restart after a crash works.
 */
async function takeOver(dir: string, configFile: string): Promise<void> {
  const pid = await folderNginx(dir, configFile);
  if (!pid) return;
  const owner = await liveOwner(dir);
  if (owner) throw new CacheServerError(`a cache server already runs on ${dir} (hotsplice pid ${owner}, nginx pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + 5000;
  while (await running(pid)) {
    if (Date.now() > end) throw new CacheServerError(`the stale nginx of ${dir} (pid ${pid}) did not stop on SIGTERM`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const s = createNetServer();
    s.once('error', (err: NodeJS.ErrnoException) =>
      fail(new CacheServerError(`cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
    );
    s.listen(port, host, () => s.close(() => done()));
  });
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const sock = connect(port, target, () => {
        sock.destroy();
        done(true);
      });
      sock.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new CacheServerError(`nothing listens on ${target}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
