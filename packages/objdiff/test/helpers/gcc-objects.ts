// Small kernel-like objects without the kernel tree (gcc-12 with the code generation kernel objects get), plus
// an executable and a fake module made from them, for tests of what the differ accepts as input.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KERNEL_LIKE_FLAGS = ['-O2', '-mcmodel=kernel', '-fno-pic', '-mno-red-zone', '-ffunction-sections', '-fdata-sections', '-pg', '-mfentry', '-mrecord-mcount', '-fno-asynchronous-unwind-tables', '-c'];

/** `<dir>/<name>.c` compiled to `<dir>/<name>.o` (gcc records `<name>.c` as the STT_FILE). */
export function gccObject(dir: string, name: string, source: string, flags = KERNEL_LIKE_FLAGS): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.c`), source);
  execFileSync('gcc-12', [...flags, '-o', `${name}.o`, `${name}.c`], { cwd: dir });
  return join(dir, `${name}.o`);
}

/** An ET_EXEC (with a symbol table) linked from one object; its undefined references stay unresolved. */
export function linkExecutable(object: string, out: string): string {
  execFileSync('ld', ['-e', '0', '--unresolved-symbols=ignore-all', '-o', out, object]);
  return out;
}

/** An ET_REL shaped like a finished module: `.modinfo` with `name=<name>` and `.gnu.linkonce.this_module`. */
export function fakeModule(dir: string, name: string): string {
  const source = `static const char modinfo_name[] __attribute__((section(".modinfo"), used, aligned(1))) = "name=${name}";
char this_module[64] __attribute__((section(".gnu.linkonce.this_module")));
int ${name}_function(int x) { return x + 1; }
`;
  return gccObject(dir, name, source, ['-O2', '-c']);
}

export const VERSION_C = `extern int seq_printf(void *m, const char *f, ...);
int version_proc_show(void *m, void *v) { seq_printf(m, "%s\\n", "Linux"); return 0; }
`;
export const CMDLINE_C = `extern int seq_puts(void *m, const char *s);
extern const char *saved_command_line;
int cmdline_proc_show(void *m, void *v) { seq_puts(m, saved_command_line); return 0; }
`;
