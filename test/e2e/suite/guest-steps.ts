// The results of a guest script's `step NAME CMD…` lines, which print `@@S NAME rc=N`, `@@O NAME <stdout>` and
// `@@E NAME <stderr>` on the console (each output squeezed onto its line).

export interface Step {
  rc: number;
  out: string;
  err: string;
}

export function parseSteps(console: string): Map<string, Step> {
  const steps = new Map<string, Step>();
  for (const m of console.matchAll(/^@@([SOE]) (\S+) ?(.*)$/gm)) {
    const s = steps.get(m[2]!) ?? { rc: -1, out: '', err: '' };
    if (m[1] === 'S') s.rc = Number(/rc=(\d+)/.exec(m[3]!)?.[1] ?? -1);
    else if (m[1] === 'O') s.out = m[3]!.trim();
    else s.err = m[3]!.trim();
    steps.set(m[2]!, s);
  }
  return steps;
}
