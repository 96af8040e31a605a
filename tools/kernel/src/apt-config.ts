import { readFileSync } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from './errors';
import { run } from './exec';
import type { DebianRelease } from './release';

/**
 * How apt is asked about one release's kernels. The machine's own release uses the machine's apt as it is; another
 * release gets a private configuration in the cache (design.md §10): its own sources list, package lists and
 * package cache, passed as `-o` options, so nothing under /etc/apt or /var/lib/apt changes. Its sources use the
 * mirrors the machine's own sources name, signed by Debian's archive keyring.
 */
export type AptConfig = { kind: 'host' } | { kind: 'private'; suite: string; dir: string; sourcesList: string };

/** Debian's archive keyring (package debian-archive-keyring), which signs every release's Release files. */
export const ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The machine's Debian code name (/etc/os-release VERSION_CODENAME). */
export function hostSuite(osRelease = '/etc/os-release'): string {
  try {
    const codename = /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(readFileSync(osRelease, 'utf8'))?.[2];
    if (codename) return codename;
  } catch {
    // no os-release
  }
  throw new UserError(`${osRelease} names no Debian release (VERSION_CODENAME); hotsplice needs a Debian machine`);
}

export function aptConfigFor(release: DebianRelease, cache: string, host = hostSuite()): AptConfig {
  if (release.suite === host) return { kind: 'host' };
  const dir = join(cache, 'apt', release.suite);
  return { kind: 'private', suite: release.suite, dir, sourcesList: join(dir, 'sources.list') };
}

/** The `-o` options that point apt-get / apt-cache at a private configuration (none for the host's). */
export function aptOptions(config: AptConfig): string[] {
  if (config.kind === 'host') return [];
  return [
    ['Dir::Etc::SourceList', config.sourcesList],
    ['Dir::Etc::SourceParts', '/dev/null'],
    ['Dir::State::Lists', join(config.dir, 'lists')],
    // apt-get update rebuilds the binary package cache: it must not replace the machine's.
    ['Dir::Cache', join(config.dir, 'cache')],
  ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
}

/** The archive and security mirrors of `apt-cache policy` output: the URIs serving `<suite>` and `<suite>-security`. */
export function parseMirrors(policy: string, suite: string): { archive: string; security?: string } {
  const uris = new Map<string, string>();
  for (const m of policy.matchAll(/^\s*-?\d+\s+(\S+:\/\/\S+)\s+([a-z-]+)\/\S+\s+\S+\s+Packages$/gm)) uris.set(m[2]!, m[1]!);
  const archive = uris.get(suite);
  if (!archive) throw new UserError(`apt's sources name no mirror for ${suite}; cannot reach other Debian releases`);
  return { archive, security: uris.get(`${suite}-security`) };
}

/** The private sources list of `release`, on the machine's own mirrors. */
export function privateSources(release: DebianRelease, mirrors: { archive: string; security?: string }): string {
  return release.aptSuites
    .map((suite) => {
      const uri = suite.endsWith('-security') ? mirrors.security : mirrors.archive;
      return uri ? `deb [signed-by=${ARCHIVE_KEYRING}] ${uri} ${suite} main\n` : '';
    })
    .join('');
}

/** Lists older than this are fetched again (security uploads land daily); `refresh` forces it. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Make a release's package lists available: the host's as they are (resolveKernel runs `apt-get update` on a fresh
 * machine's empty lists), a private configuration's fetched when missing, older than a day, or `refresh`. Returns the
 * lists' modification time, which keys cached resolutions.
 */
export async function ensureLists(config: AptConfig, release: DebianRelease, refresh = false): Promise<number> {
  if (config.kind === 'host') return stat('/var/lib/apt/lists').then((s) => s.mtimeMs, () => 0);
  const updated = await stat(join(config.dir, 'updated')).then((s) => s.mtimeMs, () => 0);
  if (refresh || !updated || Date.now() - updated > LISTS_MAX_AGE_MS) {
    if (process.getuid?.() !== 0) throw new UserError(`the ${release.suite} package lists must be fetched as root (apt-get update)`);
    await mkdir(join(config.dir, 'lists', 'partial'), { recursive: true });
    await mkdir(join(config.dir, 'cache', 'archives', 'partial'), { recursive: true });
    const host = await run('apt-cache', ['policy']);
    await writeFile(`${config.sourcesList}.tmp`, privateSources(release, parseMirrors(host, hostSuite())));
    await rename(`${config.sourcesList}.tmp`, config.sourcesList);
    await run('apt-get', [...aptOptions(config), 'update', '-qq']);
    await writeFile(join(config.dir, 'updated'), `${new Date().toISOString()}\n`);
  }
  return stat(join(config.dir, 'updated')).then((s) => s.mtimeMs);
}

/** The one-line sources of `release` on this machine's own mirrors, as mmdebstrap takes them (build roots, the guest's rootfs). */
export async function releaseSources(release: DebianRelease): Promise<string[]> {
  return privateSources(release, parseMirrors(await run('apt-cache', ['policy']), hostSuite())).trim().split('\n');
}
