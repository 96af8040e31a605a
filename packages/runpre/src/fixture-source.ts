import { UserError } from '@hotsplice/kernel';
import type { KernelSymbol, MemorySource, SourceKind } from './source';
import { SymbolIndex } from './symbol-index';

export interface FixtureRegion {
  address: bigint;
  bytes: Uint8Array;
}

/** Memory and symbols given in full, for unit tests: regions of bytes at addresses plus a symbol list. */
export class FixtureSource implements MemorySource {
  readonly description: string;
  readonly kind: SourceKind;
  private readonly index: SymbolIndex;
  private readonly regions: FixtureRegion[];

  constructor(init: { symbols: KernelSymbol[]; regions: FixtureRegion[]; description?: string; kind?: SourceKind }) {
    this.index = new SymbolIndex(init.symbols);
    this.regions = init.regions;
    this.description = init.description ?? 'fixture';
    this.kind = init.kind ?? 'fixture';
  }

  symbols(name: string): readonly KernelSymbol[] {
    return this.index.symbols(name);
  }

  addressOf(name: string, sympos = 0): bigint {
    return this.index.addressOf(name, sympos, this.description);
  }

  read(address: bigint, length: number): Buffer {
    for (const r of this.regions) {
      const start = address - r.address;
      if (start >= 0n && start + BigInt(length) <= BigInt(r.bytes.length)) return Buffer.from(r.bytes.subarray(Number(start), Number(start) + length));
    }
    throw new UserError(`${this.description}: 0x${address.toString(16)}+${length} is not mapped`);
  }
}
