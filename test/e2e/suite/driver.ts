// The guest side of the patch suite: one busybox script that applies, checks and undoes every update with the
// bundled target CLI, printing one machine-readable line per step ("@@R <case> <step> rc=<n> <json or text>").
import type { PatchCase } from './cases';

export const GUEST_DIR = '/hotsplice/files';

/** Guest paths of a case's files and of its package. */
export const caseDir = (c: PatchCase) => `${GUEST_DIR}/${c.name}`;
export const packagePath = (id: string) => `${GUEST_DIR}/packages/hotsplice-${id}.tar.gz`;

const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Shell functions every phase uses. */
const PRELUDE = `
export HOTSPLICE_STATE_DIR=/tmp/hotsplice-state
# report CASE STEP: run the rest of the line, print its exit code and its output squeezed onto one line.
report() { c=$1; s=$2; shift 2; out=$("$@" 2>&1); rc=$?; echo "@@R $c $s rc=$rc $(echo "$out" | tr '\\n' ' ')"; }
check() { CASE_DIR=$1 sh "$1/check.sh"; }
`;

function loadModule(c: PatchCase): string {
  return c.module ? `grep -q '^${c.module.name} ' /proc/modules || report ${c.name} insmod-${c.module.name} insmod ${caseDir(c)}/${c.module.path.split('/').pop()}` : '';
}

/** Phase 1: each update alone: check fails, apply, check passes, undo, check fails again. */
export function singlePhase(cases: PatchCase[]): string {
  const lines = [PRELUDE];
  for (const c of cases) {
    const dir = caseDir(c);
    if (c.setup) lines.push(c.setup);
    if (c.module?.load === 'before') lines.push(loadModule(c));
    lines.push(`report ${c.name} before check ${dir}`);
    lines.push(`report ${c.name} apply hotsplice apply --json ${packagePath(c.id)}`);
    if (c.module?.load === 'after') lines.push(loadModule(c));
    lines.push(`report ${c.name} after check ${dir}`);
    lines.push(`report ${c.name} undo hotsplice undo --json ${c.id}`);
    lines.push(`report ${c.name} undone check ${dir}`);
  }
  return lines.join('\n');
}

/** Phase 2: every update applied on top of the others, all checks pass; undone newest first, all fail. */
export function stackedPhase(cases: PatchCase[]): string {
  const lines = [PRELUDE];
  for (const c of cases) lines.push(`report ${c.name} stack-apply hotsplice apply --json ${packagePath(c.id)}`);
  lines.push('report all stack-view hotsplice view');
  for (const c of cases) lines.push(`report ${c.name} stacked check ${caseDir(c)}`);
  for (const c of [...cases].reverse()) lines.push(`report ${c.name} stack-undo hotsplice undo --json ${c.id}`);
  for (const c of cases) lines.push(`report ${c.name} unstacked check ${caseDir(c)}`);
  return lines.join('\n');
}

/**
 * Phase 3: one update applied, then the atomic-replace update of all patches takes over (the first shows as
 * replaced), every check passes; undoing the replace update restores the original kernel.
 */
export function replacePhase(cases: PatchCase[], replaceId: string): string {
  const first = cases[0];
  const lines = [PRELUDE];
  lines.push(`report ${first.name} pre-replace-apply hotsplice apply --json ${packagePath(first.id)}`);
  lines.push(`report all replace-apply hotsplice apply --json ${packagePath(replaceId)}`);
  lines.push(`report all replace-view hotsplice view --json`);
  for (const c of cases) lines.push(`report ${c.name} replaced check ${caseDir(c)}`);
  lines.push(`report all replace-undo hotsplice undo --json ${replaceId}`);
  lines.push(`report ${first.name} replaced-undo hotsplice undo --json ${first.id}`);
  for (const c of cases) lines.push(`report ${c.name} replace-undone check ${caseDir(c)}`);
  lines.push('report all final-view hotsplice view --json');
  return lines.join('\n');
}

/**
 * Phase 4: an apply, then an undo, that cannot finish. A task sleeping in do_nanosleep keeps the transition
 * open (livepatch only signals sleepers after 15 s, kernel/livepatch/transition.c SIGNALS_TIMEOUT; the update's own
 * transition control, which would signal it after a second, is off here: `--grace 0`; busy.test.ts has it on): undo times out
 * (exit 124), the update shows as undoing, and --force ends it with a warning. Then the same function marked
 * KPATCH_FORCE_UNSAFE: apply forces the transition itself once only the sleeper holds it.
 */
export function stallPhase(sleeper: PatchCase, forceId: string): string {
  return [
    PRELUDE,
    // First the same hold on the patch transition: a task asleep in the old do_nanosleep. apply times out and must
    // back the update out (the path every failure after insmod takes): nothing loaded, no record left.
    'sleep 120 & early=$!',
    'sleep 1',
    `report stall apply-held hotsplice apply --grace 0 --timeout 2 ${packagePath(sleeper.id)}`,
    `report stall apply-held-view hotsplice view --json`,
    `report stall apply-held-modules grep ${q(`^${sleeper.id} `)} /proc/modules`,
    `report stall apply-held-record ls ${q(`/tmp/hotsplice-state/applied/${sleeper.id}.json`)}`,
    'kill $early',
    `report stall apply hotsplice apply --json ${packagePath(sleeper.id)}`,
    'sleep 120 & sleeper=$!',
    'sleep 1',
    `report stall undo hotsplice undo --grace 0 --timeout 2 ${sleeper.id}`,
    `report stall status hotsplice status --json ${sleeper.id}`,
    `report stall force hotsplice undo --grace 0 --force --timeout 3 ${sleeper.id}`,
    'kill $sleeper',
    `report stall view hotsplice view --json`,
    `report stall modules grep ${q(`^${sleeper.id} `)} /proc/modules`,
    // Last, since a forced patch's module stays for good: the same function marked KPATCH_FORCE_UNSAFE. Only the
    // sleeper holds the transition, inside do_nanosleep, so apply forces it after its grace second.
    'sleep 120 & holder=$!',
    'sleep 1',
    `report stall force-unsafe-apply hotsplice apply --grace 0 --timeout 20 ${packagePath(forceId)}`,
    `report stall force-unsafe-check check ${caseDir(sleeper)}`,
    'kill $holder',
  ].join('\n');
}

export interface StepResult {
  rc: number;
  out: string;
}

/** "@@R case step rc=N text" lines → case → step → result. */
export function parseSteps(output: string): Map<string, Map<string, StepResult>> {
  const steps = new Map<string, Map<string, StepResult>>();
  for (const m of output.matchAll(/^@@R (\S+) (\S+) rc=(\d+) ?(.*)$/gm)) {
    if (!steps.has(m[1])) steps.set(m[1], new Map());
    steps.get(m[1])!.set(m[2], { rc: Number(m[3]), out: m[4].trim() });
  }
  return steps;
}
