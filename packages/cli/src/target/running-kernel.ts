// Which kernel is running: its release (uname -r) and its vmlinux build id, which the kernel exports as its own
// ELF notes in /sys/kernel/notes (kernel/ksysfs.c notes_read), the same note the package's manifest recorded.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { UserError } from '@hotsplice/kernel';
import { buildIdNote } from '@hotsplice/link';
import type { Manifest } from '@hotsplice/link';

export interface RunningKernel {
  release: string;
  buildId: string;
}

export async function runningKernel(notesPath = '/sys/kernel/notes'): Promise<RunningKernel> {
  const notes = await readFile(notesPath).catch(() => {
    throw new UserError(`cannot read ${notesPath}: the running kernel's build id is unknown`);
  });
  const buildId = buildIdNote(notes);
  if (!buildId) throw new UserError(`${notesPath} holds no GNU build id note`);
  return { release: release(), buildId };
}

/** Refuse a package built for another kernel: same release string and the very same vmlinux. */
export function checkKernel(manifest: Manifest, running: RunningKernel): void {
  const wanted = manifest.kernel;
  if (running.release !== wanted.abi) {
    throw new UserError(`update ${manifest.id} is for Linux ${wanted.abi}; this machine runs ${running.release}`);
  }
  if (running.buildId !== wanted.vmlinuxBuildId) {
    throw new UserError(
      `update ${manifest.id} was built for the ${wanted.abi} kernel with build id ${wanted.vmlinuxBuildId}; the running kernel's is ${running.buildId} (another build of the same release)`,
    );
  }
}
