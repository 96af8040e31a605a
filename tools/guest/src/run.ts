import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCli } from './bundle';
import { type ConsoleReport, parseConsole } from './console';
import { type CpioEntry, writeCpio } from './cpio';
import { type GuestFile, type GuestScript, initramfsEntries } from './initramfs';
import { nodeRuntimeEntries } from './node-runtime';
import { boot } from './qemu';
import { ensureSystem } from '../../setup/src';

export interface GuestOptions {
  /** The kernel to boot (the prepared kernel's vmlinuz). */
  kernel: string;
  scripts: GuestScript[];
  files?: GuestFile[];
  /** Carry this machine's node binary and its libraries (/usr/local/bin/node). */
  node?: boolean;
  /** Carry the bundled hotsplice CLI as /usr/local/bin/hotsplice (implies node). */
  cli?: boolean;
  timeoutMs?: number;
  memoryMiB?: number;
  onLine?: (line: string) => void;
  busybox?: string;
}

export interface GuestResult extends ConsoleReport {
  /** Every script ran and exited 0, the guest powered off by itself, and the kernel log shows no problem. */
  ok: boolean;
  timedOut: boolean;
  /** Host seconds from starting QEMU until /init ran. */
  bootSeconds: number | null;
  totalSeconds: number;
  initramfsBytes: number;
  console: string;
}

/** Build an initramfs holding the scripts and files, boot it under QEMU, and report what each script did. */
export async function runGuest(options: GuestOptions): Promise<GuestResult> {
  ensureSystem('guest'); // QEMU and busybox come when a guest first boots, not with the main job
  const work = await mkdtemp(join(tmpdir(), 'hotsplice-guest-'));
  try {
    const extra: CpioEntry[] = [];
    if (options.node || options.cli) extra.push(...nodeRuntimeEntries());
    if (options.cli) {
      extra.push({ kind: 'file', path: 'usr/local/bin/hotsplice', source: await bundleCli(), mode: 0o755 });
    }
    const initrd = join(work, 'initramfs.cpio');
    const entries = initramfsEntries({
      busybox: options.busybox ?? '/bin/busybox',
      scripts: options.scripts,
      files: options.files,
      extra,
    });
    await writeCpio(entries, initrd);
    const { size } = await stat(initrd);
    const booted = await boot({
      kernel: options.kernel,
      initrd,
      timeoutMs: options.timeoutMs ?? 120_000,
      memoryMiB: options.memoryMiB,
      onLine: options.onLine,
    });
    const report = parseConsole(booted.console);
    const allRan =
      report.scripts.length === options.scripts.length && report.scripts.every((s) => s.exitCode === 0);
    return {
      ...report,
      ok: allRan && report.completed && !booted.timedOut && report.problems.length === 0,
      timedOut: booted.timedOut,
      bootSeconds: booted.bootSeconds,
      totalSeconds: booted.totalSeconds,
      initramfsBytes: size,
      console: booted.console,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
