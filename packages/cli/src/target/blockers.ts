// The tasks that hold a livepatch transition open, read from /proc: each task's patch_state (fs/proc/base.c
// proc_pid_patch_state: -1 no transition, 0 unpatched, 1 patched) and its kernel stack (proc_pid_stack, root only).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface Blocker {
  pid: number;
  comm: string;
  /** The scheduler state letter of /proc/PID/stat (S sleeping, D uninterruptible, R running…). */
  state: string;
  /** The functions on its kernel stack, innermost first (`do_nanosleep`, from `[<0>] do_nanosleep+0x6d/0x1a0`). */
  stack: string[];
}

/** Every task (thread) whose patch_state is not yet `target` (1 while patching, 0 while unpatching). */
export async function transitionBlockers(target: 0 | 1): Promise<Blocker[]> {
  const blockers: Blocker[] = [];
  for (const pid of await numbered('/proc')) {
    for (const tid of await numbered(join('/proc', String(pid), 'task'))) {
      const dir = join('/proc', String(pid), 'task', String(tid));
      const state = Number((await read(join(dir, 'patch_state')))?.trim());
      if (!Number.isInteger(state) || state === -1 || state === target) continue;
      const [comm, stat, stack] = await Promise.all([read(join(dir, 'comm')), read(join(dir, 'stat')), read(join(dir, 'stack'))]);
      if (comm === undefined) continue; // the task exited meanwhile
      blockers.push({ pid: tid, comm: comm.trim(), state: /\) (\S)/.exec(stat ?? '')?.[1] ?? '?', stack: stackFunctions(stack ?? '') });
    }
  }
  return blockers;
}

/** `[<0>] do_nanosleep+0x6d/0x1a0` lines → function names. */
export function stackFunctions(text: string): string[] {
  return text
    .split('\n')
    .map((line) => /^\[<[0-9a-f]+>\] ([^+\s]+)\+/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

async function numbered(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

function read(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}
