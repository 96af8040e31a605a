// Reading an update package (.tar.gz) on the target machine, trusting nothing in it: only regular files with plain
// relative names come out, everything else is refused by name before anything is written. The archive is gunzipped
// as a stream and never past a byte limit, so a small package cannot unpack into gigabytes.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '@hotsplice/kernel';

const BLOCK = 512;
const MiB = 1024 * 1024;
/** No update package unpacks to more than this, whatever its manifest says (a livepatch module is a few MiB). */
export const UNPACK_CAP = 256 * MiB;

export interface UntarOptions {
  /** Refuse once the unpacked tar passes this many bytes (default and upper bound: UNPACK_CAP). */
  limit?: number;
  /** Sees each header before its data is read; may throw to refuse the member. */
  onHeader?: (path: string, size: number) => void;
  /** Sees each member once read; may return a lower limit for the rest (what the manifest accounts for). */
  onMember?: (path: string, data: Buffer) => number | undefined;
}

/** The regular files of a gzip-compressed ustar archive (a file or its bytes), by name. */
export async function untarGz(input: string | Buffer, label: string, options: UntarOptions = {}): Promise<Map<string, Buffer>> {
  const reader = new TarReader(label, options);
  const source = typeof input === 'string' ? createReadStream(input) : Readable.from([input]);
  let refusal: unknown; // pipeline may report the sink's error as an AbortError of the source (Node 20)
  try {
    await pipeline(source, createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        try {
          reader.push(chunk);
        } catch (err) {
          refusal = err;
          throw err;
        }
      }
    });
  } catch (err) {
    if (refusal) throw refusal;
    if (err instanceof UserError) throw err;
    const code = String((err as { code?: unknown }).code ?? '');
    if (code.startsWith('Z_')) throw new UserError(`${label}: not a gzip-compressed package (or a damaged one)`);
    throw err;
  }
  return reader.finish();
}

/** A ustar parser fed chunk by chunk; it holds at most one header's worth of unparsed bytes beside the members. */
class TarReader {
  private readonly files = new Map<string, Buffer>();
  private limit: number;
  /** The limit came from the manifest (else it is the cap). */
  private fromManifest = false;
  /** Unpacked bytes seen so far, the archive's end and padding included. */
  private seen = 0;
  /** Bytes not yet parsed (less than a block while a header is awaited). */
  private held: Buffer = Buffer.alloc(0);
  /** The member whose data is being read. */
  private member?: { path: string; data: Buffer; filled: number; padding: number };
  private ended = false;

  constructor(
    private readonly label: string,
    private readonly options: UntarOptions,
  ) {
    this.limit = Math.min(options.limit ?? UNPACK_CAP, UNPACK_CAP);
  }

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) this.refuseSize();
    if (this.ended) return; // the end blocks and record padding
    this.held = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    let at = 0;
    while (!this.ended) {
      if (this.member) {
        const m = this.member;
        const take = Math.min(m.data.length - m.filled, this.held.length - at);
        this.held.copy(m.data, m.filled, at, at + take);
        m.filled += take;
        at += take;
        if (m.filled < m.data.length) break;
        const skip = Math.min(m.padding, this.held.length - at);
        m.padding -= skip;
        at += skip;
        if (m.padding > 0) break;
        this.member = undefined;
        this.files.set(m.path, m.data);
        const lower = this.options.onMember?.(m.path, m.data);
        if (lower !== undefined && lower < this.limit) [this.limit, this.fromManifest] = [lower, true];
        if (this.seen > this.limit) this.refuseSize();
        continue;
      }
      if (this.held.length - at < BLOCK) break;
      this.header(this.held.subarray(at, at + BLOCK), this.seen - (this.held.length - at));
      at += BLOCK;
    }
    this.held = this.held.subarray(at);
  }

  finish(): Map<string, Buffer> {
    if (this.member) throw new UserError(`${this.label}: ${this.member.path} is cut short`);
    return this.files;
  }

  /** One header block at unpacked byte `offset`: refuse it or start reading its member. */
  private header(header: Buffer, offset: number): void {
    const { label } = this;
    if (header.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    if (!validChecksum(header)) throw new UserError(`${label}: damaged tar header at byte ${offset}`);
    const name = field(header, 0, 100);
    const prefix = header.toString('latin1', 257, 262) === 'ustar' ? field(header, 345, 155) : '';
    const path = prefix ? `${prefix}/${name}` : name;
    const type = String.fromCharCode(header[156] || 0x30);
    const size = parseInt(field(header, 124, 12) || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new UserError(`${label}: ${path}: bad size field`);
    if (type !== '0') throw new UserError(`${label}: ${path}: only regular files are allowed (tar type '${type}')`);
    checkName(path, label);
    if (this.files.has(path)) throw new UserError(`${label}: ${path} appears twice`);
    this.options.onHeader?.(path, size);
    // Checked before a byte is allocated: the size field is the archive's word, the limit ours.
    if (offset + BLOCK + size > this.limit) this.refuseSize();
    this.member = { path, data: Buffer.alloc(size), filled: 0, padding: (BLOCK - (size % BLOCK)) % BLOCK };
  }

  private refuseSize(): never {
    const what = this.fromManifest ? `the ${this.limit} bytes its manifest accounts for` : `${UNPACK_CAP / MiB} MiB, the most a package may hold`;
    throw new UserError(`${this.label}: unpacks to more than ${what}; refused`);
  }
}

/** A member name that stays inside the unpack directory: relative, no `..`, no empty or `.` parts. */
function checkName(path: string, label: string): void {
  const parts = path.split('/');
  if (path.startsWith('/') || parts.some((p) => p === '..' || p === '' || p === '.') || /[\0\\]/.test(path)) {
    throw new UserError(`${label}: member "${path}" would land outside the package directory`);
  }
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.toString('latin1', 0, end < 0 ? length : end).trim();
}

/** ustar's checksum: the byte sum of the header with the checksum field read as spaces. */
function validChecksum(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return parseInt(field(header, 148, 8), 8) === sum;
}
