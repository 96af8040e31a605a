import { release } from 'node:os';
import { UserError, environmentError } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';
import { moduleLoaded, readPatch } from '../target/livepatch';
import { rmmod } from '../target/module-load';
import { removeRecord } from '../target/records';
import { type RunningKernel, runningKernel } from '../target/running-kernel';
import { type Installed, installedUpdates, storeUpdate, unstoreUpdate } from '../target/store';
import { openUpdate } from '../target/update-package';
import { parseVerb, usageError } from '../verb';
import { install as INSTALL, list as LIST, uninstall as UNINSTALL } from '../verbs';
import { type ApplyOptions, type Applied, applyOptions, applyPackage, describeApplied } from './apply';
import { moduleOf, undoOptions, undoUpdate } from './undo';
import { loadedUpdates } from './view';

/**
 * `hotsplice install PKG`: verify the package as apply does, keep it under the state directory for its ABI, and
 * apply it now when the machine runs that very kernel; otherwise it waits, dormant, until that kernel boots. A
 * patch level takes the place of the ABI's earlier levels (atomic replace has taken them over: their modules go).
 * Exit 0: installed (and applied, or dormant); 1: refused (nothing stays installed); 124: the transition timed out.
 */
export async function installCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(INSTALL, args);
  if (positionals.length !== 1) throw usageError(INSTALL);
  const options = applyOptions(values);
  const path = positionals[0];
  const update = await openUpdate(path);
  const { manifest } = update;
  await update.close();
  // The build id only matters on the kernel the package is for: in an image build's chroot (no /sys) an update
  // for another kernel installs dormant without it.
  const running = manifest.kernel.abi === release() ? await runningKernel() : { release: release(), buildId: '' };
  if (fits(manifest, running) === 'other build') {
    throw new UserError(`update ${manifest.id} was built for the ${manifest.kernel.abi} kernel with build id ${manifest.kernel.vmlinuxBuildId}; this machine runs another build of it (${running.buildId}): not installed`);
  }
  const before = await installedUpdates(manifest.kernel.abi);
  const earlier = before.find((e) => e.manifest.id === manifest.id);
  const entry = await storeUpdate(path, { ...manifest });
  let applied: Applied | undefined;
  const live = fits(manifest, running) === 'running' ? await loadedUpdates() : [];
  const already = live.find((u) => u.module === manifest.module && u.state === 'applied');
  if (fits(manifest, running) === 'running' && !already) {
    applied = await applyPackage(entry.package, options, { package: entry.package }).catch(async (err: unknown) => {
      // Installed means live on this kernel: an update that cannot go live does not stay.
      if (!earlier) await unstoreUpdate(entry).catch(() => undefined);
      throw err;
    });
  }
  const superseded = manifest.level === undefined ? [] : before.filter((e) => e.manifest.id !== manifest.id && e.manifest.level !== undefined);
  const notes = await Promise.all(superseded.map((e) => retire(e, applied !== undefined)));
  const state = applied ? 'applied' : already ? 'already applied' : `dormant until ${manifest.kernel.abi} boots`;
  if (values.json) {
    const out = { id: manifest.id, abi: manifest.kernel.abi, level: manifest.level ?? null, state, package: entry.package, superseded: superseded.map((e) => e.manifest.id), notes };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const lines = [`installed ${manifest.id}${manifest.level !== undefined ? ` (level ${manifest.level})` : ''} for ${manifest.kernel.abi}: ${state}`];
    if (applied) lines.push(...describeApplied(applied).slice(1));
    lines.push(...notes.map((n) => `  ${n}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}

/** Whether a package is for the running kernel, another build of its release (never applied), or another ABI. */
function fits(manifest: Manifest, running: RunningKernel): 'running' | 'other build' | 'other kernel' {
  if (manifest.kernel.abi !== running.release) return 'other kernel';
  return manifest.kernel.vmlinuxBuildId === running.buildId ? 'running' : 'other build';
}

/**
 * An earlier level of the ABI, superseded by a new one: out of the store, and its module unloaded when the new
 * level's atomic replace took it over (livepatch frees a replaced patch but leaves its module, transition.c).
 */
async function retire(entry: Installed, replacedNow: boolean): Promise<string> {
  const { id, module, level } = entry.manifest;
  await unstoreUpdate(entry);
  if (await readPatch(module)) return `level ${level} (${id}) removed from the store; still loaded, not taken over`;
  if (moduleLoaded(module)) {
    const error = await rmmod(module);
    if (error) return `level ${level} (${id}) removed; its module ${module} stays loaded: ${error}`;
  }
  await removeRecord(module);
  return `level ${level} (${id}) ${replacedNow ? 'taken over and removed' : 'removed'}`;
}

/**
 * `hotsplice uninstall ID`: take the update out of the kernel if it is loaded (as undo does) and out of the store.
 * Exit 0: uninstalled; 1: not installed, or the undo failed (it stays installed); 124: the undo timed out.
 */
export async function uninstallCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(UNINSTALL, args);
  if (positionals.length !== 1) throw usageError(UNINSTALL);
  const id = positionals[0];
  const entries = (await installedUpdates()).filter((e) => e.manifest.id === id);
  // Not installed (any more) is no error: a package's prerm must be able to run after a hand-made uninstall.
  const module = entries[0]?.manifest.module ?? (await moduleOf(id));
  let undone = '';
  if ((await readPatch(module)) || moduleLoaded(module)) {
    const result = await undoUpdate(id, undoOptions(values));
    for (const w of result.warnings) process.stderr.write(`hotsplice: warning: ${w}\n`);
    undone = `undone in ${result.undoMs} ms${result.unloaded ? ', module unloaded' : ''}`;
  }
  for (const entry of entries) await unstoreUpdate(entry);
  if (!entries.length && !undone) {
    if (values.json) process.stdout.write(`${JSON.stringify({ id, state: 'not installed', abis: [], undone: false }, null, 2)}\n`);
    else process.stdout.write(`${id} is not installed; nothing to do\n`);
    return 0;
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ id, state: 'uninstalled', abis: entries.map((e) => e.manifest.kernel.abi), undone: Boolean(undone) }, null, 2)}\n`);
  else process.stdout.write(`uninstalled ${id}${undone ? `: ${undone}` : ' (it was not loaded)'}\n`);
  return 0;
}

/** One installed update as `list` shows it. */
export interface ListedUpdate {
  id: string;
  abi: string;
  level: number | null;
  cves: string[];
  installed: string;
  /** applied/applying/undoing/replaced while loaded; "not loaded" on the running kernel; "dormant" for another kernel. */
  state: string;
}

/** `hotsplice list`: installed updates per ABI beside what is loaded now. Exit 0. */
export async function listCommand(args: string[]): Promise<number> {
  const { values } = parseVerb(LIST, args);
  const running = await runningKernel();
  const loaded = await loadedUpdates();
  const listed: ListedUpdate[] = (await installedUpdates()).map((e) => ({
    id: e.manifest.id,
    abi: e.manifest.kernel.abi,
    level: e.manifest.level ?? null,
    cves: e.manifest.cves ?? [],
    installed: e.installed,
    state: fits(e.manifest, running) === 'running' ? (loaded.find((u) => u.module === e.manifest.module)?.state ?? 'not loaded') : fits(e.manifest, running) === 'other build' ? 'other build' : 'dormant',
  }));
  const byHand = loaded.filter((u) => !listed.some((l) => l.id === u.id)).map((u) => ({ id: u.id, state: u.state }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ running: running.release, installed: listed, loadedNotInstalled: byHand }, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  for (const abi of [...new Set(listed.map((l) => l.abi))].sort()) {
    lines.push(`${abi}${abi === running.release ? ' (running)' : ''}:`);
    for (const l of listed.filter((x) => x.abi === abi)) {
      lines.push(`  ${l.id}${l.level !== null ? `  level ${l.level}` : ''}  ${l.state}  installed ${l.installed}${l.cves.length ? `  ${l.cves.join(' ')}` : ''}`);
    }
  }
  if (!listed.length) lines.push('no updates installed');
  for (const u of byHand) lines.push(`loaded, not installed: ${u.id} (${u.state})`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/**
 * `hotsplice apply --installed` (hotsplice.service at boot): every installed update of the running release and
 * build id, in install order (a patch level replaces its ABI's earlier levels in the store, so levels come in
 * order); those installed before the last atomic-replace update are skipped, it takes them over anyway. Each
 * refusal is one line and the rest go on. Exit 0: all live; 1: one or more could not be applied.
 */
export async function applyInstalled(options: ApplyOptions, json: boolean): Promise<number> {
  const running = await runningKernel();
  const entries = await installedUpdates(running.release);
  const lastReplace = entries.map((e) => e.manifest.replace).lastIndexOf(true);
  const loaded = await loadedUpdates();
  const results: Array<{ id: string; level: number | null; result: string; exitCode: number }> = [];
  const say = (entry: Installed, result: string, exitCode = 0) => {
    results.push({ id: entry.manifest.id, level: entry.manifest.level ?? null, result, exitCode });
    if (!json) (exitCode ? process.stderr : process.stdout).write(`hotsplice: ${entry.manifest.id}: ${result}\n`);
  };
  for (const [i, entry] of entries.entries()) {
    const { manifest } = entry;
    if (fits(manifest, running) === 'other build') {
      say(entry, `not applied: built for build id ${manifest.kernel.vmlinuxBuildId}, the running ${running.release} kernel is ${running.buildId}`);
    } else if (i < lastReplace) {
      say(entry, `not applied: ${entries[lastReplace].manifest.id} (atomic replace, installed later) takes it over`);
    } else if (loaded.some((u) => u.module === manifest.module && u.state === 'applied')) {
      say(entry, 'already applied');
    } else {
      await applyPackage(entry.package, options, { package: entry.package }).then(
        (applied) => say(entry, describeApplied(applied)[0]),
        (err: unknown) => {
          const known = err instanceof UserError ? err : environmentError(err);
          // One line for the journal: the kernel's own lines stay in its log.
          const line = (known?.message ?? (err instanceof Error ? err.message : String(err))).split('\n')[0];
          say(entry, `refused: ${line}`, known?.exitCode ?? 70);
        },
      );
    }
  }
  if (!entries.length && !json) process.stdout.write(`hotsplice: no updates installed for ${running.release}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ running: running.release, buildId: running.buildId, results }, null, 2)}\n`);
  return results.some((r) => r.exitCode) ? 1 : 0;
}
