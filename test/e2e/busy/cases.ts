// The busy-machine cases (issue 16): functions tasks sleep in, hot paths, a function an uninterruptible sleeper
// holds, each a one-instruction change (nop-patch.ts) measured while a load runs.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NopSite, nopPatch } from './nop-patch';

/** What hs-load keeps asleep (`hs-load block KIND N`). */
export type SleepKind = 'poll' | 'select' | 'epoll' | 'read' | 'futex' | 'nanosleep';

export interface BusyCase {
  /** The function the case changes (the source's name: ep_poll is inlined into do_epoll_wait). */
  fn: string;
  file: string;
  /** sleeping: N tasks asleep in it; hot: called all the time under the flood and the probe; dstate: a vfork parent holds it. */
  kind: 'sleeping' | 'hot' | 'dstate';
  /** For sleeping cases: the tasks that sleep in it. */
  load?: SleepKind;
}

export const SLEEPING: BusyCase[] = [
  { fn: 'do_sys_poll', file: 'fs/select.c', kind: 'sleeping', load: 'poll' },
  { fn: 'do_select', file: 'fs/select.c', kind: 'sleeping', load: 'select' },
  { fn: 'ep_poll', file: 'fs/eventpoll.c', kind: 'sleeping', load: 'epoll' },
  { fn: 'pipe_read', file: 'fs/pipe.c', kind: 'sleeping', load: 'read' },
  { fn: 'futex_wait', file: 'kernel/futex/waitwake.c', kind: 'sleeping', load: 'futex' },
  { fn: 'do_nanosleep', file: 'kernel/time/hrtimer.c', kind: 'sleeping', load: 'nanosleep' },
];

export const HOT: BusyCase[] = [
  { fn: 'hrtimer_start_range_ns', file: 'kernel/time/hrtimer.c', kind: 'hot' },
  { fn: 'tcp_v4_rcv', file: 'net/ipv4/tcp_ipv4.c', kind: 'hot' },
  { fn: 'try_to_wake_up', file: 'kernel/sched/core.c', kind: 'hot' },
];

/** The parent of a vfork child waits in kernel_clone, uninterruptibly (wait_for_vfork_done: TASK_KILLABLE). */
export const DSTATE: BusyCase = { fn: 'kernel_clone', file: 'kernel/fork.c', kind: 'dstate' };

/** The patches of an update holding `cases` (one file each), written into `dir`; their paths. */
export function writePatches(tree: string, dir: string, name: string, cases: Array<BusyCase & { at?: NopSite['at'] }>): string[] {
  const byFile = new Map<string, NopSite[]>();
  for (const c of cases) byFile.set(c.file, [...(byFile.get(c.file) ?? []), { fn: c.fn, at: c.at }]);
  return [...byFile].map(([file, sites], i) => {
    const path = join(dir, `${name}-${i}-${file.replace(/[/.]/g, '_')}.patch`);
    writeFileSync(path, nopPatch(tree, file, sites));
    return path;
  });
}

/** hs-load, static, for the guest (like the patch suite's check binaries). */
export function buildLoad(out: string): string {
  const cc = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', out, join(__dirname, 'load.c'), '-lpthread'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`load.c: ${cc.stderr}`);
  return out;
}
