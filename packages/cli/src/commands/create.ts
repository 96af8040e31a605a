import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import fg from 'fast-glob';
import { UserError } from '@hotsplice/kernel';
import { NOT_CARRIED, type UpdateReport } from '@hotsplice/link';
import { parsePatch } from '@hotsplice/tree';
import { parseVerb, usageError } from '../verb';
import { create as CREATE } from '../verbs';

/** The exit code of a create whose package carries some changes and not others (all named in the report). */
export const PARTIAL = 4;

/** The workspace this CLI belongs to: the nearest folder upwards holding nx.json. */
export function workspaceRoot(from = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new UserError('not inside a hotsplice workspace (no nx.json found upwards)');
  }
}

/** An update id from a patch name: `CVE-2024-1234.patch` → `cve_2024_1234` (it names a kernel module). */
export function idFromName(name: string): string {
  const id = basename(name).replace(/\.(patch|diff)$/, '').toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return (/^[a-z]/.test(id) ? id : `hs_${id}`).slice(0, 40) || 'hotsplice_update';
}

/**
 * `hotsplice create`: ksplice-create on the Nx pipeline. It writes a hotpatch.json for the patch under
 * .hotsplice/create/<id>/ and runs `nx run kernel-<id>:hotpatch`, the same targets the main job runs.
 * Exit 0: package built; 4: package built, some changes not carried (named in the report: a Debian update ships
 * what it can); 3: no functional change; 1: refused or failed (one line on stderr).
 */
export async function createCommand(args: string[]): Promise<number> {
  const { values } = parseVerb(CREATE, args);
  const fuzz = values.fuzz === undefined ? undefined : Number(values.fuzz);
  if (fuzz !== undefined && !(/^\d$/.test(values.fuzz!) && fuzz <= 3)) throw new UserError(`--fuzz "${values.fuzz}": give 0 to 3 context lines`, 2);
  const patches = (values.patch ?? []).map((p) => resolve(p));
  const debianUpdate = values['debian-update'];
  if (debianUpdate !== undefined && !/^\d[\w.+~-]*$/.test(debianUpdate)) throw new UserError(`--debian-update "${debianUpdate}": give a Debian package version such as 6.1.192-3`, 2);
  if (!patches.length && !values.git && !(values.diffext && values.ext) && !debianUpdate) throw usageError(CREATE);
  const only = values.only ?? [];
  if (only.length && !debianUpdate) throw new UserError('--only selects files of a --debian-update', 2);
  for (const path of only) if (!/^[\w.+-][\w./+-]*$/.test(path) || path.includes('..')) throw new UserError(`--only "${path}": give a tree path such as fs/ext4/ or fs/ext4/mballoc.c`, 2);
  for (const patch of patches) {
    const text = await readFile(patch, 'utf8').catch(() => Promise.reject(new UserError(`cannot read patch ${patch}`)));
    parsePatch(text, patch); // bad input fails here, in one line, before Nx starts
  }
  const level = values.level === undefined ? undefined : Number(values.level);
  if (level !== undefined && !(/^[1-9]\d*$/.test(values.level!) && values.replace)) throw new UserError(`--level "${values.level}": give a whole number from 1 up, with --replace (level N takes over N-1)`, 2);
  const cves = values.cve ?? [];
  for (const cve of cves) if (!/^CVE-\d{4}-\d{4,}$/.test(cve)) throw new UserError(`--cve "${cve}": give a CVE id such as CVE-2024-1234`, 2);
  const repo = values.git ? await folder(values.repo ?? '.', '--repo') : undefined;
  const diffext = values.diffext ? await folder(values.diffext, '--diffext') : undefined;
  const id = values.id ?? idFromName(patches[0] ?? values.git ?? values.diffext ?? (debianUpdate ? `debian-${debianUpdate}` : 'update'));
  if (!/^[a-z0-9_]+$/.test(id)) throw new UserError(`--id "${id}" must be lower-case letters, digits and '_'`, 2);
  const root = workspaceRoot();
  // Not gitignored: Nx's createNodes glob skips ignored files, and this hotpatch.json must become a project.
  const dir = join(root, '.hotsplice', 'create', id);
  await refuseTakenId(root, id, join(dir, 'hotpatch.json'));
  await mkdir(dir, { recursive: true });
  const config = {
    id,
    kernel: { abi: values.abi ?? 'newest' },
    patches,
    ...(values.git ? { git: { repo, range: values.git } } : {}),
    ...(values.diffext ? { diffext: { dir: diffext, ext: values.ext } } : {}),
    ...(debianUpdate ? { debianUpdate } : {}),
    ...(only.length ? { debianFiles: only } : {}),
    ...(values.replace ? { replace: true } : {}),
    ...(fuzz ? { fuzz } : {}),
    ...(level ? { level } : {}),
    ...(cves.length ? { cves } : {}),
  };
  await writeFile(join(dir, 'hotpatch.json'), `${JSON.stringify(config, null, 2)}\n`);
  const code = await nx(root, ['run', `kernel-${id}:hotpatch`], Boolean(values.json));
  const collected = await readFile(join(root, 'dist', '.hotsplice', id, 'collect.json'), 'utf8').then(JSON.parse, () => undefined);
  const noChange = collected && !collected.markers.some((m: { status: string }) => m.status === 'changed');
  const refused = collected?.markers.some((m: { report?: { refused: unknown[] } }) => m.report?.refused.length);
  const report = code === 0 ? await readFile(join(root, 'dist', 'hotpatch', id, 'report.json'), 'utf8').then((t) => JSON.parse(t) as UpdateReport, () => undefined) : undefined;
  const notCarried = (report?.outcomes ?? []).filter((o) => NOT_CARRIED.includes(o.outcome));
  const exit = code === 0 ? (notCarried.length ? PARTIAL : 0) : noChange && !refused ? 3 : 1;
  if (notCarried.length) process.stderr.write(`hotsplice: partial update: ${notCarried.length} change(s) not carried: ${notCarried.map((o) => o.path).join(', ')}\n`);
  if (values.json) {
    const built = exit === 0 || exit === PARTIAL;
    const summary = { id, exitCode: exit, package: built ? join(root, 'dist', 'hotpatch', id, `hotsplice-${id}.tar.gz`) : null, notCarried, markers: collected?.markers ?? [] };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  }
  return exit;
}

/** `path` made absolute (hotpatch.json lives elsewhere), after checking it is a folder. */
async function folder(path: string, option: string): Promise<string> {
  const full = resolve(path);
  const isDir = await stat(full).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new UserError(`${option} ${path}: not a folder`);
  return full;
}

/**
 * Another update of the workspace with this id (the main job's hotpatch.json, or any other) would share its
 * package folder, its module and its /sys/kernel/livepatch name: refused. Re-creating `own` is fine.
 */
async function refuseTakenId(root: string, id: string, own: string): Promise<void> {
  const configs = await fg('**/hotpatch.json', { cwd: root, ignore: ['**/node_modules/**', 'dist/**', '.git/**'], dot: true, absolute: true });
  for (const file of configs.filter((f) => f !== own)) {
    const other = await readFile(file, 'utf8').then((text) => (JSON.parse(text) as { id?: unknown }).id, () => undefined);
    if (other === id) throw new UserError(`--id ${id} is taken by the update of ${relative(root, file)}; choose another id`);
  }
}

function nx(root: string, args: string[], quiet: boolean): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args], {
      cwd: root,
      // With --json, stdout carries only the JSON: Nx's own output goes to stderr.
      stdio: ['ignore', quiet ? 2 : 'inherit', 'inherit'],
    });
    child.on('close', (code) => done(code ?? 1));
  });
}
