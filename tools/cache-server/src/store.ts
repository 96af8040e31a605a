import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** A cache key as Nx sends it (decimal digits today); anything that could name another path is refused. */
export const HASH_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type CommitResult = { status: 200; bytes: number; evicted: string[] } | { status: 400 | 409 | 413 | 500; message: string };

/**
 * The file-backed store behind nginx: `<dir>/store/<hash>` files, written once. A commit streams the body into
 * `<dir>/tmp/`, fsyncs it and publishes it with link(2), which fails when the name exists: of two concurrent
 * uploads of one hash exactly one wins, and a reader (nginx) only ever sees complete files. The store keeps its
 * total size under `maxStoreBytes` by deleting the oldest entries (by write time) after each commit.
 */
export class Store {
  readonly storeDir: string;
  readonly tmpDir: string;
  /** hash → size, in write order (oldest first): Map keeps insertion order. */
  private readonly entries = new Map<string, number>();
  private total = 0;

  constructor(
    readonly dir: string,
    readonly maxEntryBytes: number,
    readonly maxStoreBytes: number,
  ) {
    this.storeDir = join(dir, 'store');
    this.tmpDir = join(dir, 'tmp', 'commit');
  }

  /** Create the folders, drop uploads a killed server left half-written, index what is stored, evict if over. */
  async open(): Promise<string[]> {
    await mkdir(this.storeDir, { recursive: true });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    const found: Array<{ hash: string; size: number; mtime: number }> = [];
    for (const hash of await readdir(this.storeDir)) {
      if (!HASH_PATTERN.test(hash)) continue;
      const s = await stat(join(this.storeDir, hash)).catch(() => undefined);
      if (s?.isFile()) found.push({ hash, size: s.size, mtime: s.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime || (a.hash < b.hash ? -1 : 1));
    for (const e of found) this.add(e.hash, e.size);
    return this.evict();
  }

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  has(hash: string): boolean {
    return this.entries.has(hash);
  }

  /** Store one upload (the request nginx forwards, already authorised and size-checked). */
  async commit(hash: string, body: IncomingMessage): Promise<CommitResult> {
    if (!HASH_PATTERN.test(hash)) return { status: 400, message: 'bad cache key' };
    const declared = Number(body.headers['content-length']);
    if (!Number.isSafeInteger(declared) || declared < 0) return { status: 400, message: 'Content-Length required' };
    if (declared > this.maxEntryBytes) return { status: 413, message: 'entry too large' };
    const tmp = join(this.tmpDir, `${hash}.${randomBytes(6).toString('hex')}`);
    try {
      let received = 0;
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      await pipeline(body, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      // A body cut short (client or nginx gone) is never published.
      if (received !== declared) return { status: 400, message: `body has ${received} of ${declared} bytes` };
      const fd = await open(tmp, 'r');
      try {
        await fd.sync();
      } finally {
        await fd.close();
      }
      try {
        await link(tmp, join(this.storeDir, hash));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { status: 409, message: 'Cannot override an existing record' };
        throw err;
      }
      this.add(hash, declared);
      return { status: 200, bytes: declared, evicted: await this.evict(hash) };
    } catch (err) {
      return { status: 500, message: err instanceof Error ? err.message : String(err) };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  private add(hash: string, size: number): void {
    if (this.entries.has(hash)) return;
    this.entries.set(hash, size);
    this.total += size;
  }

  /**
   * Delete oldest entries until the store fits. A file nginx is sending stays readable to the end (an unlinked
   * file lives on while open), so eviction never truncates a download. `keep` (the entry just written) goes last.
   */
  private async evict(keep?: string): Promise<string[]> {
    const evicted: string[] = [];
    for (const [hash, size] of this.entries) {
      if (this.total <= this.maxStoreBytes) break;
      if (hash === keep) continue;
      // Account first: a concurrent commit's eviction must not pick the same entry while this one waits.
      this.entries.delete(hash);
      this.total -= size;
      evicted.push(hash);
      await unlink(join(this.storeDir, hash)).catch(() => undefined);
    }
    return evicted;
  }
}
