import { posix } from 'node:path';
import type { CpioEntry } from './cpio';
import { GUEST_DIR, initScript } from './init-script';

export interface GuestScript {
  /** Letters, digits, '.', '_' and '-' only: it names the script's markers on the console. */
  name: string;
  content: string;
}

export interface GuestFile {
  source: string;
  /** Guest path: absolute, or relative to the scripts' working directory /hotsplice/files. Default: basename. */
  dest?: string;
  mode?: number;
}

export interface InitramfsSpec {
  busybox: string;
  scripts: GuestScript[];
  files?: GuestFile[];
  /** Extra entries, such as the node runtime and the bundled CLI. */
  extra?: CpioEntry[];
}

const NAME = /^[\w.-]+$/;

/** Every entry of the guest's initramfs, parents before children, as the kernel's unpacker needs them. */
export function initramfsEntries(spec: InitramfsSpec): CpioEntry[] {
  const names = spec.scripts.map((script, i) => {
    if (!NAME.test(script.name)) throw new Error(`guest script name "${script.name}" must match ${NAME}`);
    return `${String(i + 1).padStart(2, '0')}-${script.name}`;
  });
  const entries: CpioEntry[] = [
    ...['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'root', `${GUEST_DIR}/files`].map(
      (path): CpioEntry => ({ kind: 'dir', path }),
    ),
    // The kernel opens /dev/console for init before anything is mounted (init/main.c: console_on_rootfs).
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', source: spec.busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    // Scripts with `#!/usr/bin/env node` need env at that path.
    { kind: 'symlink', path: 'usr/bin/env', target: '/bin/busybox' },
    { kind: 'file', path: 'init', data: initScript(names), mode: 0o755 },
    ...spec.scripts.map((script, i): CpioEntry => ({
      kind: 'file',
      path: `${GUEST_DIR}/scripts/${names[i]}`,
      data: script.content,
      mode: 0o755,
    })),
    ...(spec.files ?? []).map((file): CpioEntry => ({
      kind: 'file',
      path: guestPath(file),
      source: file.source,
      mode: file.mode,
    })),
    ...(spec.extra ?? []),
  ];
  return withParentDirs(entries);
}

function guestPath(file: GuestFile): string {
  const dest = file.dest ?? posix.basename(file.source);
  return dest.startsWith('/') ? dest.slice(1) : `${GUEST_DIR}/files/${dest}`;
}

/** Add a directory entry for every parent not listed yet (the unpacker does not create parents). */
export function withParentDirs(entries: CpioEntry[]): CpioEntry[] {
  const seen = new Set<string>();
  const out: CpioEntry[] = [];
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!seen.has(parent)) {
        seen.add(parent);
        out.push({ kind: 'dir', path: parent });
      }
    }
    if (seen.has(path) && entry.kind === 'dir') continue;
    seen.add(path);
    out.push({ ...entry, path });
  }
  return out;
}
