// An apt repository of update packages: a flat folder (`deb URI ./`) with the .debs, Packages(.gz) and Release from
// apt-ftparchive, and with a key the user names, InRelease / Release.gpg and the public key for clients' signed-by.
// Any web server serves it as files (the cache server's nginx, or `file:` on the machine itself).
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError, run } from '@hotsplice/kernel';

export interface RepoOptions {
  /** Every candidate .deb (the workspace's dist/hotpatch/**). */
  debs: string[];
  out: string;
  /** A gpg key id or user id to sign Release with (GNUPGHOME applies); unsigned when absent. */
  signKey?: string;
}

export interface RepoResult {
  out: string;
  packages: Array<{ name: string; version: string; file: string }>;
  signed: boolean;
  /** Lines about choices made (an older hotsplice-tools build left out). */
  notes: string[];
}

/** The tools package is rebuilt beside every update: one name and version may come in several builds. */
const TOOLS = 'hotsplice-tools';

/** The repository at `out` from the given packages, made anew each time (stale .debs go). */
export async function writeAptRepo(options: RepoOptions): Promise<RepoResult> {
  const chosen = new Map<string, { name: string; version: string; file: string; sha: string; mtime: number }>();
  const notes: string[] = [];
  for (const file of options.debs) {
    const [name, version] = (await run('dpkg-deb', ['-f', file, 'Package', 'Version'])).split('\n').map((l) => l.replace(/^\w+: /, '').trim());
    const sha = createHash('sha256').update(await readFile(file)).digest('hex');
    const mtime = (await stat(file)).mtimeMs;
    const key = `${name}_${version}`;
    const seen = chosen.get(key);
    if (!seen || seen.sha === sha) {
      if (!seen) chosen.set(key, { name, version, file, sha, mtime });
      continue;
    }
    // Two different packages with one name and version: apt would take either. For an update that is a wrong
    // package on some machines; for the tools, the newest build of that version is the one to serve.
    if (name !== TOOLS) throw new UserError(`${seen.file} and ${file} are both ${name} ${version} with different contents; give one of them another level or id`);
    const newer = mtime > seen.mtime ? { name, version, file, sha, mtime } : seen;
    notes.push(`${name} ${version}: serving ${newer.file}, the newest of its builds`);
    chosen.set(key, newer);
  }
  await mkdir(options.out, { recursive: true });
  for (const old of await readdir(options.out)) {
    if (old.endsWith('.deb') || ['Packages', 'Packages.gz', 'Release', 'InRelease', 'Release.gpg', 'hotsplice-archive-keyring.gpg'].includes(old)) await rm(join(options.out, old));
  }
  const packages = [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1));
  for (const p of packages) await copyFile(p.file, join(options.out, basename(p.file)));
  const index = await run('apt-ftparchive', ['packages', '.'], { cwd: options.out });
  await writeFile(join(options.out, 'Packages'), index);
  await writeFile(join(options.out, 'Packages.gz'), gzipSync(index, { level: 9 }));
  const fields = { Origin: 'hotsplice', Label: 'hotsplice', Suite: 'hotsplice', Codename: 'hotsplice', Description: 'hotsplice live kernel updates' };
  const release = await run('apt-ftparchive', [...Object.entries(fields).flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${v}`]), 'release', '.'], { cwd: options.out });
  await writeFile(join(options.out, 'Release.partial'), release);
  await rename(join(options.out, 'Release.partial'), join(options.out, 'Release'));
  if (options.signKey) await sign(options.out, options.signKey);
  return { out: options.out, packages: packages.map(({ name, version, file }) => ({ name, version, file })), signed: Boolean(options.signKey), notes };
}

/** InRelease (clear-signed) and Release.gpg (detached) with the user's key, and its public half for signed-by. */
async function sign(out: string, key: string): Promise<void> {
  const gpg = (args: string[]) =>
    run('gpg', ['--batch', '--yes', '--local-user', key, '--digest-algo', 'SHA512', ...args], { cwd: out }).catch((err: unknown) => {
      throw new UserError(`cannot sign the repository with key ${key}: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err)}`);
    });
  await gpg(['--clearsign', '--output', 'InRelease', 'Release']);
  await gpg(['--armor', '--detach-sign', '--output', 'Release.gpg', 'Release']);
  const keyring = join(out, 'hotsplice-archive-keyring.gpg');
  await run('gpg', ['--batch', '--yes', '--output', keyring, '--export', key]);
  if (!(await stat(keyring).then((st) => st.size, () => 0))) throw new UserError(`gpg has no public key ${key} to export`);
}
