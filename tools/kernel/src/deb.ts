import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { UserError } from './errors';
import { Progress } from './report';

/** One member of an `ar` archive (a .deb is one): where its bytes are in the file. */
export interface ArMember {
  name: string;
  offset: number;
  size: number;
}

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

/** Decode the 60-byte `ar` member header found at `at`; the member's bytes follow it. */
export function parseArHeader(header: Buffer, at: number, fileSize: number): ArMember {
  const text = header.toString('latin1', 0, AR_HEADER);
  if (text.length < AR_HEADER || text.slice(58, 60) !== '`\n') throw new UserError(`corrupt ar header at offset ${at}`);
  const size = Number(text.slice(48, 58).trim());
  const offset = at + AR_HEADER;
  if (!Number.isSafeInteger(size) || offset + size > fileSize) throw new UserError(`truncated ar member at offset ${at}`);
  return { name: text.slice(0, 16).trim().replace(/\/$/, ''), offset, size };
}

/** Where the member after `m` starts: members are 2-byte aligned. */
const nextMember = (m: ArMember) => m.offset + m.size + (m.size % 2);

/** List the members of an `ar` archive held in memory (a .deb has debian-binary, control.tar.*, data.tar.*). */
export function parseAr(bytes: Buffer): ArMember[] {
  if (bytes.toString('latin1', 0, 8) !== AR_MAGIC) throw new UserError('not a Debian package (no ar magic)');
  const members: ArMember[] = [];
  for (let at = 8; at + AR_HEADER <= bytes.length; ) {
    const member = parseArHeader(bytes.subarray(at, at + AR_HEADER), at, bytes.length);
    members.push(member);
    at = nextMember(member);
  }
  return members;
}

/** Locate the data.tar.* member of a .deb, reading only the member headers (not the 858 MB body). */
export async function debDataMember(debPath: string): Promise<ArMember> {
  const handle = await open(debPath, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(AR_HEADER);
    await handle.read(header, 0, 8, 0);
    if (header.toString('latin1', 0, 8) !== AR_MAGIC) throw new UserError(`${debPath}: not a Debian package`);
    for (let at = 8; at + AR_HEADER <= size; ) {
      await handle.read(header, 0, AR_HEADER, at);
      const member = parseArHeader(header, at, size);
      if (member.name.startsWith('data.tar')) return member;
      at = nextMember(member);
    }
    throw new UserError(`${debPath}: no data.tar member`);
  } finally {
    await handle.close();
  }
}

function decompressor(name: string): string[] {
  if (name.endsWith('.xz')) return ['xz', '-dc', '-T0'];
  if (name.endsWith('.zst')) return ['zstd', '-dc'];
  if (name.endsWith('.gz')) return ['gzip', '-dc'];
  return ['cat'];
}

export interface ExtractOptions {
  /** Extract only these members (tar names such as ./boot/vmlinuz-…); tar stops after finding each once. */
  members?: string[];
  label: string;
  quiet?: boolean;
}

/**
 * Stream `length` bytes at `offset` of `file` (a compressed tar) through the decompressor into `tar -x`,
 * showing progress over the compressed bytes read.
 */
export function extractTarRange(
  file: string,
  offset: number,
  length: number,
  compressedName: string,
  dest: string,
  options: ExtractOptions,
): Promise<void> {
  const progress = new Progress(options.label, length, options.quiet);
  const members = options.members ?? [];
  const tarArgs = ['-x', '-f', '-', '-C', dest, ...(members.length ? ['--occurrence=1', ...members] : [])];
  const [cmd, ...args] = decompressor(compressedName);
  return new Promise((resolve, reject) => {
    const input = createReadStream(file, { start: offset, end: offset + length - 1 });
    const unpack = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const tar = spawn('tar', tarArgs, { stdio: ['pipe', 'inherit', 'pipe'] });
    let read = 0;
    let tarErr = '';
    input.on('data', (chunk) => progress.update((read += chunk.length)));
    input.pipe(unpack.stdin);
    unpack.stdout.pipe(tar.stdin);
    // With --occurrence tar exits once it has every member; the rest of the stream is not needed.
    const ignore = () => undefined;
    unpack.stdin.on('error', ignore);
    tar.stdin.on('error', ignore);
    tar.stderr.on('data', (chunk) => (tarErr += chunk));
    input.on('error', (err) => reject(new UserError(`${file}: ${err.message}`)));
    tar.on('error', (err) => reject(new UserError(`tar: ${err.message}`)));
    unpack.on('error', (err) => reject(new UserError(`${cmd}: ${err.message}`)));
    tar.on('close', (code) => {
      input.destroy();
      unpack.kill();
      if (code === 0) {
        progress.finish();
        resolve();
      } else {
        reject(new UserError(`unpacking ${file} failed (tar exit ${code}): ${tarErr.trim().split('\n').slice(-3).join(' | ')}`));
      }
    });
  });
}

/** Unpack a .deb's data (all of it, or only `members`) into `dest`. */
export async function extractDeb(debPath: string, dest: string, options: ExtractOptions): Promise<void> {
  const data = await debDataMember(debPath);
  await extractTarRange(debPath, data.offset, data.size, data.name, dest, options);
}
