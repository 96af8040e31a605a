// Reading an update package (.tar.gz) on the target machine, trusting nothing in it: only regular files with plain
// relative names come out, everything else is refused by name before anything is written.
import { gunzipSync } from 'node:zlib';
import { UserError } from '@hotsplice/kernel';

const BLOCK = 512;

/** The regular files of a ustar archive, by name. Links, devices, absolute names and `..` are refused. */
export function untarGz(archive: Buffer, label: string): Map<string, Buffer> {
  let data: Buffer;
  try {
    data = gunzipSync(archive);
  } catch {
    throw new UserError(`${label}: not a gzip-compressed package`);
  }
  const files = new Map<string, Buffer>();
  for (let at = 0; at + BLOCK <= data.length; ) {
    const header = data.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!validChecksum(header)) throw new UserError(`${label}: damaged tar header at byte ${at}`);
    const name = field(header, 0, 100);
    const prefix = header.toString('latin1', 257, 262) === 'ustar' ? field(header, 345, 155) : '';
    const path = prefix ? `${prefix}/${name}` : name;
    const type = String.fromCharCode(header[156] || 0x30);
    const size = parseInt(field(header, 124, 12) || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new UserError(`${label}: ${path}: bad size field`);
    if (type !== '0') throw new UserError(`${label}: ${path}: only regular files are allowed (tar type '${type}')`);
    checkName(path, label);
    if (files.has(path)) throw new UserError(`${label}: ${path} appears twice`);
    const start = at + BLOCK;
    if (start + size > data.length) throw new UserError(`${label}: ${path} is cut short`);
    files.set(path, data.subarray(start, start + size));
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
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
