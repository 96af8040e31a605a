import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { ElfFile, ET_CORE, ElfError, FileSource, PT_LOAD } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';
import { DEFAULT_LIVE_PATHS, type LivePaths, kcoreOpenReason, zeroAddressesReason } from './live-access';
import type { KernelSymbol, MemorySource } from './source';
import { SymbolIndex } from './symbol-index';
import { parseSymbolText } from './symbol-text';
import { findExtent } from './vmlinux-source';

export interface LiveOptions {
  paths?: Partial<LivePaths>;
  /** Whose symbols: a loaded module's name, or undefined for vmlinux (sympos counts within one object). */
  module?: string;
  /** The reader's uid, for the error messages (default: process.getuid()). */
  uid?: number;
}

interface Segment {
  start: bigint;
  end: bigint;
  offset: number;
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
    private readonly index: SymbolIndex,
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
    const listed = parseSymbolText(readFileSync(paths.kallsyms, 'latin1'));
    if (listed.length === 0) throw new UserError(`${paths.kallsyms}: no symbols (is it a kallsyms file?)`);
    if (listed.every((s) => s.address === 0n)) throw new UserError(zeroAddressesReason(paths, uid));
    const own = listed.filter((s) => s.module === options.module);
    if (own.length === 0) throw new UserError(`${paths.kallsyms}: no symbols of module ${options.module} (is it loaded?)`);

    let fd: number;
    try {
      fd = openSync(paths.kcore, 'r');
    } catch (error) {
      throw new UserError(kcoreOpenReason(paths, (error as NodeJS.ErrnoException).code, uid));
    }
    try {
      return new KcoreSource(new SymbolIndex(own), readSegments(paths.kcore), fd, paths.kcore, options.module);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  symbols(name: string): readonly KernelSymbol[] {
    return this.index.symbols(name);
  }

  addressOf(name: string, sympos = 0): bigint {
    return this.index.addressOf(name, sympos, this.description);
  }

  read(address: bigint, length: number): Buffer {
    const segment = findExtent(this.segments, address);
    if (!segment || address + BigInt(length) > segment.end) throw new UserError(`${this.path}: 0x${address.toString(16)}+${length} is not in any PT_LOAD segment`);
    if (this.fd === undefined) throw new UserError(`${this.path}: read after close`);
    const out = Buffer.alloc(length);
    const position = segment.offset + Number(address - segment.start);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, position + done);
      if (n <= 0) throw new UserError(`${this.path}: reading 0x${address.toString(16)}+${length} ended after ${done} bytes`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The PT_LOAD segments of an ELF core file, sorted by virtual address (only the headers are read). */
export function readSegments(path: string): Segment[] {
  let elf: ElfFile | undefined;
  try {
    elf = new ElfFile(new FileSource(path));
    if (elf.header.type !== ET_CORE) throw new UserError(`${path}: ELF type ${elf.header.type} is not a core file (ET_CORE)`);
    return elf
      .programHeaders()
      .filter((p) => p.type === PT_LOAD && p.filesz > 0)
      .map((p) => ({ start: p.vaddr, end: p.vaddr + BigInt(p.filesz), offset: p.offset }))
      .sort((a, b) => (a.start < b.start ? -1 : 1));
  } catch (error) {
    if (error instanceof ElfError) throw new UserError(`${path}: not a readable ELF core (${error.message})`);
    throw error;
  } finally {
    elf?.close();
  }
}
