// What the matcher reads: a kernel's symbols (name → addresses, in address order) and its memory. Three sources
// implement it: the -dbg vmlinux file + System.map, the live kernel (/proc/kcore + /proc/kallsyms), fixtures.

/** One symbol as System.map / kallsyms list it. */
export interface KernelSymbol {
  name: string;
  address: bigint;
  /** Size in bytes when the source knows it (fixtures, ELF symtab); System.map and kallsyms do not. */
  size?: number;
  /** nm's type letter (t, T, d, b, r, W…); upper case = global. */
  type?: string;
}

/** What code the source holds at patch sites: the file before boot, or memory after the kernel patched itself. */
export type SourceKind = 'file' | 'live' | 'fixture';

export interface MemorySource {
  /** For reports: "vmlinux-6.1.0-56-amd64", "live kernel (/proc/kcore)". */
  readonly description: string;
  readonly kind: SourceKind;
  /** Every symbol of this name in the patched object (vmlinux or one module), in ascending address order. */
  symbols(name: string): readonly KernelSymbol[];
  /** Optional: look up these names in one go before `symbols` asks for them one by one (the live source). */
  prefetch?(names: Iterable<string>): void;
  /** `length` bytes at a kernel virtual address; throws UserError naming the address when it is not mapped. */
  read(address: bigint, length: number): Promise<Buffer> | Buffer;
  /** Address of `name`; `sympos` 0 = the name must be unique, n = the n-th same-named symbol (design.md §7). */
  addressOf(name: string, sympos?: number): bigint;
  close?(): void;
}
