import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ObjectBuilder, SHN_ABS, STB_LOCAL, STT_FILE, parseElf } from '@hotsplice/elf';
import { type KernelPaths, UserError, run, runLinkObjtool } from '@hotsplice/kernel';
import { refuseStoppedObjtool } from './objtool-tables';

export interface OldCodeObject {
  path: string;
  /** The kernel object it came from ("fs/proc/version.o"): names the STT_FILE symbol. Default: the path. */
  object?: string;
  /** The code is a module's (objtool --module), not vmlinux's. */
  module?: boolean;
}

/**
 * Makefile.ksplice's pre-code object: the keep-old-code objects linked with `ld -r` into one relocatable object,
 * for run-pre matching. Each input first gets an STT_FILE symbol naming its source file ("version.c", as in
 * vmlinux's symbol table) unless it has one, so same-named locals of different objects stay told apart after the
 * link. The result depends only on the inputs and their order.
 *
 * When the kernel's objtool runs at link time (6.12 with IBT), the objects carry none of the tables that list the
 * sites the kernel rewrites at boot (return thunks, call depth accounting, sealed endbr): each input then gets the
 * pass the kernel's link gave the same code, with the kernel's objtool and arguments (tools/kernel objtool.ts).
 */
export async function linkOldCode(
  objects: Array<string | OldCodeObject>,
  out: string,
  kernel?: LinkingKernel,
): Promise<void> {
  if (!objects.length) throw new UserError('linkOldCode: no old-code objects');
  const scratch = await mkdtemp(join(tmpdir(), 'hotsplice-old-code-'));
  try {
    const inputs: string[] = [];
    for (const [i, entry] of objects.entries()) {
      const { path, object, module } = typeof entry === 'string' ? { path: entry, object: undefined, module: false } : entry;
      const bytes = await readFile(path).catch(() => {
        throw new UserError(`cannot read old code ${path}`);
      });
      const input = join(scratch, `${i}.o`);
      await writeFile(input, withFileSymbol(bytes, sourceName(object ?? path)));
      if (kernel) await objtoolAsLinked(kernel, input, module ?? false, object ?? path);
      inputs.push(input);
    }
    await run('ld', ['-r', '-o', out, ...inputs]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

type LinkingKernel = Pick<KernelPaths, 'headersTree' | 'config' | 'buildRoot'>;

/**
 * The pass the kernel's link gave this code (runLinkObjtool), on the object file in place, when the kernel runs
 * objtool at link time. A single-object module's code had objtool's pass when it was compiled: it has its ORC
 * already and is left as it is. A pass that stopped at a fatal warning (exit 0, no tables) is refused: run-pre
 * would take the kernel's rewritten sites (a return thunk jump turned into `ret; int3`) for changed code.
 */
async function objtoolAsLinked(kernel: LinkingKernel, file: string, module: boolean, object: string): Promise<void> {
  const before = parseElf(await readFile(file));
  if (before.sectionByName('.orc_unwind_ip')) return;
  const pass = await runLinkObjtool(kernel, file, module);
  if (pass) refuseStoppedObjtool(before, parseElf(await readFile(file)), pass, `the old code of ${object}`);
}

/**
 * Old code as the kernel's link left the same code (see linkOldCode): what build-time run-pre compares with the
 * -dbg vmlinux. On 6.12 objtool's `--hacks=jump_label` turns a jump label's `jmp` into the nop vmlinux holds.
 */
export async function oldCodeAsLinked(kernel: LinkingKernel, bytes: Buffer, module: boolean, object: string): Promise<Buffer> {
  const scratch = await mkdtemp(join(tmpdir(), 'hotsplice-old-code-'));
  try {
    const file = join(scratch, 'old.o');
    await writeFile(file, bytes);
    await objtoolAsLinked(kernel, file, module, object);
    return await readFile(file);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** "fs/proc/version.o" → "version.c": the STT_FILE gcc writes and vmlinux keeps. */
export function sourceName(object: string): string {
  return basename(object).replace(/\.o$/, '.c');
}

/** The object with an STT_FILE symbol first among its locals, unless it already has one. */
export function withFileSymbol(bytes: Buffer, file: string): Buffer {
  const b = ObjectBuilder.fromElf(parseElf(bytes));
  if (b.symbols.some((s) => s.type === STT_FILE)) return bytes;
  b.addSymbol({ name: file, section: SHN_ABS, bind: STB_LOCAL, type: STT_FILE });
  // The builder writes locals in insertion order: an STT_FILE applies to the locals after it (gABI).
  b.symbols.unshift(b.symbols.pop()!);
  return b.toBuffer();
}
