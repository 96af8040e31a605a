// Debian packages of updates, built with dpkg-deb: one per (update, ABI), and hotsplice-tools (the target CLI and
// the boot unit) that every update package depends on. Same inputs, same bytes: every file and the ar members get
// one fixed time (SOURCE_DATE_EPOCH, else 0), owner root, sorted names.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError, run } from '@hotsplice/kernel';
import type { Manifest } from './package';

export interface DebFile {
  /** Absolute path on the target, e.g. /usr/lib/hotsplice/… */
  path: string;
  data: Buffer;
  mode?: number;
}

export interface DebPackage {
  name: string;
  version: string;
  architecture: 'amd64' | 'all';
  section: string;
  depends: string[];
  /** The synopsis, then the long description's lines. */
  description: [string, ...string[]];
  files: DebFile[];
  /** Maintainer scripts (shell text); each runs with `set -e`. */
  scripts: Partial<Record<'postinst' | 'prerm' | 'postrm', string>>;
}

/** Where update packages put the update on the target (dpkg owns it; `hotsplice install` copies it into its store). */
export const TARGET_LIB = '/usr/lib/hotsplice';

/** A Debian package name part from anything: lower case, `_` to `-`. */
function debName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9+.-]+/g, '-');
}

/**
 * The package of an update for its ABI. A patch level is the ABI's one package `hotsplice-patch-<abi>` whose version
 * is the level, so apt upgrades level N-1 to N (the new level's postinst installs it: atomic replace takes the old
 * level over, and the old level's files go with the old version). A standalone update is `hotsplice-update-<id>-<abi>`,
 * version 1. Either depends on the exact kernel image it was built for and on the tools.
 */
export function updateDeb(manifest: Manifest, tarball: Buffer, toolsVersion: string): DebPackage {
  const { abi, version } = manifest.kernel;
  const leveled = manifest.level !== undefined;
  const name = leveled ? `hotsplice-patch-${debName(abi)}` : `hotsplice-update-${debName(manifest.id)}-${debName(abi)}`;
  const file = `${TARGET_LIB}/${abi}/hotsplice-${manifest.id}.tar.gz`;
  const functions = manifest.objects.flatMap((o) => o.functions.map((f) => `${o.objname}:${f.name}`));
  const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  return {
    name,
    version: leveled ? String(manifest.level) : '1',
    architecture: 'amd64',
    section: 'kernel',
    depends: [`hotsplice-tools (>= ${toolsVersion})`, `linux-image-${abi} (= ${version}) | linux-image-${abi}-unsigned (= ${version})`],
    description: [
      leveled ? `live kernel patch level ${manifest.level} for Linux ${abi}` : `live kernel update ${manifest.id} for Linux ${abi}`,
      `This package holds the hotsplice update ${manifest.id}, built for the Debian kernel ${abi}`,
      `(version ${version}). Installing it applies the update to the running kernel when the`,
      'machine runs that kernel, and hotsplice.service applies it again at every boot of it.',
      ...(leveled ? [`Patch level ${manifest.level} holds every fix of the levels before it and takes them over.`] : []),
      `Fixes: ${manifest.cves?.length ? manifest.cves.join(' ') : 'no CVE named'}.`,
      `Effective Debian kernel version: ${manifest.effectiveVersion ?? version}.`,
      `Replaced functions: ${functions.join(' ') || 'none (callbacks only)'}.`,
    ],
    files: [{ path: file, data: tarball }],
    scripts: {
      // configure: keep it and apply it (hotsplice install); a refusal fails the configure, nothing stays live.
      postinst: `if [ "$1" = configure ]; then\n  hotsplice install ${q(file)}\nfi\n`,
      // remove: out of the kernel and the store. An upgrade keeps it live: the new version's postinst takes over.
      prerm: `case "$1" in\n  remove|deconfigure)\n    hotsplice uninstall ${q(manifest.id)}\n    ;;\nesac\n`,
    },
  };
}

/** hotsplice-tools: the target CLI (Node, no node_modules), its command, the boot unit. */
export function toolsDeb(cli: Buffer, unit: string, version: string, manPage?: Buffer): DebPackage {
  return {
    name: 'hotsplice-tools',
    version,
    architecture: 'all',
    section: 'admin',
    // deb-systemd-helper comes with init-system-helpers, an essential package.
    depends: ['nodejs (>= 18)', 'kmod'],
    description: [
      'apply hotsplice live kernel updates and keep them across reboots',
      'The hotsplice command (install, uninstall, list, apply, undo, view, status, verify)',
      'loads live updates of the running Debian kernel through livepatch, keeps installed ones',
      'under /var/lib/hotsplice and, through hotsplice.service, applies them again at boot',
      'before the network and ordinary services start.',
    ],
    files: [
      { path: `${TARGET_LIB}/hotsplice.cjs`, data: cli, mode: 0o755 },
      { path: '/usr/sbin/hotsplice', data: Buffer.from(`#!/bin/sh\nexec node ${TARGET_LIB}/hotsplice.cjs "$@"\n`), mode: 0o755 },
      { path: '/lib/systemd/system/hotsplice.service', data: Buffer.from(unit) },
      ...(manPage ? [{ path: '/usr/share/man/man8/hotsplice.8.gz', data: gzipSync(manPage, { level: 9 }) }] : []),
    ],
    scripts: {
      // Enabled at install unless the admin disabled it before (deb-systemd-helper keeps that state).
      postinst: [
        'if [ "$1" = configure ] || [ "$1" = abort-upgrade ]; then',
        '  deb-systemd-helper unmask hotsplice.service >/dev/null || true',
        '  if deb-systemd-helper --quiet was-enabled hotsplice.service; then',
        '    deb-systemd-helper enable hotsplice.service >/dev/null || true',
        '  else',
        '    deb-systemd-helper update-state hotsplice.service >/dev/null || true',
        '  fi',
        'fi',
        '',
      ].join('\n'),
      postrm: [
        'if [ "$1" = remove ] && command -v deb-systemd-helper >/dev/null; then',
        '  deb-systemd-helper mask hotsplice.service >/dev/null || true',
        'fi',
        'if [ "$1" = purge ] && command -v deb-systemd-helper >/dev/null; then',
        '  deb-systemd-helper purge hotsplice.service >/dev/null || true',
        '  deb-systemd-helper unmask hotsplice.service >/dev/null || true',
        'fi',
        '',
      ].join('\n'),
    },
  };
}

/** The maintainer's name and address: Debian's DEBFULLNAME / DEBEMAIL, as dch takes them. */
export function maintainer(env = process.env): string {
  return `${env.DEBFULLNAME ?? 'hotsplice'} <${env.DEBEMAIL ?? 'hotsplice@example.org'}>`;
}

/** 2024-01-01: lintian calls files from before 1975 ancient (dpkg-deb would store 0 as 1970). */
const DEFAULT_EPOCH = 1_704_067_200;

/** The fixed time of every file and of the changelog entry (reproducible builds' SOURCE_DATE_EPOCH). */
function epoch(env = process.env): number {
  const n = Number(env.SOURCE_DATE_EPOCH);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_EPOCH;
}

/** `<outDir>/<name>_<version>_<arch>.deb`, built by dpkg-deb from a private folder. */
export async function buildDeb(pkg: DebPackage, outDir: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'hotsplice-deb-'));
  try {
    const when = epoch();
    const doc = `/usr/share/doc/${pkg.name}`;
    const files: DebFile[] = [
      ...pkg.files,
      { path: `${doc}/copyright`, data: Buffer.from(COPYRIGHT) },
      // A native package's changelog (its version has no Debian revision).
      { path: `${doc}/changelog.gz`, data: gzipSync(changelog(pkg, when), { level: 9 }) },
    ];
    for (const f of files) {
      const full = join(root, f.path);
      await mkdir(dirname(full), { recursive: true, mode: 0o755 });
      await writeFile(full, f.data, { mode: f.mode ?? 0o644 });
      await chmod(full, f.mode ?? 0o644); // not the umask's
    }
    const control = join(root, 'DEBIAN');
    await mkdir(control, { mode: 0o755 });
    const md5sums = files.map((f) => `${createHash('md5').update(f.data).digest('hex')}  ${f.path.slice(1)}`).sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1));
    await writeFile(join(control, 'md5sums'), `${md5sums.join('\n')}\n`, { mode: 0o644 });
    const installedKb = Math.ceil(files.reduce((n, f) => n + f.data.length, 0) / 1024);
    await writeFile(join(control, 'control'), controlText(pkg, installedKb), { mode: 0o644 });
    for (const [name, body] of Object.entries(pkg.scripts)) {
      await writeFile(join(control, name), `#!/bin/sh\nset -e\n\n${body}`, { mode: 0o755 });
      await chmod(join(control, name), 0o755);
    }
    await stampTimes(root, files.map((f) => f.path), when);
    await mkdir(outDir, { recursive: true });
    const out = join(outDir, `${pkg.name}_${pkg.version}_${pkg.architecture}.deb`);
    const partial = `${out}.partial-${process.pid}`;
    await run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, partial], { env: { ...process.env, SOURCE_DATE_EPOCH: String(when) } }).catch((err: unknown) => {
      throw new UserError(`dpkg-deb could not build ${pkg.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    });
    await rename(partial, out);
    return out;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function controlText(pkg: DebPackage, installedKb: number): string {
  const [synopsis, ...long] = pkg.description;
  return [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    `Architecture: ${pkg.architecture}`,
    `Maintainer: ${maintainer()}`,
    `Installed-Size: ${installedKb}`,
    `Depends: ${pkg.depends.join(', ')}`,
    `Section: ${pkg.section}`,
    'Priority: optional',
    `Description: ${synopsis}`,
    ...wrap(long.join(' '), 79).map((line) => ` ${line}`),
    '',
  ].join('\n');
}

/** Words in lines of at most `width` characters (Debian policy: long description lines under 80). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

function changelog(pkg: DebPackage, when: number): string {
  const date = new Date(when * 1000).toUTCString().replace(/GMT$/, '+0000');
  return `${pkg.name} (${pkg.version}) unstable; urgency=medium\n\n  * ${pkg.description[0]}.\n\n -- ${maintainer()}  ${date}\n`;
}

/** Every file and folder of the package tree at one time. */
async function stampTimes(root: string, paths: string[], when: number): Promise<void> {
  const all = new Set<string>();
  for (const p of paths) for (let d = p; d !== '/'; d = dirname(d)) all.add(d);
  for (const p of [...all, '/DEBIAN']) await utimes(join(root, p), when, when);
  await utimes(root, when, when);
}

const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: hotsplice
Comment: Built by hotsplice. Kernel code in an update comes from Linux, and the
 livepatch module built from it is licensed like the kernel.

Files: *
Copyright: 1991-2026 Linus Torvalds and the Linux kernel authors
           2026 the hotsplice authors
License: GPL-2
 On Debian systems, the complete text of the GNU General Public License
 version 2 can be found in /usr/share/common-licenses/GPL-2.
`;
