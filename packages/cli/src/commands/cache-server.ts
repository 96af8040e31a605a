import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@hotsplice/kernel';
import { CacheServerError, startCacheServer } from '../../../../tools/cache-server/src';
import { ensureSystem } from '../../../../tools/setup/src';
import { parseVerb } from '../verb';
import { cacheServer as CACHE_SERVER } from '../verbs';

/**
 * `hotsplice cache-server`: Nx's self-hosted remote cache (GET/PUT /v1/cache/{hash}) on Debian's nginx, in the
 * foreground until SIGINT/SIGTERM. Tokens also come from HOTSPLICE_CACHE_READ_TOKEN / HOTSPLICE_CACHE_WRITE_TOKEN
 * (kept off the process list); without a write token a random one is made and printed.
 */
export async function cacheServerCommand(args: string[]): Promise<number> {
  const { values } = parseVerb(CACHE_SERVER, args);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be 0-65535, not "${values.port}"`, 2);
  const size = (name: 'max-entry-bytes' | 'max-store-bytes') => {
    const text = values[name];
    if (text === undefined) return undefined;
    const n = parseSize(text);
    if (n === undefined) throw new UserError(`--${name} must be a byte count (e.g. 268435456, 256M, 8G), not "${text}"`, 2);
    return n;
  };
  // Debian's nginx comes when the cache server first starts (HOTSPLICE_NGINX names another one).
  if (!process.env.HOTSPLICE_NGINX) ensureSystem('cache-server');
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'hotsplice-cache-'));
  let server;
  try {
    server = await startCacheServer({
      dir,
      port,
      listen: values.listen,
      readToken: values['read-token'] ?? process.env.HOTSPLICE_CACHE_READ_TOKEN,
      writeToken: values['write-token'] ?? process.env.HOTSPLICE_CACHE_WRITE_TOKEN,
      maxEntryBytes: size('max-entry-bytes'),
      maxStoreBytes: size('max-store-bytes'),
      onLog: (line) => process.stderr.write(`nginx| ${line}\n`),
    });
  } catch (err) {
    if (err instanceof CacheServerError) throw new UserError(err.message);
    throw err;
  }
  // Listen before announcing: a signal right after the announcement would otherwise find no handler and kill.
  const stopped = new Promise<string | undefined>((done) => {
    const stopOn = (name: NodeJS.Signals) => process.once(name, () => done(name));
    stopOn('SIGINT');
    stopOn('SIGTERM');
    server.exited.then(() => done(undefined));
  });
  const info = {
    url: server.url,
    dir: server.dir,
    nginxPid: server.nginxPid,
    entries: server.store.count,
    bytes: server.store.bytes,
    env: {
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url,
      NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: server.writeToken,
    },
    readOnlyToken: server.readToken,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    process.stdout.write(
      [
        `hotsplice cache-server: ${server.url} (store ${join(server.dir, 'store')}: ${server.store.count} entries, ` +
          `${server.store.bytes} bytes; nginx pid ${server.nginxPid}); Ctrl-C stops it`,
        '# read-write (trusted jobs):',
        `export NX_SELF_HOSTED_REMOTE_CACHE_SERVER=${server.url}`,
        `export NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=${server.writeToken}`,
        ...(server.readToken ? ['# read-only (untrusted jobs, e.g. pull requests from forks):', `#   NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=${server.readToken}`] : []),
        '',
      ].join('\n'),
    );
  }
  const signal = await stopped;
  await server.stop();
  if (!signal) {
    process.stderr.write(`hotsplice: nginx exited on its own (${await server.exited}); see ${join(server.dir, 'logs', 'error.log')}\n`);
    return 1;
  }
  process.stderr.write(`hotsplice cache-server: stopped (${signal})\n`);
  return 0;
}

/** "1234", "64K", "256M", "8G" (powers of 1024). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** ' KMG'.indexOf(m[2].toUpperCase() || ' ');
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
