// Compile a C translation unit exactly as kbuild compiles an object of the prepared Debian kernel tree: the same
// gcc-12 flags (taken from a real kbuild .cmd file, never retyped) and the same objtool pass afterwards.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { kbuildVariables } from '@hotsplice/kernel';
import { type KbuildCommand, parseKbuildCmd } from '@hotsplice/tree';

export { parseKbuildCmd, shellWords, type KbuildCommand } from '@hotsplice/tree';

/** The kernel tree a fixture is compiled against (a subset of `KernelPaths`). */
export interface KernelTree {
  sourceTree: string;
  abi: string;
  compiler: string;
  buildRoot?: string;
}

export interface CompileOptions {
  /** Compile as part of this loadable module (-DMODULE, KBUILD_MODNAME, objtool --module). */
  module?: string;
  /** The tree to compile against; default: the one configured with useKernel() or prepared on demand. */
  kernel?: KernelTree;
  /** Fail on any warning of gcc or objtool too (fixtures must compile cleanly). */
  strict?: boolean;
}

/**
 * The patch API (<linux/hotsplice.h>, "kpatch-macros.h", "kpatch-syscall.h") as the diff step installs it into the
 * tree's include/: fixtures find it on an -I path of its own instead.
 */
const PATCH_API_INCLUDE = join(__dirname, '..', '..', '..', '..', 'kernel-module', 'include');
const patchApiDigest = () =>
  createHash('sha256')
    .update(['linux/hotsplice.h', 'kpatch-macros.h', 'kpatch-syscall.h'].map((h) => readFileSync(join(PATCH_API_INCLUDE, h), 'utf8')).join('\0'))
    .digest('hex');

/** The reference object whose kbuild command gives the flags. */
const REFERENCE = { object: 'fs/proc/version.o', cmd: 'fs/proc/.version.o.cmd' };

let configured: KernelTree | undefined;
let preparing: Promise<KernelTree> | undefined;
const commands = new Map<string, Promise<KbuildCommand>>();

/** Use this prepared tree for every later compile (tests pass `inject('kernel')`). */
export function useKernel(kernel: KernelTree): void {
  configured = { sourceTree: kernel.sourceTree, abi: kernel.abi, compiler: kernel.compiler, buildRoot: kernel.buildRoot };
}

async function currentKernel(opts?: CompileOptions): Promise<KernelTree> {
  if (opts?.kernel) return opts.kernel;
  if (configured) return configured;
  preparing ??= import('@hotsplice/kernel')
    .then((k) => k.prepareKernel({ abi: process.env.HOTSPLICE_ABI, quiet: true }))
    .then((p) => ({ sourceTree: p.sourceTree, abi: p.abi, compiler: p.compiler, buildRoot: p.buildRoot }));
  return preparing;
}

function execFileP(file: string, args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const text = `${String(stderr)}${String(stdout)}`.trim();
        reject(new Error(`${basename(file)} failed (${error.code ?? error.signal ?? error.message}):\n${text}\ncommand: ${file} ${args.join(' ')}`));
      } else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The kbuild command of the reference object, building it once with kbuild's own variables if needed. */
export function kbuildCommand(kernel: KernelTree): Promise<KbuildCommand> {
  const key = `${kernel.sourceTree}\0${kernel.abi}`;
  let cmd = commands.get(key);
  if (!cmd) {
    cmd = (async () => {
      const cmdFile = join(kernel.sourceTree, REFERENCE.cmd);
      if (!existsSync(cmdFile)) {
        // One make at a time on the tree, also across processes (test files run in several workers).
        const lock = join(tmpdir(), `hotsplice-kcc-${createHash('sha256').update(kernel.sourceTree).digest('hex').slice(0, 16)}.lock`);
        await exclusive(lock, 600_000, () => existsSync(cmdFile), () =>
          execFileP('make', ['-C', kernel.sourceTree, '-s', ...kbuildVariables(kernel), REFERENCE.object], kernel.sourceTree).then(() => undefined),
        );
      }
      // kbuild rewrites the .cmd file in place after each build of the object (`fixdep … > .cmd`): a reader racing a
      // concurrent build may see it empty or cut short, so read again for a moment before giving up.
      const hasObjtool = existsSync(join(kernel.sourceTree, 'tools', 'objtool', 'objtool'));
      for (let attempt = 0; ; attempt++) {
        try {
          const cmd = parseKbuildCmd(await readFile(cmdFile, 'utf8'));
          if (hasObjtool && !cmd.objtool) throw new Error(`${REFERENCE.object}'s .cmd line has no objtool command`);
          return cmd;
        } catch (e) {
          if (attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    cmd.catch(() => commands.delete(key));
    commands.set(key, cmd);
  }
  return cmd;
}

/** kbuild's name for an object: the file name without .o, '-' turned into '_' (as for KBUILD_MODNAME). */
function kbuildName(outFile: string): string {
  return basename(outFile).replace(/\.o$/, '').replace(/-/g, '_');
}

/** The gcc and objtool argv compileKernelC runs for `outFile` (source path and output left out). */
export async function compileArgs(outFile: string, opts: CompileOptions = {}): Promise<{ kernel: KernelTree; cmd: KbuildCommand; defines: string[]; objtoolArgs: string[] }> {
  const kernel = await currentKernel(opts);
  const cmd = await kbuildCommand(kernel);
  const name = kbuildName(outFile);
  const modname = opts.module ?? name;
  const defines = [
    ...(opts.module ? ['-DMODULE'] : []),
    `-DKBUILD_MODFILE="${modname}"`,
    `-DKBUILD_BASENAME="${name}"`,
    `-DKBUILD_MODNAME="${modname}"`,
    `-D__KBUILD_MODNAME=kmod_${modname}`,
    `-I${PATCH_API_INCLUDE}`,
  ];
  const objtoolArgs = [...cmd.objtoolArgs, ...(opts.module ? ['--module'] : [])];
  return { kernel, cmd, defines, objtoolArgs };
}

/**
 * Compile C source text to `outFile` as a kernel object (cwd = the tree: kbuild's -I paths are relative), then run
 * objtool on it exactly as kbuild does. The source is written to `<tmp>/<name>.c`; the temporary directory is mapped
 * away in __FILE__ and the debug info, so the same source always gives the same bytes.
 */
export async function compileKernelC(source: string, outFile: string, opts: CompileOptions = {}): Promise<void> {
  const { kernel, cmd, defines, objtoolArgs } = await compileArgs(outFile, opts);
  const dir = await mkdtemp(join(tmpdir(), 'hs-kcc-'));
  try {
    const cFile = join(dir, `${kbuildName(outFile)}.c`);
    await writeFile(cFile, source);
    const args = [...cmd.cflags, `-fdebug-prefix-map=${dir}=.`, `-fmacro-prefix-map=${dir}/=`, ...defines, '-c', '-o', outFile, cFile];
    const cc = await execFileP(cmd.cc, args, kernel.sourceTree);
    if (opts.strict && cc.stderr.trim()) throw new Error(`gcc warned (strict):\n${cc.stderr.trim()}`);
    if (cmd.objtool) {
      const tool = await execFileP(join(kernel.sourceTree, cmd.objtool), [...objtoolArgs, outFile], kernel.sourceTree);
      const said = `${tool.stderr}${tool.stdout}`.trim();
      if (opts.strict && said) throw new Error(`objtool warned (strict):\n${said}`);
    }
  } catch (e) {
    await rm(outFile, { force: true });
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- bounded, cached compiles shared by the test files of one run (and across runs) ----

const limit = Math.max(1, availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

async function bounded<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= limit) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Where cached objects live; one directory per (source, flags) hash. */
export const CACHE_DIR = join(tmpdir(), 'hotsplice-objdiff-fixtures');

const inFlight = new Map<string, Promise<string>>();

/**
 * Run `fn` while holding `lock` (a file created with O_EXCL) against other processes; `done()` says whether the
 * work is already there (checked before waiting ends and again once the lock is held). A lock older than `staleMs`
 * belongs to a process that died: it is taken over.
 */
async function exclusive(lock: string, staleMs: number, done: () => boolean, fn: () => Promise<void>): Promise<void> {
  for (;;) {
    if (done()) return;
    let handle;
    try {
      handle = await open(lock, 'wx');
    } catch {
      try {
        if (Date.now() - (await stat(lock)).mtimeMs > staleMs) await unlink(lock).catch(() => undefined);
      } catch {
        // released meanwhile
      }
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    await handle.close();
    try {
      if (!done()) await fn();
      return;
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}

/**
 * Compile `source` as `<name>.o` once (strictly: a warning fails it). The object is kept under CACHE_DIR, keyed by
 * a hash of the source, the name, the module, the tree and the compiler's and objtool's flags; concurrent callers,
 * also in other processes (test files), share one compile. Returns the object's path.
 */
export async function compileCached(source: string, name: string, opts: CompileOptions = {}): Promise<string> {
  const outName = `${name}.o`;
  const { kernel, cmd, defines, objtoolArgs } = await compileArgs(outName, opts);
  const hash = createHash('sha256')
    .update(JSON.stringify({ source, outName, kernel, cmd, defines, objtoolArgs, api: patchApiDigest(), v: 2 }))
    .digest('hex')
    .slice(0, 24);
  const dir = join(CACHE_DIR, hash);
  const target = join(dir, outName);
  let job = inFlight.get(target);
  if (!job) {
    job = (async () => {
      if (existsSync(target)) return target;
      await mkdir(dir, { recursive: true });
      await exclusive(`${target}.lock`, 120_000, () => existsSync(target), async () => {
        const tmpDir = await mkdtemp(join(dir, '.tmp-'));
        try {
          const tmpOut = join(tmpDir, outName);
          await bounded(() => compileKernelC(source, tmpOut, { ...opts, kernel, strict: true }));
          await rename(tmpOut, target);
        } finally {
          await rm(tmpDir, { recursive: true, force: true });
        }
      });
      return target;
    })();
    job.catch(() => inFlight.delete(target));
    inFlight.set(target, job);
  }
  return job;
}
