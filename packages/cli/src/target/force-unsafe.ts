// hotsplice_force_unsafe / KPATCH_FORCE_UNSAFE at apply time. Livepatch has no per-function way to skip its stack
// check, so a function some task always sleeps in keeps the transition open; when only such tasks hold it, and
// only inside functions the patch marks force-unsafe, apply writes livepatch's `force` (kernel/livepatch/core.c
// force_store → klp_force_transition). The kernel then never drops the module's reference (klp_free_patch_finish
// skips module_put for a forced patch): the update can be disabled but not unloaded, as kpatch warns for this macro.
import type { Manifest } from '@hotsplice/link';
import { type Blocker, transitionBlockers } from './blockers';
import { forceTransition } from './livepatch';

/** How long the transition may run on its own before its blockers are looked at. */
const GRACE_MS = 1000;

export interface Forced {
  /** The tasks that held the transition, each with the force-unsafe functions on its stack. */
  tasks: Array<Pick<Blocker, 'pid' | 'comm' | 'state'> & { functions: string[] }>;
}

export class ForceUnsafe {
  private lastLook = 0;
  forced?: Forced;

  private constructor(
    private readonly unsafe: Set<string>,
    private readonly replaced: Set<string>,
  ) {}

  /** Undefined when the update marks no function force-unsafe. */
  static of(manifest: Manifest): ForceUnsafe | undefined {
    const functions = manifest.objects.flatMap((o) => o.functions);
    const unsafe = new Set(functions.filter((f) => f.forceUnsafe).map((f) => f.name));
    return unsafe.size ? new ForceUnsafe(unsafe, new Set(functions.map((f) => f.name))) : undefined;
  }

  /** Called while the patch transition runs: forces it, once, when only tasks in force-unsafe functions hold it. */
  async check(module: string, elapsedMs: number): Promise<void> {
    if (this.forced || elapsedMs < GRACE_MS || elapsedMs - this.lastLook < 1000) return;
    this.lastLook = elapsedMs;
    const holding = (await transitionBlockers(1)).map((b) => ({ pid: b.pid, comm: b.comm, state: b.state, functions: b.stack.filter((f) => this.replaced.has(f)) }));
    if (!holding.length || holding.some((b) => !b.functions.length || b.functions.some((f) => !this.unsafe.has(f)))) return;
    await forceTransition(module);
    this.forced = { tasks: holding };
  }

  /** One line for the user: what was forced and what it costs. */
  describe(id: string): string | undefined {
    if (!this.forced) return undefined;
    const tasks = this.forced.tasks.map((t) => `${t.comm}[${t.pid}] in ${t.functions.join(', ')}`).join('; ');
    return `hotsplice: warning: forced the transition of ${id}: only tasks in force-unsafe functions held it (${tasks}); livepatch keeps the module loaded from now on`;
  }
}
