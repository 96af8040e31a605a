import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCacheServer, startCacheServer } from '../src';
import { call, contentFor, sha256 } from './helpers';

// Nx's self-hosted cache API (Nx ≥ 20.8; the client in nx 24.0.6 takes 200, 403 and 409 on PUT, 200/404 on GET)
// against the real nginx this repo configures, on 127.0.0.1 and a free port.
const READ = 'read-only-token';
const WRITE = 'read-write-token';
const MAX_ENTRY = 64 * 1024;

describe('cache server protocol (nginx)', () => {
  let dir: string;
  let server: RunningCacheServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hs-cache-test-'));
    server = await startCacheServer({ dir, port: 0, readToken: READ, writeToken: WRITE, maxEntryBytes: MAX_ENTRY, maxStoreBytes: 8 * MAX_ENTRY });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const stored = () => readdirSync(join(dir, 'store')).sort();

  it('answers 401 without a token or with a wrong one, for GET and PUT', async () => {
    for (const token of [undefined, 'wrong', `${WRITE}x`]) {
      expect((await call(server.url, 'GET', '1001', token)).status).toBe(401);
      expect((await call(server.url, 'PUT', '1001', token, Buffer.from('x'))).status).toBe(401);
    }
    expect(stored()).toEqual([]);
  });

  it('compares tokens exactly: another case of a token is 401, not its role', async () => {
    for (const token of [WRITE.toUpperCase(), 'Read-Write-Token', READ.toUpperCase()]) {
      expect((await call(server.url, 'GET', '1001', token)).status).toBe(401);
      expect((await call(server.url, 'PUT', '1001', token, Buffer.from('x'))).status).toBe(401);
    }
    expect(stored()).toEqual([]);
  });

  it('stores once: GET 404, PUT 200, GET returns the bytes, a second PUT is 409 and changes nothing', async () => {
    const body = contentFor('a', 5000);
    expect((await call(server.url, 'GET', '1002', WRITE)).status).toBe(404);
    const put = await call(server.url, 'PUT', '1002', WRITE, body);
    expect(put.status).toBe(200);
    const got = await call(server.url, 'GET', '1002', READ);
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(body));
    expect((await call(server.url, 'PUT', '1002', WRITE, contentFor('other', 5000))).status).toBe(409);
    expect(sha256((await call(server.url, 'GET', '1002', WRITE)).body)).toBe(sha256(body));
    expect((await call(server.url, 'HEAD', '1002', READ)).status).toBe(200);
  });

  it('a read-only token reads but PUT is 403 and nothing is written', async () => {
    expect((await call(server.url, 'GET', '1002', READ)).status).toBe(200);
    expect((await call(server.url, 'PUT', '1003', READ, Buffer.from('y'))).status).toBe(403);
    expect(stored()).not.toContain('1003');
  });

  it('refuses entries over the limit with 413 (the limit itself is accepted)', async () => {
    expect((await call(server.url, 'PUT', '1004', WRITE, Buffer.alloc(MAX_ENTRY + 1))).status).toBe(413);
    expect(stored()).not.toContain('1004');
    expect((await call(server.url, 'PUT', '1005', WRITE, Buffer.alloc(MAX_ENTRY, 7))).status).toBe(200);
  });

  it('serves only cache keys: other paths and methods, traversal attempts', async () => {
    expect((await call(server.url, 'DELETE', '1002', WRITE)).status).toBe(405);
    expect((await call(server.url, 'GET', '..%2fnginx.conf', WRITE)).status).toBe(404);
    expect((await call(server.url, 'GET', '.hidden', WRITE)).status).toBe(404);
    expect((await call(server.url.replace(/$/, ''), 'GET', '../../nginx.conf', WRITE)).status).toBe(404);
    expect((await call(server.url, 'PUT', 'x/y', WRITE, Buffer.from('z'))).status).toBe(404);
  });

  it('concurrent PUTs of one hash: exactly one 200, the others 409, the stored bytes are the winner’s', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => contentFor(`racer-${i}`, 48 * 1024));
    const replies = await Promise.all(bodies.map((b) => call(server.url, 'PUT', '2000', WRITE, b)));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    const winner = bodies[statuses.indexOf(200)];
    expect(sha256(readFileSync(join(dir, 'store', '2000')))).toBe(sha256(winner));
    expect(readdirSync(join(dir, 'tmp', 'commit'))).toEqual([]);
  });

  it('keeps the store under its size by deleting the oldest entries first', async () => {
    const before = stored();
    for (let i = 0; i < 10; i++) expect((await call(server.url, 'PUT', `30${i}`, WRITE, contentFor(`e${i}`, 60 * 1024))).status).toBe(200);
    const after = stored();
    const total = after.reduce((n, f) => n + statSync(join(dir, 'store', f)).size, 0);
    expect(total).toBeLessThanOrEqual(8 * MAX_ENTRY);
    expect(server.store.bytes).toBe(total);
    // Everything stored before the ten went first, then the oldest of the ten; the newest are there.
    for (const old of before) expect(after).not.toContain(old);
    expect(after).toContain('309');
    expect(after).not.toContain('300');
    expect((await call(server.url, 'GET', '300', READ)).status).toBe(404);
  });
});

describe('cache server start', () => {
  it('drops half-written uploads, indexes the store and evicts down to a smaller limit on start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-test-'));
    mkdirSync(join(dir, 'store'));
    mkdirSync(join(dir, 'tmp', 'commit'), { recursive: true });
    writeFileSync(join(dir, 'tmp', 'commit', '77.partial'), 'half');
    for (const [i, name] of ['71', '72', '73'].entries()) {
      writeFileSync(join(dir, 'store', name), Buffer.alloc(1000));
      const t = new Date(Date.now() - (10 - i) * 1000);
      (await import('node:fs')).utimesSync(join(dir, 'store', name), t, t);
    }
    const server = await startCacheServer({ dir, port: 0, writeToken: WRITE, maxEntryBytes: 1000, maxStoreBytes: 2000 });
    try {
      expect(readdirSync(join(dir, 'store')).sort()).toEqual(['72', '73']);
      expect(readdirSync(join(dir, 'tmp', 'commit'))).toEqual([]);
      expect((await call(server.url, 'GET', '73', WRITE)).status).toBe(200);
      await expect(startCacheServer({ dir, port: 0, writeToken: WRITE })).rejects.toThrow(/already runs/);
    } finally {
      await server.stop();
    }
  });

  it('takes regex metacharacters in tokens literally (. and + match only themselves)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-test-'));
    const s = await startCacheServer({ dir, port: 0, writeToken: 'a.b+c/d~e_f-g==' });
    try {
      expect((await call(s.url, 'GET', '1', 'a.b+c/d~e_f-g==')).status).toBe(404);
      for (const near of ['axb+c/d~e_f-g==', 'a.bbc/d~e_f-g==', 'a.bbbc/d~e_f-g==', 'A.B+C/D~E_F-G==', 'a.b+c/d~e_f-g=']) {
        expect((await call(s.url, 'GET', '1', near)).status, near).toBe(401);
      }
    } finally {
      await s.stop();
    }
  });

  it('refuses a busy port and tokens that cannot be written into the config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-test-'));
    const a = await startCacheServer({ dir, port: 0, writeToken: WRITE });
    try {
      await expect(startCacheServer({ dir: `${dir}-2`, port: a.port, writeToken: WRITE })).rejects.toThrow(/in use/);
    } finally {
      await a.stop();
    }
    await expect(startCacheServer({ dir, port: 0, writeToken: 'a"b; }' })).rejects.toThrow(/token/);
    await expect(startCacheServer({ dir, port: 0, writeToken: 'same', readToken: 'same' })).rejects.toThrow(/differ/);
  });
});
