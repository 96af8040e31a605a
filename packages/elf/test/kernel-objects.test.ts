// Real Debian kernel files, when this machine has them (tools/kernel provisions them into the hotsplice cache).
// Nothing here is required: each test skips when its input is absent. Point at other files with
// HOTSPLICE_TEST_KERNEL_OBJECTS (paths separated by ':') and HOTSPLICE_TEST_VMLINUX.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ByteSource, ElfFile, FileSource, ObjectBuilder, ET_EXEC, parseElf, writeElf } from '../src';
import { groupsView, plainSectionsView, relocationsView, symbolsView } from './helpers/compare';
import { expectMatchesReadelf, readelfNdx } from './helpers/oracle';
import { parseSections, parseSymbols } from './helpers/readelf-parse';
import { Workdir, readelf, run } from './helpers/toolchain';

const cache = process.env.HOTSPLICE_CACHE || join(process.env.HOME || homedir(), '.cache', 'hotsplice');

function kernelDirs(): string[] {
  const root = join(cache, 'kernel');
  return existsSync(root) ? readdirSync(root).sort().reverse().map((d) => join(root, d)) : [];
}

function findObjects(): string[] {
  if (process.env.HOTSPLICE_TEST_KERNEL_OBJECTS) return process.env.HOTSPLICE_TEST_KERNEL_OBJECTS.split(':').filter(Boolean);
  for (const dir of kernelDirs()) {
    const found: string[] = [];
    const src = join(dir, 'src');
    const tree = existsSync(src) ? readdirSync(src).find((d) => d.startsWith('linux-source')) : undefined;
    if (tree && existsSync(join(src, tree, 'kernel/sched/core.o'))) found.push(join(src, tree, 'kernel/sched/core.o'));
    const modules = join(dir, 'image/lib/modules');
    if (existsSync(modules)) {
      for (const release of readdirSync(modules).sort()) {
        const net = join(modules, release, 'kernel/net/key');
        if (existsSync(net)) found.push(...readdirSync(net).filter((f) => f.endsWith('.ko')).sort().slice(0, 1).map((f) => join(net, f)));
      }
    }
    if (found.length > 0) return found;
  }
  return [];
}

function findVmlinux(): string | undefined {
  if (process.env.HOTSPLICE_TEST_VMLINUX) return process.env.HOTSPLICE_TEST_VMLINUX;
  for (const dir of kernelDirs()) {
    const boot = join(dir, 'dbg/usr/lib/debug/boot');
    const file = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('vmlinux-')) : undefined;
    if (file) return join(boot, file);
  }
  return undefined;
}

const objects = findObjects();
const vmlinux = findVmlinux();
let work: Workdir;
beforeAll(() => {
  work = new Workdir();
});
afterAll(() => work?.remove());

describe.skipIf(objects.length === 0)('real kernel objects', () => {
  it.each(objects)('%s: readelf agrees, round trip identical, rebuild accepted by ld -r', (path) => {
    // Work on a copy: the cached tree may be rebuilt by another job while this runs.
    const bytes = readFileSync(path);
    const file = work.write('kernel-object.o', bytes);
    const obj = parseElf(bytes);
    const counts = expectMatchesReadelf(obj, file);
    expect(counts.sections).toBeGreaterThan(10);
    expect(counts.relocations).toBeGreaterThan(100);
    expect(writeElf(obj).equals(bytes)).toBe(true);

    const built = work.write('kernel-object.built.o', ObjectBuilder.fromElf(obj).toBuffer());
    const rebuilt = parseElf(readFileSync(built));
    expect(plainSectionsView(rebuilt)).toEqual(plainSectionsView(obj));
    expect(symbolsView(rebuilt)).toEqual(symbolsView(obj));
    expect(relocationsView(rebuilt)).toEqual(relocationsView(obj));
    expect(groupsView(rebuilt)).toEqual(groupsView(obj));
    run('ld', ['-r', '-o', work.path('kernel-object.linked.o'), built]);
  });
});

/** Counts the bytes the reader pulls from the file. */
class CountingSource implements ByteSource {
  bytesRead = 0;
  constructor(private readonly inner: FileSource) {}
  get size() {
    return this.inner.size;
  }
  read(offset: number, length: number, what: string): Buffer {
    this.bytesRead += length;
    return this.inner.read(offset, length, what);
  }
  close() {
    this.inner.close();
  }
}

describe.skipIf(!vmlinux)('vmlinux, read lazily through a file descriptor', () => {
  it('sections, program headers and symbols agree with readelf, reading a few percent of the file', () => {
    const source = new CountingSource(new FileSource(vmlinux!));
    const elf = new ElfFile(source);
    try {
      expect(elf.header.type).toBe(ET_EXEC);
      const sections = parseSections(readelf('-S', vmlinux!));
      expect(elf.sections.map((s) => [s.index, s.name, s.addr, s.offset, s.size])).toEqual(sections.map((s) => [s.index, s.name, s.addr, s.offset, s.size]));
      const phdrs = readelf('-l', vmlinux!).split('\n').filter((l) => /^\s+LOAD\s/.test(l));
      expect(elf.programHeaders().filter((p) => p.type === 1).map((p) => `0x${p.vaddr.toString(16).padStart(16, '0')}`))
        .toEqual(phdrs.map((l) => l.trim().split(/\s+/)[2]));

      const symbols = elf.symbols();
      const expected = parseSymbols(readelf('-s', vmlinux!));
      expect(symbols.length).toBe(expected.length);
      expect(symbols.map((s) => `${s.index} ${s.value} ${s.size} ${readelfNdx(s)} ${elf.symbolName(s)}`))
        .toEqual(expected.map((s) => `${s.index} ${s.value} ${s.size} ${s.ndx} ${s.name}`));
      expect(symbols.find((s) => s.name === 'schedule')!.value >> 32n).toBe(0xffffffffn); // a kernel address, exact

      expect(source.bytesRead).toBeLessThan(source.size / 20);
    } finally {
      elf.close();
    }
  });
});
