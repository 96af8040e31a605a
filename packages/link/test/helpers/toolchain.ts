// gcc-12, ld and readelf as the tests' toolchain and oracle: our ELF code is checked against readelf's view.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Kernel-like code generation without the kernel tree: per-function sections, fentry, kernel code model. */
export const KERNEL_LIKE_CFLAGS = [
  '-O2', '-mcmodel=kernel', '-fno-pic', '-mno-red-zone', '-ffunction-sections', '-fdata-sections', '-pg', '-mfentry',
  '-mrecord-mcount', '-fno-asynchronous-unwind-tables',
];

/** Runs a tool in the C locale and UTC, so listings (tar -tv dates, readelf) read the same everywhere. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): string {
  const env = { ...process.env, LC_ALL: 'C', TZ: 'UTC' };
  return execFileSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'], env, ...options });
}

export class Scratch {
  readonly dir: string;
  private n = 0;

  constructor(prefix = 'hs-link-test-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, data: string | Uint8Array): string {
    writeFileSync(this.path(name), data);
    return this.path(name);
  }

  /** gcc-12 with KERNEL_LIKE_CFLAGS; returns the object's path. */
  compile(source: string, name = `t${this.n++}`): string {
    const c = this.write(`${name}.c`, source);
    run('gcc-12', [...KERNEL_LIKE_CFLAGS, '-c', '-o', this.path(`${name}.o`), c]);
    return this.path(`${name}.o`);
  }

  /** `ld -r` of the inputs into `name`. */
  ldr(name: string, inputs: string[]): string {
    run('ld', ['-r', '-o', this.path(name), ...inputs]);
    return this.path(name);
  }

  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ReadelfSection {
  index: number;
  name: string;
  type: string;
  flags: string;
  link: number;
  info: number;
  size: number;
}

export interface ReadelfReloc {
  offset: bigint;
  type: string;
  symbol: string;
  addend: bigint;
}

export interface ReadelfSymbol {
  index: number;
  name: string;
  type: string;
  bind: string;
  ndx: string;
}

/** `readelf -SW`: every section but the null one. */
export function sections(file: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of run('readelf', ['-SW', file]).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(.*)$/.exec(line);
    if (!m || m[1] === '0') continue;
    const t = m[2].trim().split(/\s+/);
    // name type addr off size es [flags] lk inf al
    const flags = t.length === 10 ? t[6] : '';
    out.push({ index: Number(m[1]), name: t[0], type: t[1], flags, link: Number(t[t.length - 3]), info: Number(t[t.length - 2]), size: parseInt(t[4], 16) });
  }
  return out;
}

/** `readelf -rW`: relocation entries per relocation section name. */
export function relocations(file: string): Map<string, ReadelfReloc[]> {
  const out = new Map<string, ReadelfReloc[]>();
  let current: ReadelfReloc[] | undefined;
  for (const line of run('readelf', ['-rW', file]).split('\n')) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      out.set(head[1], (current = []));
      continue;
    }
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(\S+)\s+[0-9a-f]{16}\s+(\S+) ([+-]) ([0-9a-f]+)$/.exec(line);
    if (m && current) current.push({ offset: BigInt(`0x${m[1]}`), type: m[2], symbol: m[3], addend: (m[4] === '-' ? -1n : 1n) * BigInt(`0x${m[5]}`) });
  }
  return out;
}

/** `readelf -sW` .symtab entries (Ndx as printed: UND, ABS, a number, or "OS [0xff20]" for SHN_LIVEPATCH). */
export function symbols(file: string): ReadelfSymbol[] {
  const out: ReadelfSymbol[] = [];
  for (const line of run('readelf', ['-sW', file]).split('\n')) {
    const m = /^\s*(\d+):\s+[0-9a-f]+\s+\d+\s+(\S+)\s+(\S+)\s+\S+\s+(UND|ABS|COM|\d+|\S+ \[0x[0-9a-f]+\])\s*(.*)$/.exec(line);
    if (m) out.push({ index: Number(m[1]), type: m[2], bind: m[3], ndx: m[4], name: m[5] });
  }
  return out;
}

/** `readelf -x` bytes of one section (hex dump parsed back). */
export function sectionBytes(file: string, name: string): Buffer {
  const hex = run('readelf', ['-W', '-x', name, file])
    .split('\n')
    .map((l) => /^\s+0x[0-9a-f]+ ((?:[0-9a-f]{2,8} ){1,4})/.exec(l)?.[1] ?? '')
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(hex, 'hex');
}
