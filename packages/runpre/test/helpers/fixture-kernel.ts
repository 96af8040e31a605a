import { FixtureSource, type KernelSymbol, type SourceKind } from '../../src';
import { type Loaded, loadObject } from './load';
import { EXTERNALS, sampleObject } from './sample-object';

export const BASE = 0xffffffff81100000n;
/** Two other static functions named `helper` (other objects'), one below and one above ours: ours is sympos 2. */
export const OTHER_HELPERS = [0xffffffff81000000n, 0xffffffff81200000n];
/** Another object's static `counter`, above ours. */
export const OTHER_COUNTER = 0xffffffff82b00000n;
/** The strong `w` that overrides the object's weak one. */
export const STRONG_W = 0xffffffff81300000n;

export interface FixtureKernel extends Loaded {
  source(kind?: SourceKind): FixtureSource;
}

/** The sample object loaded into a fixture kernel, with same-named rivals and a strong definition of its weak w. */
export function fixtureKernel(options: { identicalHelpers?: boolean } = {}): FixtureKernel {
  const object = sampleObject();
  const loaded = loadObject(object, BASE, EXTERNALS);
  const ours = loaded.regions.find((r) => r.address === loaded.addressOf('helper'))!;
  const helperCopy = (address: bigint) => {
    if (!options.identicalHelpers) return { address, bytes: Uint8Array.from([0x31, 0xc9, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc]) };
    // The same code placed elsewhere: its rel32 fields are adjusted to reach the same targets.
    const bytes = Buffer.from(ours.bytes);
    for (const at of [1, 8]) bytes.writeInt32LE(bytes.readInt32LE(at) + Number(ours.address - address), at);
    return { address, bytes };
  };
  const regions = [...loaded.regions, ...OTHER_HELPERS.map(helperCopy), { address: STRONG_W, bytes: Uint8Array.from([0xb8, 1, 0, 0, 0, 0xc3]) }, { address: OTHER_COUNTER, bytes: new Uint8Array(8) }];
  const symbols: KernelSymbol[] = [
    ...loaded.symbols.filter((s) => s.name !== 'w'), // the linker drops the overridden weak copy's symbol
    ...OTHER_HELPERS.map((address) => ({ name: 'helper', address, type: 't' })),
    { name: 'counter', address: OTHER_COUNTER, type: 'd' },
    { name: 'w', address: STRONG_W, type: 'T' },
  ];
  return { ...loaded, regions, symbols, source: (kind = 'fixture') => new FixtureSource({ symbols, regions, kind }) };
}
