import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { execa } from 'execa';
import { isDone, kbuildVariables, once, toolchainCommand } from '@hotsplice/kernel';
import { type TreeInfo, journalFor } from './build';
import { restoreTree } from './journal';
import { checkedCommand } from './fresh';
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
 * The dry run. make -n runs the recursive makes and the Makefiles' `$(shell …)` probes, but no recipe; each
 * compile rule prints the command that fixdep would record. An object that is up to date prints no compile, only
 * the `force_checksrc` line of its rule (scripts/Makefile.build: `$(obj)/%.o: $(src)/%.c … $(call
 * cmd,force_checksrc)`), whose delete-on-interrupt trap names it; make found its recorded command equal to the
 * current one (if_changed's cmd-check), so that one is taken. That line needs a command: 6.1's `cmd` macro printed
 * the trap around an empty one, 6.12's prints only `:` for it (scripts/Kbuild.include `cmd = @$(if $(cmd_$(1)),
 * …,:)`), so `C=2 CHECK=true` (KBUILD_CHECKSRC=2: force_checksrc runs the checker on every C file, here `true`,
 * never run under -n) gives it one; it changes no compile command. (`-W` cannot list them all: make does not pass
 * it to sub-makes.) One job: with several, the sub-makes' long lines interleave in the output (measured: 254 of
 * 13,431 commands cut at -j2, and one still with --output-sync=line). About a minute; callers hold the tree lock (a
 * concurrent build rewrites the `.cmd` files make reads). In the tree's build root when it has one: the Makefiles'
 * `$(shell $(CC) …)` probes must see the kernel's own compiler. `goal`: the whole build, or one directory
 * (`fs/proc/`, kbuild's build of just that directory), which only a test asks for.
 */
export async function dryRunPlan(tree: TreeInfo, goal = 'all'): Promise<KbuildPlan> {
  const [make, argv] = await toolchainCommand(tree, 'make', ['-C', tree.sourceTree, '-n', '-k', '-j1', ...kbuildVariables(tree), 'C=2', 'CHECK=true', goal]);
  const result = await execa(make, argv, {
    reject: false,
    maxBuffer: 1 << 30,
    env: { MAKEFLAGS: '' },
  });
  const { commands, upToDate } = parseDryRun(result.stdout, tree.compiler);
  for (const object of upToDate) {
    const recorded = commands[object] ? undefined : await checkedCommand(tree.sourceTree, object, tree.compiler);
    if (recorded) commands[object] = recorded;
  }
  if (goal === 'all' && Object.keys(commands).length < 100) {
    const why = result.stderr.split('\n').filter(Boolean).slice(-3).join('; ');
    throw new Error(`make -n in ${tree.sourceTree} listed ${Object.keys(commands).length} compiles (${why})`);
  }
  return { format: 1, commands };
}

/**
 * The compiles of a dry run's output: the command fixdep receives for each kernel object, and the objects of C
 * compile rules that are up to date (named by their rule's trap, with no compile). `compiler`: kbuild's CC.
 */
export function parseDryRun(output: string, compiler: string): { commands: Record<string, string>; upToDate: string[] } {
  const commands: Record<string, string> = {};
  const named = new Set<string>();
  const compiled = new Set<string>();
  for (const line of output.split('\n')) {
    const trap = /^set -e;.*?trap 'rm -f (\S+\.o); /.exec(line);
    if (trap) named.add(trap[1]!);
    const at = line.indexOf('scripts/basic/fixdep ');
    if (at < 0) continue;
    const [, , target, command] = shellWords(line.slice(at));
    if (!target?.endsWith('.o') || !command) continue;
    compiled.add(target);
    // Host programs (scripts/, tools/) are compiled with HOSTCC, kernel objects with CC.
    if (!command.startsWith(`${compiler} `)) continue;
    if (!command.includes(` -c -o ${target} `)) throw new Error(`dry run: the command for ${target} does not compile it: ${command.slice(0, 160)}`);
    commands[target] ??= command;
  }
  return { commands, upToDate: [...named].filter((o) => !compiled.has(o)).sort() };
}

/** Where hotsplice keeps what it learns about one prepared tree: beside it, in the kernel's cache directory. */
export function treeCacheDir(tree: string, name: string): string {
  return join(dirname(tree), '..', name);
}

const planDir = (tree: string) => treeCacheDir(tree, 'kbuild-plan');

/**
 * The tree's plan, made once (a dry run, about a minute, under the tree lock) and kept beside the tree:
 * `sources.json` (what graph time reads: each object's source) and `commands.json` (the narrowing's flags, ~40 MB).
 */
export async function ensureKbuildPlan(tree: TreeInfo): Promise<void> {
  const key = await planKey(tree);
  const dir = planDir(tree.sourceTree);
  if (await isDone(dir, key)) return;
  await withTreeLock(tree.sourceTree, () =>
    once(dir, key, async (dir) => {
      await restoreTree(tree.sourceTree, journalFor(tree.sourceTree));
      const plan = await dryRunPlan(tree);
      const sources = Object.fromEntries(Object.entries(plan.commands).map(([object, command]) => [object, sourceOf(command)]));
      await writeFile(join(dir, 'commands.json'), JSON.stringify(plan.commands));
      await writeFile(join(dir, 'sources.json'), JSON.stringify(sources));
    }),
  );
}

/**
 * What kbuild builds from each source: object names as kbuild gives them, which are not always the source's path
 * with `.o` (arch/x86/kvm/Makefile builds `arch/x86/kvm/../../../virt/kvm/kvm_main.o`, kernel/bpf builds
 * `relo_core.o` from tools/lib/bpf/relo_core.c). A source may go into several objects.
 */
export interface BuiltSources {
  /** The objects compiled from a tree-relative source path (empty: this config compiles nothing from it). */
  objectsOf(source: string): string[];
}

/** The plan's sources, or undefined when the plan was not made yet. */
export async function plannedSources(tree: TreeInfo): Promise<BuiltSources | undefined> {
  const dir = planDir(tree.sourceTree);
  if (!(await isDone(dir, await planKey(tree)))) return undefined;
  const bySource = new Map<string, string[]>();
  for (const [object, source] of Object.entries(JSON.parse(await readFile(join(dir, 'sources.json'), 'utf8')) as Record<string, string>)) {
    bySource.set(source, [...(bySource.get(source) ?? []), object]);
  }
  return { objectsOf: (source) => bySource.get(posix.normalize(source)) ?? [] };
}

/** The source a compile command compiles: its last word before `;` (kbuild's `-c -o $@ $<`), tree-relative. */
function sourceOf(command: string): string {
  const words = shellWords(command);
  const end = words.indexOf(';');
  return posix.normalize((end < 0 ? words : words.slice(0, end)).at(-1)!);
}

/** Every planned object's compile command. */
export async function plannedCommands(tree: TreeInfo): Promise<Record<string, string>> {
  const dir = planDir(tree.sourceTree);
  if (!(await isDone(dir, await planKey(tree)))) throw new Error(`no kbuild plan for ${tree.sourceTree} yet`);
  return JSON.parse(await readFile(join(dir, 'commands.json'), 'utf8')) as Record<string, string>;
}

/**
 * Bumped when a plan made before would list other objects (5: up-to-date objects of 6.12 trees, `C=2` above). A
 * header change's answer is keyed by it too: its candidates are the plan's objects.
 */
export const PLAN_FORMAT = 5;

/** The plan holds for one tree as prepared (its markers: version and make variables), one config and one toolchain. */
async function planKey(tree: TreeInfo): Promise<string> {
  const make = kbuildVariables({ ...tree, sourceTree: '<tree>' });
  return JSON.stringify({ format: PLAN_FORMAT, tree: await treeIdentity(tree.sourceTree), make, ...(tree.buildRoot ? { buildRoot: tree.buildRoot } : {}) });
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
