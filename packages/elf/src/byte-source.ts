import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ElfError } from './errors';

/**
 * Random-access bytes: an in-memory buffer or an open file. The reader only ever asks for the ranges it
 * needs, so a 600 MB vmlinux is never loaded whole. Every read is bounds-checked before anything is allocated.
 */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (a view for in-memory sources, a fresh buffer for files). */
  read(offset: number, length: number, what: string): Buffer;
  /** The whole input when it is already in memory (lets ElfObject keep the original image). */
  readonly bytes?: Buffer;
  close(): void;
}

/** Throws ElfError unless [offset, offset+length) lies within a source of `size` bytes. */
export function checkRange(size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ElfError(`${what}: invalid range offset=${offset} length=${length}`, Math.max(0, offset) || 0);
  }
  if (offset > size || length > size - offset) {
    throw new ElfError(`${what}: bytes 0x${offset.toString(16)}+0x${length.toString(16)} lie beyond the end of the file (size 0x${size.toString(16)})`, offset);
  }
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class BufferSource implements ByteSource {
  readonly bytes: Buffer;
  constructor(bytes: Uint8Array) {
    this.bytes = asBuffer(bytes);
  }
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number, what: string): Buffer {
    checkRange(this.bytes.length, offset, length, what);
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

/** Reads through a file descriptor with positioned reads; `close()` releases the descriptor. */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  read(offset: number, length: number, what: string): Buffer {
    checkRange(this.size, offset, length, what);
    if (this.fd === undefined) throw new ElfError(`${this.path}: read after close`);
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n <= 0) throw new ElfError(`${what}: ${this.path} ended early (was it truncated while reading?)`, offset + done);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
