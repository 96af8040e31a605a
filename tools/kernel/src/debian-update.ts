import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { aptFor, packagesFor, parseMadison } from './apt';
import { aptOptions } from './apt-config';
import { RECIPE, once } from './cache';
import { type ChangelogItem, changelogBetween } from './debian-changelog';
import { UserError } from './errors';
import { run } from './exec';
import { download, type KernelPaths, unpackSource } from './prepare';
import { PhaseTimer, log } from './report';
import { type ChangedFile, changedPaths, classifyChange } from './source-delta';

/** What a Debian kernel update changes relative to the version an ABI was built from. */
export interface DebianDelta {
  /** The running kernel's source version (the ABI's) and the update's. */
  from: string;
  to: string;
  files: Array<ChangedFile & { patch?: string }>;
  /** debian/changelog items of the versions after `from` up to `to`. */
  changelog: ChangelogItem[];
}

const DELTA = 'delta.json';

/** Where the delta between two source versions is kept (patches/ holds one unified diff per source file). */
export function deltaDir(root: string, from: string, to: string): string {
  return join(root, 'updates', `${from}_${to}`);
}

/** The delta a previous `fetchDebianUpdate` left, without apt or unpacking (graph time); undefined if none. */
export function cachedDebianUpdate(root: string, from: string, to: string): DebianDelta | undefined {
  const dir = deltaDir(root, from, to);
  // The marker is written last (cache.ts once): a delta without it is an interrupted fetch.
  if (!existsSync(join(dir, '.hotsplice-done'))) return undefined;
  try {
    return JSON.parse(readFileSync(join(dir, DELTA), 'utf8')) as DebianDelta;
  } catch {
    return undefined;
  }
}

/** The unified diff of one source file of the delta, as `cachedDebianUpdate` lists it. */
export function deltaPatch(root: string, delta: DebianDelta, file: { patch?: string }): string {
  if (!file.patch) throw new Error('no patch for this file');
  return readFileSync(join(deltaDir(root, delta.from, delta.to), file.patch), 'utf8');
}

/**
 * Debian's update `to` for a kernel built from `kernel.version`: both linux-source-<series> packages fetched with apt and
 * unpacked once per version (cache/source/<version>), every file that differs classified, one unified diff per
 * C source or header, and the changelog items in between. Cached per version pair.
 */
export async function fetchDebianUpdate(root: string, kernel: Pick<KernelPaths, 'version' | 'abi'>, to: string, quiet = false): Promise<DebianDelta> {
  const from = kernel.version;
  const cached = cachedDebianUpdate(root, from, to);
  if (cached) return cached;
  const SOURCE = packagesFor(kernel.abi, from).source;
  const offered = parseMadison(await run('apt-cache', [...aptOptions(aptFor(kernel, root)), 'madison', SOURCE]), SOURCE);
  if (!offered.includes(to)) throw new UserError(`Debian update ${to}: apt offers ${SOURCE} ${offered.join(', ') || 'in no version'}`);
  if (!(await newer(to, from))) throw new UserError(`Debian update ${to} is not newer than ${from}, the version of ${kernel.abi}`);
  const timer = new PhaseTimer();
  const say = (message: string) => quiet || log(message);
  const trees: Record<string, string> = {};
  for (const version of [from, to]) {
    const debs = await timer.run(`download ${version}`, () => download(root, packagesFor(kernel.abi, version), say, quiet, [SOURCE]));
    const dir = join(root, 'source', version);
    await timer.run(`unpack ${version}`, () => once(dir, JSON.stringify({ version, recipe: RECIPE }), (d) => unpackSource(debs[SOURCE]!, d, quiet)));
    trees[version] = join(dir, SOURCE);
  }
  const delta = await timer.run('compare', async () => {
    const changes = (await changedPaths(trees[from]!, trees[to]!)).map((c) => classifyChange(c.path, c.before, c.after));
    const changelog = changelogBetween(await readChangelog(join(root, 'debs'), SOURCE, to), from, to);
    return { from, to, files: changes, changelog } as DebianDelta;
  });
  await once(deltaDir(root, from, to), JSON.stringify({ from, to, recipe: RECIPE }), async (dir) => {
    await mkdir(join(dir, 'patches'));
    let n = 0;
    for (const file of delta.files) {
      if (file.kind !== 'source') continue;
      file.patch = join('patches', `${String(++n).padStart(4, '0')}.patch`);
      await writeFile(join(dir, file.patch), await unifiedDiff(trees[from]!, trees[to]!, file));
    }
    await writeFile(join(dir, DELTA), `${JSON.stringify(delta, null, 1)}\n`);
  });
  if (!quiet) log(timer.summary(`hotsplice debian update ${from} -> ${to}`));
  return delta;
}

/** `dpkg --compare-versions A gt B`. */
async function newer(a: string, b: string): Promise<boolean> {
  return promisify(execFile)('dpkg', ['--compare-versions', a, 'gt', b]).then(
    () => true,
    () => false,
  );
}

/** The changelog the update's own linux-source package ships. */
async function readChangelog(debs: string, SOURCE: string, version: string): Promise<string> {
  const deb = join(debs, `${SOURCE}_${version}_all.deb`);
  const member = `./usr/share/doc/${SOURCE}/changelog.Debian.gz`;
  const { stdout } = await promisify(execFile)('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xO "$2"`, 'sh', deb, member], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return gunzipSync(stdout).toString('utf8');
}

/** `diff -u` of one file between the trees, labelled a/<path> b/<path> (/dev/null for a new file). */
async function unifiedDiff(before: string, after: string, file: ChangedFile): Promise<string> {
  const [from, label] = file.created ? ['/dev/null', '/dev/null'] : [join(before, file.path), `a/${file.path}`];
  return promisify(execFile)('diff', ['-u', '--label', label, '--label', `b/${file.path}`, from, join(after, file.path)], { maxBuffer: 64 << 20 }).then(
    () => '',
    (err: { code?: number; stdout?: string }) => {
      if (err.code === 1 && err.stdout) return err.stdout;
      throw new Error(`diff of ${file.path} failed`);
    },
  );
}
