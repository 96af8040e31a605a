// Compiles test inputs with the real toolchain (gcc-12, g++-12, GNU as, ld) in a temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The flags Debian's kernel build uses that matter for object layout (see design.md §6, §8). */
export const KERNEL_CFLAGS = [
  '-O2', '-mcmodel=kernel', '-fno-pic', '-mno-red-zone', '-ffunction-sections', '-fdata-sections', '-pg', '-mfentry',
  '-mrecord-mcount', '-fno-asynchronous-unwind-tables',
];

export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), 'hotsplice-elf-'));

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, content: string | Uint8Array): string {
    writeFileSync(this.path(name), content);
    return this.path(name);
  }

  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /** Compiles C (gcc-12), C++ (g++-12) or assembly (as) source to `<name>.o`; returns the object's bytes. */
  compile(name: string, source: string, kind: 'c' | 'c++' | 'asm'): Buffer {
    const src = this.write(`${name}.${kind === 'c' ? 'c' : kind === 'c++' ? 'cc' : 's'}`, source);
    const obj = this.path(`${name}.o`);
    if (kind === 'asm') run('as', [src, '-o', obj]);
    else run(kind === 'c' ? 'gcc-12' : 'g++-12', [...KERNEL_CFLAGS, ...(kind === 'c++' ? ['-fno-exceptions'] : []), '-c', src, '-o', obj]);
    return readFileSync(obj);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function readelf(flags: string, file: string): string {
  return run('readelf', ['-W', flags, file]);
}
