// A real Debian userland for the guest: a rootfs image made with mmdebstrap (systemd, apt, kmod, Debian's nodejs,
// and the very kernel image package the updates are built for, whose postinst makes the initramfs with
// initramfs-tools), booted under QEMU from a virtio disk. Made once per recipe and kernel, kept in the cache.
import { createHash } from 'node:crypto';
import { copyFile, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { type KernelPaths, UserError, cacheRoot, once, releaseSources, requireAbi, run } from '@hotsplice/kernel';
import { ensureSystem } from '../../setup/src';
import { REPO_ROOT } from './bundle';
import { type ConsoleReport, parseConsole } from './console';
import { boot } from './qemu';

/** Files copied into the image before its packages are installed (tools/guest/rootfs). */
export const ROOTFS_OVERLAY = join(REPO_ROOT, 'tools', 'guest', 'rootfs');

/** Beside the kernel image: what the tests' guest needs (apt to install updates, node to run hotsplice). */
export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'kmod', 'nodejs', 'initramfs-tools', 'e2fsprogs', 'procps'];

/** Bump when the recipe below changes in a way its inputs do not show. */
const RECIPE = 1;

export interface RootfsImage {
  /** The ext4 image of the root file system (a test boots a copy of it). */
  image: string;
  /** The kernel and the initramfs initramfs-tools made inside the image. */
  vmlinuz: string;
  initrd: string;
  /** Seconds mmdebstrap and mkfs took when it was made (0: it was there). */
  madeSeconds: number;
}

/** Every overlay file's path, mode and bytes (or link target): part of the image's key. */
async function overlayDigest(dir = ROOTFS_OVERLAY): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    for (const entry of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(d, entry.name);
      const rel = relative(dir, full);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink()) hash.update(`${rel} -> ${await readlink(full)}\n`);
      else hash.update(`${rel} ${(await stat(full)).mode & 0o777}\n`).update(await readFile(full));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

/**
 * The rootfs image for `kernel` (its image package is installed in it, so an update package's Depends on it holds),
 * made when missing: mmdebstrap into a folder, initramfs-tools' initrd copied out, then `mkfs.ext4 -d`.
 */
export async function ensureRootfsImage(kernel: Pick<KernelPaths, 'abi' | 'version' | 'vmlinuz'>, say: (line: string) => void = () => undefined): Promise<RootfsImage> {
  ensureSystem('build'); // mmdebstrap, as for the build roots
  ensureSystem('guest');
  // The userland of the kernel's own release, from this machine's mirrors (the build roots' sources).
  const release = requireAbi(kernel.abi).release;
  const suite = release.suite;
  const imageDeb = join(cacheRoot(), 'debs', `linux-image-${kernel.abi}_${kernel.version}_amd64.deb`);
  await stat(imageDeb).catch(() => {
    throw new UserError(`${imageDeb} is missing: prepare the kernel first (hotsplice kernel prepare --abi ${kernel.abi})`);
  });
  const key = JSON.stringify({ recipe: RECIPE, suite, kernel: basename(imageDeb), packages: ROOTFS_PACKAGES, overlay: await overlayDigest() });
  const dir = join(cacheRoot(), 'rootfs', `${suite}-${kernel.abi}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
  let madeSeconds = 0;
  await once(dir, key, async (target) => {
    const started = performance.now();
    const tree = join(target, 'tree');
    say(`rootfs: making a ${suite} image with ${kernel.abi} (mmdebstrap, once)`);
    const sources = await releaseSources(release);
    await run('mmdebstrap', [
      '--quiet',
      '--mode=root',
      '--variant=apt',
      `--include=${[...ROOTFS_PACKAGES, imageDeb].join(',')}`,
      // Docs and manuals are of no use in a test guest; the kernel's modules and firmware stay.
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      `--setup-hook=sync-in ${ROOTFS_OVERLAY} /`,
      // The guest has no network: apt only ever sees the sources a test adds.
      '--customize-hook=rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*',
      '--customize-hook=chroot "$1" passwd --delete root',
      suite,
      tree,
      ...sources,
    ]);
    const boot = join(tree, 'boot');
    await copyFile(join(boot, `vmlinuz-${kernel.abi}`), join(target, 'vmlinuz'));
    await copyFile(join(boot, `initrd.img-${kernel.abi}`), join(target, 'initrd.img'));
    const bytes = Number((await run('du', ['-sb', tree])).split('\t')[0]);
    // Room for the updates and apt's lists and archives in the guest.
    const size = `${Math.ceil(bytes / 2 ** 20) + 512}M`;
    await run('mkfs.ext4', ['-q', '-F', '-L', 'hsroot', '-d', tree, join(target, 'rootfs.ext4'), size]);
    await rm(tree, { recursive: true, force: true });
    madeSeconds = (performance.now() - started) / 1000;
    say(`rootfs: ${dir} made in ${madeSeconds.toFixed(1)} s (${size})`);
  });
  return { image: join(dir, 'rootfs.ext4'), vmlinuz: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), madeSeconds };
}

/** A disk of files for one boot (ext4, label HSRUN): the run disk hotsplice-guest-run.service runs run.sh from. */
export async function makeRunDisk(folder: string, image: string): Promise<string> {
  const bytes = Number((await run('du', ['-sb', folder])).split('\t')[0]);
  await run('mkfs.ext4', ['-q', '-F', '-L', 'HSRUN', '-d', folder, image, `${Math.ceil(bytes / 2 ** 20) + 16}M`]);
  return image;
}

export interface RootfsBoot extends ConsoleReport {
  console: string;
  timedOut: boolean;
  totalSeconds: number;
}

/**
 * Boot Debian's kernel with the image's initramfs from `disk` (a copy of the image: it keeps what the guest wrote,
 * so a second boot of it is a reboot) with the run disk as /dev/vdb. systemd runs hotsplice-guest-run.service,
 * which frames run.sh's output with the console markers; `quiet` keeps the kernel's messages to the log dump.
 */
export async function bootRootfs(options: { image: RootfsImage; disk: string; runDisk: string; timeoutMs: number; onLine?: (line: string) => void }): Promise<RootfsBoot> {
  const booted = await boot({
    kernel: options.image.vmlinuz,
    initrd: options.image.initrd,
    timeoutMs: options.timeoutMs,
    memoryMiB: 1536,
    // agetty on the serial console hangs the tty up when it starts (vhangup), which cuts off the run unit's output
    // to it: no login prompt there (systemd-debug-generator reads systemd.mask).
    append: 'root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.mask=serial-getty@ttyS0.service',
    drives: [options.disk, options.runDisk],
    onLine: options.onLine,
  });
  return { ...parseConsole(booted.console), console: booted.console, timedOut: booted.timedOut, totalSeconds: booted.totalSeconds };
}
