// One file of a given Debian linux-source-6.1 version, for fixtures built from Debian's own fixes: the package is
// fetched by name with `apt-get download` at test time (nothing downloaded lives in git), and each extracted file is
// cached under the hotsplice cache, keyed by version.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot } from '@hotsplice/kernel';

const PACKAGE = 'linux-source-6.1';
/** The inner tarball of the source package (Debian's linux-source-<ver> layout). */
const INNER = `./usr/src/${PACKAGE}.tar.xz`;

function debOf(version: string): string {
  const dir = join(cacheRoot(), 'src-files', 'debs');
  const deb = join(dir, `${PACKAGE}_${version}_all.deb`);
  if (existsSync(deb)) return deb;
  mkdirSync(dir, { recursive: true });
  // apt-get writes into its working directory: a private one keeps a half-downloaded file out of the cache.
  const tmp = mkdtempSync(join(dir, '.download-'));
  try {
    execFileSync('apt-get', ['download', '-q', `${PACKAGE}=${version}`], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
    const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!got) throw new Error(`apt-get download ${PACKAGE}=${version} left no .deb`);
    renameSync(join(tmp, got), deb);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return deb;
}

/** The text of `path` (relative to the tree, e.g. fs/nfsd/nfs4state.c) in Debian's linux-source-6.1 `version`. */
export function debianSourceFile(version: string, path: string): string {
  const cached = join(cacheRoot(), 'src-files', version, path);
  if (existsSync(cached)) return readFileSync(cached, 'utf8');
  const deb = debOf(version);
  const text = execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | tar -xJO "$3"', 'sh', deb, INNER, `${PACKAGE}/${path}`], {
    maxBuffer: 64 << 20,
    encoding: 'utf8',
  });
  if (!text) throw new Error(`${PACKAGE} ${version} has no ${path}`);
  mkdirSync(dirname(cached), { recursive: true });
  writeFileSync(`${cached}.tmp`, text);
  renameSync(`${cached}.tmp`, cached);
  return text;
}

/** `diff -u` of two versions of one tree file, as a -p1 patch (a/<path>, b/<path>). */
export function unifiedDiff(path: string, from: string, to: string): string {
  const dir = mkdtempSync(join(cacheRoot(), 'src-files', '.diff-'));
  try {
    writeFileSync(join(dir, 'from'), from);
    writeFileSync(join(dir, 'to'), to);
    try {
      execFileSync('diff', ['-u', '--label', `a/${path}`, '--label', `b/${path}`, 'from', 'to'], { cwd: dir, encoding: 'utf8' });
      return '';
    } catch (e) {
      const err = e as { status?: number; stdout?: string };
      if (err.status === 1 && err.stdout) return err.stdout;
      throw e;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
