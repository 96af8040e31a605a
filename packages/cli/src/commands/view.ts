import { type PatchState, listPatches, moduleLoaded, stateOf } from '../target/livepatch';
import { type UpdateRecord, readRecords } from '../target/records';
import { parseVerb, usageError } from '../verb';
import { status as STATUS, view as VIEW } from '../verbs';
import { moduleOf } from './undo';
import { compareDebianVersions, runningDebianVersion } from '../target/debian-version';
import { runningKernel } from '../target/running-kernel';
import { installedUpdates } from '../target/store';

/** One applied (or half-applied) update as view and status show it. */
export interface UpdateView {
  id: string;
  module: string;
  /** applied / applying / undoing / disabled from livepatch; replaced: an atomic-replace update took over. */
  state: string;
  since: string | null;
  package: string | null;
  /** The patch level, the CVEs it fixes and its effective Debian version, as its package said (null: unknown). */
  level: number | null;
  cves: string[];
  effectiveVersion: string | null;
  objects: Array<{ name: string; patched: boolean; functions: string[] }>;
}

/** What a record adds to a loaded update for scanners. */
function fixes(record: UpdateRecord | undefined): Pick<UpdateView, 'level' | 'cves' | 'effectiveVersion'> {
  return { level: record?.level ?? null, cves: record?.cves ?? [], effectiveVersion: record?.effectiveVersion ?? null };
}

/** Everything loaded: livepatch's sysfs joined with apply's records (id, time, package). */
export async function loadedUpdates(): Promise<UpdateView[]> {
  const [patches, records] = await Promise.all([listPatches(), readRecords()]);
  const views = patches.map((p) => fromPatch(p, records.get(p.module)));
  for (const record of records.values()) {
    if (patches.some((p) => p.module === record.module)) continue;
    // Unloaded behind our back: not shown. view and status only read; the record goes when that id is applied or
    // undone again (a read-only state directory must not make them fail).
    if (!moduleLoaded(record.module)) continue;
    // Atomic replace frees the replaced patches but leaves their modules loaded (kernel/livepatch/transition.c).
    views.push({
      id: record.id, module: record.module, state: 'replaced', since: record.since, package: record.package, ...fixes(record),
      objects: record.objects.map((o) => ({ name: o.objname, patched: false, functions: o.functions.map((f) => f.name) })),
    });
  }
  return views.sort((a, b) => ((a.since ?? '') < (b.since ?? '') ? -1 : (a.since ?? '') > (b.since ?? '') ? 1 : 0));
}

function fromPatch(p: PatchState, record: UpdateRecord | undefined): UpdateView {
  return {
    id: record?.id ?? p.module,
    module: p.module,
    state: stateOf(p),
    since: record?.since ?? null,
    package: record?.package ?? null,
    ...fixes(record),
    objects: p.objects.map((o) => ({ name: o.name, patched: o.patched, functions: o.functions.map((f) => (f.sympos > 1 ? `${f.name},${f.sympos}` : f.name)) })),
  };
}

/** ksplice-view: a table of the loaded updates (`--json`: the same as a list). Exit 0. */
export async function viewCommand(args: string[]): Promise<number> {
  const { values } = parseVerb(VIEW, args);
  const updates = await loadedUpdates();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(updates, null, 2)}\n`);
    return 0;
  }
  if (!updates.length) {
    process.stdout.write('no hotsplice updates loaded\n');
    return 0;
  }
  const rows = [
    ['ID', 'LEVEL', 'FUNCTIONS', 'OBJECTS', 'STATE', 'CVES', 'SINCE'],
    ...updates.map((u) => [
      u.id,
      u.level === null ? '-' : String(u.level),
      String(u.objects.reduce((n, o) => n + o.functions.length, 0)),
      u.objects.map((o) => (o.patched || u.state !== 'applied' ? o.name : `${o.name}(waiting)`)).join(','),
      u.state,
      u.cves.join(',') || '-',
      u.since ?? '-',
    ]),
  ];
  // The headline needs the running kernel's build id; the table does not, and view never fails for its sake.
  const machine = await machineStatus(updates).then(headline, () => undefined);
  process.stdout.write(`${machine ? `${machine}\n` : ''}${table(rows)}\n`);
  return 0;
}

/** One update in detail: its state, objects and every function. Exit 0 when it is loaded, 1 when not. */
export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(STATUS, args);
  if (positionals.length > 1) throw usageError(STATUS);
  if (!positionals.length) {
    const machine = await machineStatus(await loadedUpdates());
    if (values.json) process.stdout.write(`${JSON.stringify(machine, null, 2)}\n`);
    else {
      const lines = [headline(machine)];
      for (const u of machine.updates) lines.push(`  ${u.id}: ${u.state}${u.level !== null ? `, level ${u.level}` : ''}${u.cves.length ? `, fixes ${u.cves.join(' ')}` : ''}`);
      const dormant = machine.installed.filter((i) => i.abi !== machine.kernel.release);
      if (dormant.length) lines.push(`  installed for other kernels: ${dormant.map((i) => `${i.id} (${i.abi})`).join(', ')}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  }
  const module = await moduleOf(positionals[0]);
  const update = (await loadedUpdates()).find((u) => u.module === module);
  if (values.json) process.stdout.write(`${JSON.stringify(update ?? { id: positionals[0], module, state: 'not applied' }, null, 2)}\n`);
  if (!update) {
    if (!values.json) process.stdout.write(`${positionals[0]}: not applied\n`);
    return 1;
  }
  if (!values.json) {
    const lines = [`${update.id}: ${update.state}${update.since ? ` since ${update.since}` : ''}`, `  module ${update.module}${update.package ? `, from ${update.package}` : ''}`];
    if (update.level !== null) lines.push(`  patch level ${update.level}`);
    if (update.cves.length || update.effectiveVersion) lines.push(`  fixes ${update.cves.join(' ') || 'no CVE named'}${update.effectiveVersion ? `; effective Debian version ${update.effectiveVersion}` : ''}`);
    for (const o of update.objects) lines.push(`  ${o.name}: ${o.patched ? 'patched' : 'not patched (yet)'}: ${o.functions.join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

/** The machine as scanners read it (Canonical Livepatch's status, KernelCare's patch level and effective kernel). */
export interface MachineStatus {
  kernel: { release: string; buildId: string; version: string | null };
  /** The highest patch level live now (null: none). */
  level: number | null;
  /** Every CVE id the live updates fix. */
  cves: string[];
  /** The newest Debian kernel version whose every fix is live: the running kernel's own, or a live update's. */
  effectiveVersion: string | null;
  updates: UpdateView[];
  installed: Array<{ id: string; abi: string; level: number | null }>;
}

export async function machineStatus(updates: UpdateView[]): Promise<MachineStatus> {
  const running = await runningKernel();
  const version = runningDebianVersion() ?? null;
  // Only what runs counts: a replaced update's functions are no longer live (its replacer's are).
  const live = updates.filter((u) => u.state === 'applied');
  const levels = live.flatMap((u) => (u.level === null ? [] : [u.level]));
  const versions = [version, ...live.map((u) => u.effectiveVersion)].filter((v): v is string => Boolean(v));
  return {
    kernel: { release: running.release, buildId: running.buildId, version },
    level: levels.length ? Math.max(...levels) : null,
    cves: [...new Set(live.flatMap((u) => u.cves))].sort(),
    effectiveVersion: versions.sort(compareDebianVersions).at(-1) ?? null,
    updates,
    installed: (await installedUpdates()).map((e) => ({ id: e.manifest.id, abi: e.manifest.kernel.abi, level: e.manifest.level ?? null })),
  };
}

function headline(m: MachineStatus): string {
  const kernel = `kernel ${m.kernel.release}${m.kernel.version ? ` (Debian ${m.kernel.version})` : ''}`;
  const level = m.level === null ? 'no patch level' : `patch level ${m.level}`;
  return `${kernel}; ${level}; effective Debian version ${m.effectiveVersion ?? 'unknown'}; CVEs fixed live: ${m.cves.join(' ') || 'none'}`;
}
