import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { KERNEL_CC, isDone, kbuildVariables, once } from '@hotsplice/kernel';
import { journalFor } from './build';
import { restoreTree } from './journal';
import { shellWords } from './kbuild-cmd';
import { withTreeLock } from './lock';

/**
 * What a plain build of this tree's config compiles, and how, as kbuild itself decides: every object of the build
 * with the command kbuild would record for it (`cmd_X.o` of `.X.o.cmd`). Read from a dry run of the whole build
 * (`make -n all`), which evaluates every Makefile against the config — `obj-$(CONFIG_X)`, `ifeq` blocks, composite
 * lists and all — without compiling anything. kbuild's compile rule hands the command to fixdep
 * (scripts/Makefile.build `rule_cc_o_c`: `scripts/basic/fixdep X.d X.o '<cmd>'`), which writes it into the `.cmd`
 * file: that argument is taken, so the plan's command is exactly the recorded one.
 */
export interface KbuildPlan {
  format: 1;
  /** Object (tree-relative) → its compile command (gcc, then objtool), as kbuild records it. */
  commands: Record<string, string>;
}

/**
 * The dry run. `-W include/linux/kconfig.h` makes make take that header as just changed; every kernel compile
 * force-includes it (`-include ./include/linux/kconfig.h`), so every object, built before or not, is listed.
 * make -n still runs the recursive makes and the Makefiles' `$(shell …)` probes, but no recipe. One job: with
 * several, the sub-makes' long lines interleave in the output (measured: 254 of 13,431 commands cut at -j2, and
 * still one with --output-sync=line). Takes about a minute; callers hold the tree lock (a concurrent build rewrites
 * the `.cmd` files make reads).
 */
export async function dryRunPlan(tree: string, abi: string): Promise<KbuildPlan> {
  const result = await execa('make', ['-C', tree, '-n', '-k', '-j1', '-W', 'include/linux/kconfig.h', ...kbuildVariables(tree, abi), 'all'], {
    reject: false,
    maxBuffer: 1 << 30,
    stripFinalNewline: false,
    env: { MAKEFLAGS: '' },
  });
  const commands = parseDryRun(result.stdout);
  if (Object.keys(commands).length < 100) {
    const why = result.stderr.split('\n').filter(Boolean).slice(-3).join('; ');
    throw new Error(`make -n in ${tree} listed ${Object.keys(commands).length} compiles (${why})`);
  }
  return { format: 1, commands };
}

/** The compiles of a dry run's output: the command fixdep receives for each kernel object. */
export function parseDryRun(output: string): Record<string, string> {
  const commands: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const at = line.indexOf('scripts/basic/fixdep ');
    if (at < 0) continue;
    const [, , target, command] = shellWords(line.slice(at));
    if (!target?.endsWith('.o') || !command) continue;
    // Host programs (scripts/, tools/) are compiled with HOSTCC, kernel objects with CC.
    if (!command.startsWith(`${KERNEL_CC} `)) continue;
    if (!command.includes(` -c -o ${target} `)) throw new Error(`dry run: the command for ${target} does not compile it: ${command.slice(0, 160)}`);
    commands[target] ??= command;
  }
  return commands;
}

/** Where hotsplice keeps what it learns about one prepared tree: beside it, in the kernel's cache directory. */
export function treeCacheDir(tree: string, name: string): string {
  return join(dirname(tree), '..', name);
}

const planDir = (tree: string) => treeCacheDir(tree, 'kbuild-plan');

/**
 * The tree's plan, made once (a dry run, about a minute, under the tree lock) and kept beside the tree:
 * `objects.json` (what graph time reads: the object names) and `commands.json` (the narrowing's flags, ~40 MB).
 */
export async function ensureKbuildPlan(tree: string, abi: string): Promise<void> {
  const key = await planKey(tree, abi);
  if (await isDone(planDir(tree), key)) return;
  await withTreeLock(tree, () =>
    once(planDir(tree), key, async (dir) => {
      await restoreTree(tree, journalFor(tree));
      const plan = await dryRunPlan(tree, abi);
      await writeFile(join(dir, 'commands.json'), JSON.stringify(plan.commands));
      await writeFile(join(dir, 'objects.json'), JSON.stringify(Object.keys(plan.commands).sort()));
    }),
  );
}

/** The objects kbuild builds in this tree's config, or undefined when the plan was not made yet. */
export async function plannedObjects(tree: string, abi: string): Promise<Set<string> | undefined> {
  if (!(await isDone(planDir(tree), await planKey(tree, abi)))) return undefined;
  return new Set(JSON.parse(await readFile(join(planDir(tree), 'objects.json'), 'utf8')) as string[]);
}

/** Every planned object's compile command. */
export async function plannedCommands(tree: string, abi: string): Promise<Record<string, string>> {
  if (!(await isDone(planDir(tree), await planKey(tree, abi)))) throw new Error(`no kbuild plan for ${tree} yet`);
  return JSON.parse(await readFile(join(planDir(tree), 'commands.json'), 'utf8')) as Record<string, string>;
}

/** The plan holds for one tree as prepared (its markers: version and make variables) and one config. */
async function planKey(tree: string, abi: string): Promise<string> {
  return JSON.stringify({ format: 1, tree: await treeIdentity(tree), make: kbuildVariables('<tree>', abi) });
}

/**
 * What a prepared tree is: the markers of its unpack and its preparation (package version, make variables, recipe)
 * and its config. A tree produced again (another recipe, another config) is another tree for every cache here.
 */
export async function treeIdentity(tree: string): Promise<string> {
  const read = (path: string) => readFile(path, 'utf8').catch(() => 'none');
  const parts = await Promise.all([read(join(dirname(tree), '.hotsplice-done')), read(join(dirname(tree), '..', 'prepared', '.hotsplice-done')), read(join(tree, '.config'))]);
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}
