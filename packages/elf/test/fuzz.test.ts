// Mutated objects must either parse or raise ElfError: never another exception, a hang or a huge allocation.
// Whatever parses must also write back byte-identical, and rebuild (or raise ElfError).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ElfError, ObjectBuilder, SHN_XINDEX, parseElf, writeElf } from '../src';
import { ASM_SOURCE, C_SOURCE, CXX_SOURCE } from './helpers/fixtures';
import { Workdir } from './helpers/toolchain';

const ITERATIONS = 10_000;
const SEED = 0x5eed_e1f;

let work: Workdir;
const bases: Buffer[] = [];

beforeAll(() => {
  work = new Workdir();
  bases.push(work.compile('c', C_SOURCE, 'c'), work.compile('cxx', CXX_SOURCE, 'c++'), work.compile('asm', ASM_SOURCE, 'asm'));
  bases.push(withExtendedNumbering(bases[2]));
});
afterAll(() => work?.remove());

/** The same object, but its section count and name-table index stored the extended way (legal for any count). */
function withExtendedNumbering(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const obj = parseElf(bytes);
  const zero = obj.header.shoff;
  out.writeBigUInt64LE(BigInt(obj.sections.length), zero + 32); // section 0 sh_size = count
  out.writeUInt32LE(obj.header.sectionNamesIndex, zero + 40); // section 0 sh_link = shstrndx
  out.writeUInt16LE(0, 60);
  out.writeUInt16LE(SHN_XINDEX, 62);
  const reread = parseElf(out);
  expect(reread.sections.map((s) => s.name)).toEqual(obj.sections.map((s) => s.name));
  return out;
}

/** mulberry32: small, fast, repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets of the fields a parser trusts most: header, section headers, symbols, relocations, group words. */
function interestingFields(bytes: Buffer): { at: number; width: 2 | 4 | 8 }[] {
  const obj = parseElf(bytes);
  const fields: { at: number; width: 2 | 4 | 8 }[] = [];
  for (const [at, width] of [[16, 2], [18, 2], [32, 8], [40, 8], [54, 2], [56, 2], [58, 2], [60, 2], [62, 2]] as const) fields.push({ at, width });
  obj.sections.forEach((s, i) => {
    const h = obj.header.shoff + i * 64;
    for (const [rel, width] of [[0, 4], [4, 4], [24, 8], [32, 8], [40, 4], [44, 4], [56, 8]] as const) fields.push({ at: h + rel, width });
    if (s.type === 2) for (let k = 0; k < s.size; k += 24) fields.push({ at: s.offset + k, width: 4 }, { at: s.offset + k + 6, width: 2 });
    if (s.type === 4) for (let k = 0; k < s.size; k += 24) fields.push({ at: s.offset + k + 8, width: 4 }, { at: s.offset + k + 12, width: 4 });
    if (s.type === 17) for (let k = 0; k < s.size; k += 4) fields.push({ at: s.offset + k, width: 4 });
  });
  return fields;
}

function mutate(base: Buffer, fields: { at: number; width: 2 | 4 | 8 }[], random: () => number): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  const out = Buffer.from(base);
  const kind = pick(4);
  if (kind === 0) {
    for (let i = 0, n = 1 + pick(8); i < n; i++) out[pick(out.length)] ^= 1 << pick(8);
  } else if (kind === 1) {
    return out.subarray(0, pick(out.length));
  } else if (kind === 2) {
    const { at, width } = fields[pick(fields.length)];
    const values = [0n, 1n, 2n, 0x18n, 0x40n, 0xff00n, 0xfff1n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 53n, 1n << 63n,
      BigInt(base.length - 1), BigInt(base.length), BigInt(base.length + 1), BigInt(pick(0x10000)), BigInt(pick(70))];
    const value = BigInt.asUintN(width * 8, values[pick(values.length)]);
    if (width === 2) out.writeUInt16LE(Number(value), at);
    else if (width === 4) out.writeUInt32LE(Number(value), at);
    else out.writeBigUInt64LE(value, at);
  } else {
    const length = 1 + pick(64);
    const from = pick(out.length - length);
    out.copyWithin(pick(out.length - length), from, from + length);
  }
  return out;
}

it(`${ITERATIONS} mutated objects: parse or ElfError, under 1 s each; parsed ones write back identical`, () => {
  const random = prng(SEED);
  const fields = bases.map(interestingFields);
  const failures: string[] = [];
  const errorKinds = new Map<string, number>();
  let parsed = 0;
  let rebuilt = 0;
  let slowest = 0;
  const started = performance.now();

  for (let i = 0; i < ITERATIONS; i++) {
    const which = i % bases.length;
    const input = mutate(bases[which], fields[which], random);
    const t0 = performance.now();
    let obj;
    try {
      obj = parseElf(input);
    } catch (error) {
      if (error instanceof ElfError) {
        if (!Number.isSafeInteger(error.offset) || error.offset < 0) failures.push(`iteration ${i}: ElfError with offset ${error.offset}`);
        const kind = error.message.replace(/0x[0-9a-f]+|\d+/g, 'N');
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
      } else {
        failures.push(`iteration ${i} (base ${which}): ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
      }
    }
    slowest = Math.max(slowest, performance.now() - t0);
    if (!obj) continue;
    parsed++;
    try {
      if (!writeElf(obj).equals(input)) failures.push(`iteration ${i} (base ${which}): parsed but did not write back identical`);
    } catch (error) {
      failures.push(`iteration ${i} (base ${which}): writeElf threw ${(error as Error).message}`);
    }
    try {
      parseElf(ObjectBuilder.fromElf(obj).toBuffer());
      rebuilt++;
    } catch (error) {
      if (!(error instanceof ElfError)) failures.push(`iteration ${i} (base ${which}): rebuild threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    }
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(`fuzz: ${ITERATIONS} inputs in ${seconds.toFixed(1)} s, ${parsed} parsed (${rebuilt} rebuilt), ${ITERATIONS - parsed} ElfError of ${errorKinds.size} kinds, slowest parse ${slowest.toFixed(1)} ms`);
  expect(failures.slice(0, 20)).toEqual([]);
  expect(slowest).toBeLessThan(1000);
  // The mutations reach deep: many inputs still parse, and the errors come from many different checks.
  expect(parsed).toBeGreaterThan(ITERATIONS / 10);
  expect(errorKinds.size).toBeGreaterThan(15);
});
