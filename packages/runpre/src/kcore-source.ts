import { closeSync, openSync, readSync } from 'node:fs';
import { ET_CORE, PT_LOAD } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';
import { DEFAULT_LIVE_PATHS, type LivePaths, kcoreOpenReason, zeroAddressesReason } from './live-access';
import type { KernelSymbol, MemorySource } from './source';
import { KallsymsLookup } from './kallsyms-lookup';
import { type LinkMap, SlidLinkMap } from './link-map';
import { SymbolIndex } from './symbol-index';
import { findExtent } from './vmlinux-source';

export interface LiveOptions {
  paths?: Partial<LivePaths>;
  /** Whose symbols: a loaded module's name, or undefined for vmlinux (sympos counts within one object). */
  module?: string;
  /** The reader's uid, for the error messages (default: process.getuid()). */
  uid?: number;
  /** vmlinux addresses of the names needed (the package's run-pre-symbols.json): only the KASLR slide is read. */
  linkMap?: LinkMap;
}

/** Where a live source finds symbol addresses: all of kallsyms, or a link map moved by the KASLR slide. */
interface LiveSymbols {
  symbols(name: string): readonly KernelSymbol[];
  prefetch(names: Iterable<string>): void;
}

interface Segment {
  start: bigint;
  end: bigint;
  /** File offset of `start` (bigint: kcore's offsets exceed 2^53). */
  offset: bigint;
}

/**
 * The running kernel: /proc/kallsyms for symbols (real, KASLR-shifted addresses) and /proc/kcore for memory — an
 * ELF core whose PT_LOAD program headers map kernel virtual addresses to file offsets (fs/proc/kcore.c). Needs
 * root; every way it can be refused is reported in one line (live-access.ts).
 */
export class KcoreSource implements MemorySource {
  readonly kind = 'live' as const;
  readonly description: string;
  private fd: number | undefined;

  private constructor(
    private readonly kallsyms: LiveSymbols,
    private readonly segments: Segment[],
    fd: number,
    private readonly path: string,
    module: string | undefined,
  ) {
    this.fd = fd;
    this.description = `live kernel${module ? ` module ${module}` : ''} (${path})`;
  }

  static open(options: LiveOptions = {}): KcoreSource {
    const paths = { ...DEFAULT_LIVE_PATHS, ...options.paths };
    const uid = options.uid ?? process.getuid?.();
    const kallsyms = (!options.module && options.linkMap && SlidLinkMap.open(options.linkMap, paths.kallsyms)) || allOfKallsyms(paths, options.module, uid);

    let fd: number;
    try {
      fd = openSync(paths.kcore, 'r');
    } catch (error) {
      throw new UserError(kcoreOpenReason(paths, (error as NodeJS.ErrnoException).code, uid));
    }
    try {
      return new KcoreSource(kallsyms, readSegments(paths.kcore), fd, paths.kcore, options.module);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  symbols(name: string): readonly KernelSymbol[] {
    return this.kallsyms.symbols(name);
  }

  prefetch(names: Iterable<string>): void {
    this.kallsyms.prefetch(names);
  }

  addressOf(name: string, sympos = 0): bigint {
    return new SymbolIndex(this.kallsyms.symbols(name)).addressOf(name, sympos, this.description);
  }

  read(address: bigint, length: number): Buffer {
    const segment = findExtent(this.segments, address);
    if (!segment || address + BigInt(length) > segment.end) throw new UserError(`${this.path}: 0x${address.toString(16)}+${length} is not in any PT_LOAD segment`);
    if (this.fd === undefined) throw new UserError(`${this.path}: read after close`);
    return readExactly(this.fd, segment.offset + (address - segment.start), length, `${this.path} at 0x${address.toString(16)}`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Every symbol kallsyms lists for vmlinux or one module, each way it can be unreadable named in one line. */
function allOfKallsyms(paths: LivePaths, module: string | undefined, uid: number | undefined): KallsymsLookup {
  const kallsyms = new KallsymsLookup(KallsymsLookup.readText(paths.kallsyms), module);
  if (kallsyms.empty) throw new UserError(`${paths.kallsyms}: no symbols (is it a kallsyms file?)`);
  if (kallsyms.addressesHidden) throw new UserError(zeroAddressesReason(paths, uid));
  if (module && !kallsyms.hasModule(module)) throw new UserError(`${paths.kallsyms}: no symbols of module ${module} (is it loaded?)`);
  return kallsyms;
}

/**
 * The PT_LOAD segments of an ELF core file, sorted by virtual address. Read here rather than with @hotsplice/elf:
 * /proc/kcore's file offsets are virtual addresses minus PAGE_OFFSET plus a header size (fs/proc/kcore.c), far
 * beyond 2^53, so they stay bigint, and so do the positions reads use.
 */
export function readSegments(path: string): Segment[] {
  const fd = openSync(path, 'r');
  try {
    const header = readExactly(fd, 0n, 64, path);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) throw new UserError(`${path}: not an ELF64 little-endian file`);
    const type = header.readUInt16LE(16);
    if (type !== ET_CORE) throw new UserError(`${path}: ELF type ${type} is not a core file (ET_CORE)`);
    const phoff = header.readBigUInt64LE(32);
    const entrySize = header.readUInt16LE(54);
    const count = header.readUInt16LE(56);
    if (entrySize !== PHDR_SIZE) throw new UserError(`${path}: e_phentsize is ${entrySize}, expected ${PHDR_SIZE}`);
    const table = readExactly(fd, phoff, count * PHDR_SIZE, path);
    const segments: Segment[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * PHDR_SIZE;
      const size = table.readBigUInt64LE(at + 32); // p_filesz
      if (table.readUInt32LE(at) !== PT_LOAD || size === 0n) continue;
      const start = table.readBigUInt64LE(at + 16); // p_vaddr
      segments.push({ start, end: start + size, offset: table.readBigUInt64LE(at + 8) });
    }
    return segments.sort((a, b) => (a.start < b.start ? -1 : 1));
  } finally {
    closeSync(fd);
  }
}

const PHDR_SIZE = 56;

function readExactly(fd: number, position: bigint, length: number, path: string): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + BigInt(done));
    if (n <= 0) throw new UserError(`${path}: ended after ${done} of ${length} bytes at offset 0x${position.toString(16)}`);
    done += n;
  }
  return out;
}
