// Writes a minimal ELF core file like /proc/kcore: an ET_CORE header and one PT_LOAD per segment, the segment
// bytes at page-aligned file offsets (fs/proc/kcore.c lays its segments out the same way).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/**
 * `offset` places a segment at a given file offset (page-aligned; kcore's exceed 2^53: such a file must live on
 * tmpfs, which allows sparse files that large, and is written with dd since Node cannot seek that far to write).
 */
export function writeCoreFile(path: string, segments: Array<{ vaddr: bigint; bytes: Uint8Array; offset?: bigint }>, machine = 62, type = 4): void {
  const headerSize = 64 + 56 * segments.length;
  let offset = (headerSize + 4095) & ~4095;
  const placed = segments.map((s) => {
    if (s.offset !== undefined) return { ...s, offset: s.offset };
    const at = offset;
    offset = (offset + s.bytes.length + 4095) & ~4095;
    return { ...s, offset: BigInt(at) };
  });
  const out = Buffer.alloc(offset);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF, 64-bit, little-endian, version 1
  out.writeUInt16LE(type, 16);
  out.writeUInt16LE(machine, 18);
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(64n, 32); // e_phoff
  out.writeUInt16LE(64, 52); // e_ehsize
  out.writeUInt16LE(56, 54); // e_phentsize
  out.writeUInt16LE(segments.length, 56);
  placed.forEach((s, i) => {
    const p = 64 + 56 * i;
    out.writeUInt32LE(1, p); // PT_LOAD
    out.writeUInt32LE(7, p + 4); // RWX, as kcore marks them
    out.writeBigUInt64LE(s.offset, p + 8);
    out.writeBigUInt64LE(s.vaddr, p + 16);
    out.writeBigUInt64LE(0n, p + 24);
    out.writeBigUInt64LE(BigInt(s.bytes.length), p + 32);
    out.writeBigUInt64LE(BigInt(s.bytes.length), p + 40);
    out.writeBigUInt64LE(4096n, p + 48);
    if (s.offset < BigInt(out.length)) out.set(s.bytes, Number(s.offset));
  });
  writeFileSync(path, out);
  for (const s of placed) {
    if (s.offset < BigInt(out.length)) continue;
    writeFileSync(`${path}.segment`, s.bytes);
    execFileSync('dd', [`if=${path}.segment`, `of=${path}`, 'bs=4096', `seek=${s.offset / 4096n}`, 'conv=notrunc', 'status=none']);
  }
}

/** kallsyms text for symbols (`%016x %c %s`, module symbols with `\t[mod]`). */
export function kallsymsText(symbols: Array<{ name: string; address: bigint; type?: string; module?: string }>): string {
  return symbols.map((s) => `${s.address.toString(16).padStart(16, '0')} ${s.type ?? 't'} ${s.name}${s.module ? `\t[${s.module}]` : ''}\n`).join('');
}
