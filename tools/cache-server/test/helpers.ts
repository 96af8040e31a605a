import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'node:http';

export interface Reply {
  status: number;
  body: Buffer;
}

/** One request with Node's own client (a fresh connection each time; the load test keeps connections alive). */
export function call(url: string, method: string, hash: string, token?: string, body?: Buffer, agent?: import('node:http').Agent): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request(
      `${url}/v1/cache/${hash}`,
      {
        method,
        agent,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Deterministic bytes for a key (so any reader can check what it got). */
export function contentFor(key: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(key).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export const HOTSPLICE_BIN = join(__dirname, '..', '..', '..', 'packages', 'cli', 'bin', 'hotsplice.js');

/**
 * `hotsplice cache-server` as its own process group (the CLI and its nginx): a group kill takes both, like a crash,
 * and callers that block on synchronous child processes do not block the server's commit handler.
 */
export function spawnCacheServer(dir: string, port: number, extra: string[] = []): Promise<ChildProcess> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [HOTSPLICE_BIN, 'cache-server', '--dir', dir, '--port', String(port), '--json', ...extra], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) done(child);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => fail(new Error(`cache-server exited (${code}) before it was ready: ${err}`)));
  });
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    process.kill(-child.pid!, signal);
  });
}
