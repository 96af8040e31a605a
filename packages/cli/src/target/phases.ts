// Where the wall time of an apply or undo goes: ms per step, in order (--json `phases`). Under TCG with a busy
// guest, an apply took 21 s for a transition of 1 ms by the kernel's clock; this says which step took it.

export class Phases {
  private readonly spent = new Map<string, number>();
  private last = performance.now();

  /** The time since the previous lap (or the start) goes to `name`; a step that recurs adds up. */
  lap(name: string): void {
    const now = performance.now();
    this.spent.set(name, (this.spent.get(name) ?? 0) + now - this.last);
    this.last = now;
  }

  /** { step: ms } in the order the steps first ran. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.spent].map(([name, ms]) => [name, Math.round(ms)]));
  }
}
