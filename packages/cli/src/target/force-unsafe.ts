// hotsplice_force_unsafe / KPATCH_FORCE_UNSAFE at apply time. Livepatch has no per-function way to skip its stack
// check, so a function some task always sleeps in keeps the transition open; when only such tasks hold it, each
// inside a function the patch marks force-unsafe, apply writes livepatch's `force` (kernel/livepatch/core.c
// force_store → klp_force_transition). The kernel then never drops the module's reference (klp_free_patch_finish
// skips module_put for a forced patch): the update can be disabled but not unloaded, as kpatch warns for this macro.
import type { Manifest } from '@hotsplice/link';
import type { Blocker } from './blockers';
import type { ControlSettings } from './control';
import { forceTransition } from './livepatch';

export class ForceUnsafe {
  /** The tasks that held the transition when it was forced. */
  forced?: Blocker[];

  private constructor(
    private readonly unsafe: Set<string>,
    private readonly afterMs: number,
  ) {}

  /**
   * Undefined when the update marks no function force-unsafe. Forcing waits a second, and with transition control
   * a second past its grace: a task its signal frees switches safely, so only those it cannot free are forced.
   */
  static of(manifest: Manifest, control: ControlSettings): ForceUnsafe | undefined {
    const unsafe = new Set(manifest.objects.flatMap((o) => o.functions.filter((f) => f.forceUnsafe).map((f) => f.name)));
    return unsafe.size ? new ForceUnsafe(unsafe, control.graceMs + 1000) : undefined;
  }

  /** Force the transition, once, when every task holding it sleeps in a force-unsafe function (livepatch's word). */
  async consider(module: string, blockers: Blocker[], elapsedMs: number): Promise<void> {
    if (this.forced || elapsedMs < this.afterMs || !blockers.length || !blockers.every((b) => b.function && this.unsafe.has(b.function))) return;
    await forceTransition(module);
    this.forced = blockers;
  }

  /** One line for the user: what was forced and what it costs. */
  describe(id: string): string | undefined {
    if (!this.forced) return undefined;
    const tasks = this.forced.map((t) => `${t.comm}[${t.pid}] in ${t.function}`).join('; ');
    return `hotsplice: warning: forced the transition of ${id}: only tasks in force-unsafe functions held it (${tasks}); livepatch keeps the module loaded from now on`;
  }
}
