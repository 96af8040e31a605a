import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src';
import { call, contentFor, killGroup, sha256, spawnCacheServer } from './helpers';

// Load and fault test on loopback, bounded: 8 clients, 400 requests, mixed GET/PUT over 60 keys with bodies up to
// 512 KiB; the whole server (hotsplice process and nginx) is SIGKILLed a third of the way in and started again.
// Afterwards every stored entry must verify against the sha256 the test recorded, and no GET may have returned
// anything but a complete, correct body.
const CLIENTS = 8;
const REQUESTS = 400;
const KEYS = 60;
const WRITE = 'load-write-token';

const keyOf = (i: number) => `${900000 + i}`;
const sizeOf = (i: number) => 1024 + ((i * 7919) % (512 * 1024));

const startServer = (dir: string, port: number) => spawnCacheServer(dir, port, ['--write-token', WRITE]);

describe('cache server under load, killed and restarted mid-run', () => {
  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (server) await killGroup(server, 'SIGTERM');
  });

  it('never serves a partial entry and every stored entry verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-cache-load-'));
    const port = await freePort();
    server = await startServer(dir, port);
    const url = `http://127.0.0.1:${port}`;
    const expected = new Map(Array.from({ length: KEYS }, (_, i) => [keyOf(i), sha256(contentFor(keyOf(i), sizeOf(i)))]));
    const bodies = new Map(Array.from({ length: KEYS }, (_, i) => [keyOf(i), contentFor(keyOf(i), sizeOf(i))]));

    const latencies: number[] = [];
    const counts: Record<string, number> = {};
    const bad: string[] = [];
    let issued = 0;
    let restarting: Promise<void> | undefined;
    let downtime = 0;
    const killAt = Math.floor(REQUESTS / 3);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

    const client = async (c: number) => {
      // mulberry32: a fixed, well-spread sequence per client.
      let seed = (c + 1) * 0x9e3779b9;
      const next = () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return (t ^ (t >>> 14)) >>> 0;
      };
      while (issued < REQUESTS) {
        const n = issued++;
        if (n === killAt) {
          // Crash while other clients have requests (and upload bodies) in flight, then start again.
          const t0 = Date.now();
          restarting = (async () => {
            await killGroup(server!, 'SIGKILL');
            server = await startServer(dir, port);
            downtime = Date.now() - t0;
          })();
        }
        const key = keyOf(next() % KEYS);
        const method = next() % 100 < 45 ? 'PUT' : 'GET';
        const t = performance.now();
        try {
          const reply = await call(url, method, key, WRITE, method === 'PUT' ? bodies.get(key) : undefined, agent);
          latencies.push(performance.now() - t);
          counts[`${method} ${reply.status}`] = (counts[`${method} ${reply.status}`] ?? 0) + 1;
          if (method === 'GET' && reply.status === 200 && sha256(reply.body) !== expected.get(key)) {
            bad.push(`GET ${key}: ${reply.body.length} bytes, not the ${bodies.get(key)!.length} stored`);
          }
          if (![200, 404, 409, 502].includes(reply.status)) bad.push(`${method} ${key}: ${reply.status}`);
        } catch (err) {
          // Refused or reset while the server is down: expected only around the restart.
          counts[`${method} error`] = (counts[`${method} error`] ?? 0) + 1;
          if (!restarting) bad.push(`${method} ${key}: ${(err as Error).message} before the kill`);
          await restarting;
        }
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    await restarting;
    const seconds = (performance.now() - start) / 1000;
    agent.destroy();

    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
    console.log(
      `cache-server load: ${REQUESTS} requests, ${CLIENTS} clients in ${seconds.toFixed(2)} s = ${(REQUESTS / seconds).toFixed(0)} req/s ` +
        `(restart downtime ${downtime} ms; ${(REQUESTS / (seconds - downtime / 1000)).toFixed(0)} req/s without it); latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; ${JSON.stringify(counts)}`,
    );

    expect(bad).toEqual([]);
    const stored = readdirSync(join(dir, 'store'));
    expect(stored.length).toBeGreaterThan(KEYS / 2);
    for (const key of stored) expect(sha256(readFileSync(join(dir, 'store', key))), key).toBe(expected.get(key));
    // After the restart the server works as before: a stored entry reads back whole.
    const one = await call(url, 'GET', stored[0], WRITE);
    expect(one.status).toBe(200);
    expect(sha256(one.body)).toBe(expected.get(stored[0]));
    expect(counts['PUT 200']).toBeGreaterThan(0);
    expect(counts['GET 200']).toBeGreaterThan(0);
  }, 120_000);
});
