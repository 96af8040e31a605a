// A reproducible .tar.gz: POSIX ustar with fixed metadata, entries sorted by name, and a gzip member whose header
// is written here (no mtime, no file name, fixed OS byte), so the same members give the same bytes on any machine.
import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface TarMember {
  /** Path inside the archive (ASCII, at most 100 bytes: no ustar prefix field needed). */
  name: string;
  data: Uint8Array;
}

const BLOCK = 512;
/** GNU tar writes archives in records of 20 blocks; readers accept any multiple of 512 ending in two zero blocks. */
const RECORD = 20 * BLOCK;
/** Every member's fixed metadata. */
export const TAR_MODE = 0o644;
export const TAR_MTIME = 0;
export const TAR_OWNER = 'root';

export interface TarOptions {
  /** Members that lead the archive, in this order; the rest follow sorted by name. */
  first?: string[];
}

/** An uncompressed ustar archive of regular files, sorted by name (byte order) after `options.first`. */
export function tar(members: TarMember[], options: TarOptions = {}): Buffer {
  const rank = (name: string) => {
    const i = options.first?.indexOf(name) ?? -1;
    return i < 0 ? Infinity : i;
  };
  const sorted = [...members].sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) throw new Error(`tar: two members named ${sorted[i].name}`);
  }
  const parts: Buffer[] = [];
  for (const m of sorted) {
    parts.push(header(m.name, m.data.length), Buffer.from(m.data), Buffer.alloc(pad(m.data.length, BLOCK)));
  }
  const body = parts.reduce((n, p) => n + p.length, 0) + 2 * BLOCK;
  parts.push(Buffer.alloc(2 * BLOCK + pad(body, RECORD)));
  return Buffer.concat(parts);
}

/** ustar header (POSIX.1-1988 as in pax(1)): octal numeric fields, checksum over the header with its field blank. */
function header(name: string, size: number): Buffer {
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(name) || name.length > 100) throw new Error(`tar: member name "${name}" must be printable ASCII, at most 100 bytes`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'latin1');
  octal(h, 100, 8, TAR_MODE);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, TAR_MTIME);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write('0', 156, 'latin1'); // typeflag: regular file
  h.write('ustar\x0000', 257, 'latin1'); // magic "ustar\0", version "00"
  h.write(TAR_OWNER, 265, 'latin1'); // uname
  h.write(TAR_OWNER, 297, 'latin1'); // gname
  octal(h, 329, 8, 0); // devmajor
  octal(h, 337, 8, 0); // devminor
  const sum = h.reduce((n, byte) => n + byte, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function octal(h: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit in a ${width}-byte field`);
  h.write(`${digits.padStart(width - 1, '0')}\0`, offset, 'latin1');
}

function pad(length: number, unit: number): number {
  return (unit - (length % unit)) % unit;
}

/**
 * RFC 1952 gzip member around zlib's raw deflate (level 9): MTIME 0, no FNAME, XFL 2 (maximum compression),
 * OS 3 (Unix) whatever the machine, then CRC-32 and ISIZE.
 */
export function gzip(data: Uint8Array): Buffer {
  const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  const body = deflateRawSync(data, { level: constants.Z_BEST_COMPRESSION });
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(crc32(data), 0);
  tail.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([head, body, tail]);
}

export function tarGz(members: TarMember[], options: TarOptions = {}): Buffer {
  return gzip(tar(members, options));
}
