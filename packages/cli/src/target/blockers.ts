// The tasks that hold a livepatch transition open. /proc says which tasks are not switched yet (patch_state:
// fs/proc/base.c proc_pid_patch_state, -1 no transition, 0 unpatched, 1 patched) and their state; livepatch itself
// says why: kernel/livepatch/transition.c klp_try_switch_task reports every task it cannot switch, once a retry
// (each second), with pr_debug ("sleep:88 is sleeping on function do_nanosleep"). /proc/PID/stack cannot say it:
// stack_trace_save_tsk() drops __sched and lock functions for other tasks (kernel/stacktrace.c,
// stack_trace_consume_entry_nosched), and do_nanosleep, schedule and mutex_lock are such functions.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KernelLogTail } from './kmsg';

export interface Blocker {
  pid: number;
  comm: string;
  /** The scheduler state letter of /proc/PID/stat (S sleeping, D uninterruptible, R running…). */
  state: string;
  /** What livepatch said of it: "sleeping on do_nanosleep", "running", "unreliable stack" (undefined: not yet). */
  why?: string;
  /** The function of the patch livepatch found on its stack. */
  function?: string;
}

const CONTROL = '/proc/dynamic_debug/control';
const SOURCE = 'kernel/livepatch/transition.c';
/** Whose pr_debug lines the watch reads: the tasks it cannot switch, and the moment it starts completing. */
const WATCHED = ['klp_try_switch_task', 'klp_complete_transition'];
const SWITCH = /klp_try_switch_task: (.*):(\d+) (is running|has an unreliable stack|is sleeping on function (\S+))$/;

/** livepatch's per-task report (switched on for the watch): a failure's "held by" says it once, shortly. */
export const isSwitchReport = (line: string) => SWITCH.test(line);

/**
 * Watches one transition of `module`: livepatch's own account of its blockers, switched on for the watch (dynamic
 * debug), and its start and end as the kernel logged them (kernel/livepatch/transition.c klp_start_transition:
 * "'<patch>': starting patching transition", klp_complete_transition: "'<patch>': patching complete").
 */
export class TransitionWatch {
  private readonly said = new Map<number, Pick<Blocker, 'comm' | 'why' | 'function'>>();
  private startedUs?: number;
  private completingUs?: number;
  private endedUs?: number;

  private constructor(
    private readonly restore: string[],
    private readonly module: string,
    private readonly log: KernelLogTail,
    private readonly ownLog: boolean,
  ) {}

  /**
   * Turn on the pr_debug lines of klp_try_switch_task and klp_complete_transition (CONFIG_DYNAMIC_DEBUG, as in
   * Debian's kernels) and remember which were off; without dynamic debug the watch still lists the blockers, without livepatch's reasons. Started before
   * the transition is: its first attempt runs inside insmod (klp_enable_patch) or the `enabled` write, and a task
   * the update's transition control frees a second later is named only there. `log`: the caller's, opened before
   * it acted (read from there on, left open); without one the watch opens its own.
   */
  static async start(module: string, log?: KernelLogTail): Promise<TransitionWatch> {
    const control = (await readFile(CONTROL, 'utf8').catch(() => '')).split('\n');
    const off = WATCHED.filter((func) => control.some((l) => l.startsWith(`${SOURCE}:`) && l.includes(`${func} =_ `)));
    for (const func of off) await writeFile(CONTROL, `file ${SOURCE} func ${func} +p`).catch(() => undefined);
    return new TransitionWatch(off.map((func) => `file ${SOURCE} func ${func} -p`), module, log ?? KernelLogTail.open(), !log);
  }

  /**
   * The tasks not yet at `target` (1 while patching, 0 while unpatching), with what livepatch last said of each.
   * The walk over /proc reads three files a thread (slow under TCG with a thousand threads): `stop` is asked every
   * so often and ends it early (undefined), e.g. once the transition is over.
   */
  async blockers(target: 0 | 1, stop?: () => Promise<boolean>): Promise<Blocker[] | undefined> {
    this.scan();
    const tasks = await pendingTasks(target, stop);
    return tasks?.map((t) => ({ ...t, ...this.said.get(t.pid) }));
  }

  /** Every task livepatch said it could not switch during the watch, as it said it (state unknown: '?'). */
  named(): Blocker[] {
    this.scan();
    return [...this.said].map(([pid, s]) => ({ pid, state: '?', ...s }));
  }

  /** The transition's length by the kernel's own clock, once both of its lines were seen (read after it ended). */
  kernelMs(): number | undefined {
    this.scan();
    return this.startedUs !== undefined && this.endedUs !== undefined ? (this.endedUs - this.startedUs) / 1000 : undefined;
  }

  /**
   * From the start to livepatch's "completing" line: the time the tasks took to switch, which transition control
   * governs. The rest of kernelMs is the kernel's own completion: an unpatch unregisters one ftrace handler per
   * function, each with RCU-tasks grace periods (kernel/trace/ftrace.c ftrace_shutdown).
   */
  switchedMs(): number | undefined {
    this.scan();
    return this.startedUs !== undefined && this.completingUs !== undefined ? (this.completingUs - this.startedUs) / 1000 : undefined;
  }

  private scan(): void {
    const quoted = `livepatch: '${this.module}': `;
    for (const line of this.log.next()) {
      const m = SWITCH.exec(line.text);
      if (m) {
        const why = m[4] ? `sleeping on ${m[4]}` : m[3] === 'is running' ? 'running' : 'unreliable stack';
        this.said.set(Number(m[2]), { comm: m[1], why, function: m[4] });
      } else if (line.text.startsWith(quoted)) {
        const what = line.text.slice(quoted.length);
        // A reversed transition has one start and ends once, in the other direction: its start is the first.
        if (/^starting (un)?patching transition$/.test(what)) this.startedUs ??= line.usec;
        else if (/^completing (un)?patching transition$/.test(what)) this.completingUs = line.usec;
        else if (/^(un)?patching complete$/.test(what)) this.endedUs = line.usec;
      }
    }
  }

  async stop(): Promise<void> {
    for (const command of this.restore) await writeFile(CONTROL, command).catch(() => undefined);
    if (this.ownLog) this.log.close();
  }
}

/** "sleep[88] S sleeping on do_nanosleep; kworker/0:1[12] I running" */
export function describeBlockers(blockers: Blocker[], max = 4): string {
  const shown = blockers.slice(0, max).map((b) => `${b.comm}[${b.pid}] ${b.state}${b.why ? ` ${b.why}` : ''}`);
  return blockers.length > max ? `${shown.join('; ')}; and ${blockers.length - max} more` : shown.join('; ');
}

const ASK_STOP_EVERY = 64;

/** Every task (thread) whose patch_state is not yet `target`; undefined when `stop` said so first. */
async function pendingTasks(target: 0 | 1, stop?: () => Promise<boolean>): Promise<Blocker[] | undefined> {
  const tasks: Blocker[] = [];
  let visited = 0;
  for (const pid of await numbered('/proc')) {
    for (const tid of await numbered(join('/proc', String(pid), 'task'))) {
      if (stop && ++visited % ASK_STOP_EVERY === 0 && (await stop())) return undefined;
      const dir = join('/proc', String(pid), 'task', String(tid));
      const state = Number((await read(join(dir, 'patch_state')))?.trim());
      if (!Number.isInteger(state) || state === -1 || state === target) continue;
      const [comm, stat] = await Promise.all([read(join(dir, 'comm')), read(join(dir, 'stat'))]);
      if (comm === undefined) continue; // the task exited meanwhile
      tasks.push({ pid: tid, comm: comm.trim(), state: /\) (\S)/.exec(stat ?? '')?.[1] ?? '?' });
    }
  }
  return tasks;
}

async function numbered(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

function read(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}
