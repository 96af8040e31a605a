import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

/** One initramfs entry. Paths are relative to the guest's root ("bin/busybox"), without a leading slash. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; mode?: number; source: string } // copied from a host file
  | { kind: 'file'; path: string; mode?: number; data: Buffer | string }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** The "newc" header the kernel's initramfs unpacker reads (init/initramfs.c): 6-byte magic + 13 hex fields. */
function header(ino: number, mode: number, size: number, name: string, rdev: [number, number] = [0, 0]): Buffer {
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, rdev[0], rdev[1], Buffer.byteLength(name) + 1, 0];
  const text = `070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}${name}\0`;
  return Buffer.concat([Buffer.from(text, 'latin1'), pad(110 + Buffer.byteLength(name) + 1)]);
}

/** newc aligns every header and every body to 4 bytes. */
function pad(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

async function* records(entries: CpioEntry[]): AsyncGenerator<Buffer> {
  let ino = 1;
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    if (entry.kind === 'dir') {
      yield header(ino++, S_IFDIR | (entry.mode ?? 0o755), 0, path);
    } else if (entry.kind === 'chardev') {
      yield header(ino++, S_IFCHR | (entry.mode ?? 0o600), 0, path, [entry.major, entry.minor]);
    } else if (entry.kind === 'symlink') {
      const body = Buffer.from(entry.target);
      yield Buffer.concat([header(ino++, S_IFLNK | 0o777, body.length, path), body, pad(body.length)]);
    } else if ('data' in entry) {
      const body = Buffer.from(entry.data);
      yield Buffer.concat([header(ino++, S_IFREG | (entry.mode ?? 0o644), body.length, path), body, pad(body.length)]);
    } else {
      const info = await stat(entry.source);
      yield header(ino++, S_IFREG | (entry.mode ?? info.mode & 0o777), info.size, path);
      // Big files (node is ~100 MB) are streamed, never held in memory whole.
      for await (const chunk of createReadStream(entry.source)) yield chunk as Buffer;
      yield pad(info.size);
    }
  }
  yield header(0, 0, 0, 'TRAILER!!!');
}

/** Write an uncompressed newc cpio archive (design.md §9: uncompressed boots fastest under TCG). */
export async function writeCpio(entries: CpioEntry[], outFile: string): Promise<void> {
  await pipeline(Readable.from(records(entries)), createWriteStream(outFile));
}
