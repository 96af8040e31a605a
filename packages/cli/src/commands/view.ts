import { type PatchState, listPatches, moduleLoaded, stateOf } from '../target/livepatch';
import { type UpdateRecord, readRecords } from '../target/records';
import { parseVerb, usageError } from '../verb';
import { status as STATUS, view as VIEW } from '../verbs';
import { moduleOf } from './undo';

/** One applied (or half-applied) update as view and status show it. */
export interface UpdateView {
  id: string;
  module: string;
  /** applied / applying / undoing / disabled from livepatch; replaced: an atomic-replace update took over. */
  state: string;
  since: string | null;
  package: string | null;
  objects: Array<{ name: string; patched: boolean; functions: string[] }>;
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
      id: record.id, module: record.module, state: 'replaced', since: record.since, package: record.package,
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
    ['ID', 'FUNCTIONS', 'OBJECTS', 'STATE', 'SINCE'],
    ...updates.map((u) => [
      u.id,
      String(u.objects.reduce((n, o) => n + o.functions.length, 0)),
      u.objects.map((o) => (o.patched || u.state !== 'applied' ? o.name : `${o.name}(waiting)`)).join(','),
      u.state,
      u.since ?? '-',
    ]),
  ];
  process.stdout.write(`${table(rows)}\n`);
  return 0;
}

/** One update in detail: its state, objects and every function. Exit 0 when it is loaded, 1 when not. */
export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(STATUS, args);
  if (positionals.length !== 1) throw usageError(STATUS);
  const module = await moduleOf(positionals[0]);
  const update = (await loadedUpdates()).find((u) => u.module === module);
  if (values.json) process.stdout.write(`${JSON.stringify(update ?? { id: positionals[0], module, state: 'not applied' }, null, 2)}\n`);
  if (!update) {
    if (!values.json) process.stdout.write(`${positionals[0]}: not applied\n`);
    return 1;
  }
  if (!values.json) {
    const lines = [`${update.id}: ${update.state}${update.since ? ` since ${update.since}` : ''}`, `  module ${update.module}${update.package ? `, from ${update.package}` : ''}`];
    for (const o of update.objects) lines.push(`  ${o.name}: ${o.patched ? 'patched' : 'not patched (yet)'}: ${o.functions.join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}
