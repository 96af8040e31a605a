// The guest side of the busy cases: busybox scripts that start hs-load, apply and undo an update with the bundled
// target CLI while the load runs, and print one machine-readable line per step ("@@R <tag> <step> rc=<n> <text>",
// the patch suite's format, read with its parseSteps).
import { GUEST_DIR } from '../suite/driver';

export const LOAD = `${GUEST_DIR}/hs-load`;
/** Between a step's stderr and its stdout on its @@R line. */
export const OUT = '@@OUT';
/** A step's stdout (what follows OUT); the whole text when it has none. */
export const stdoutOf = (text: string) => text.slice(text.indexOf(OUT) < 0 ? 0 : text.indexOf(OUT) + OUT.length).trim();

/** The guest's copy of digest.cjs (busyFiles ships it). */
export const DIGEST = `${GUEST_DIR}/busy-digest.cjs`;

export const packageIn = (id: string) => `${GUEST_DIR}/hotsplice-${id}.tar.gz`;

/** Shell functions every busy script uses. */
export const PRELUDE = `
export HOTSPLICE_STATE_DIR=/tmp/hotsplice-state
# The guest's init brings no interface up; the TCP flood runs over loopback.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
L=${LOAD}
# report TAG STEP CMD…: run it, print its exit code, its stderr and then its stdout (after ${OUT}), each squeezed
# onto one line: a --json step's stdout stays parseable whatever progress or warnings went to stderr.
report() { t=$1; s=$2; shift 2; out=$("$@" 2>/tmp/report.err); rc=$?
  echo "@@R $t $s rc=$rc $(tr '\\n' ' ' < /tmp/report.err) ${OUT} $(echo "$out" | tr '\\n' ' ')"; }
# digested CMD…: CMD's --json output through digest.cjs (blockers summed up), CMD's exit code.
digested() { "$@" > /tmp/digest.out; rc=$?; node ${DIGEST} < /tmp/digest.out; return $rc; }
# start_load NAME ARGS…: hs-load ARGS in the background (output in /tmp/NAME.out), back once it says "ready".
start_load() { n=$1; shift; "$L" "$@" > /tmp/$n.out 2>&1 & eval "pid_$n=$!"; i=0
  while ! grep -q '^ready' /tmp/$n.out; do i=$((i+1)); [ $i -gt 1200 ] && break; sleep 0.1; done; }
# stop_load TAG NAME: SIGTERM; hs-load checks what it ran and says so; its exit code and output as one step.
stop_load() { eval "p=\\$pid_$2"; kill -TERM $p; wait $p; rc=$?; echo "@@R $1 load-$2 rc=$rc $(tr '\\n' ' ' < /tmp/$2.out)"; }
# wait_state PID LETTER: until /proc/PID/stat says the task is in that state (D: uninterruptible).
wait_state() { i=0; until grep -q ") $2 " /proc/$1/stat 2>/dev/null; do i=$((i+1)); [ $i -gt 300 ] && return 1; sleep 0.1; done; }
`;

export interface Round {
  /** Names this round's steps. */
  tag: string;
  id: string;
  /** hs-load argument lists run while the update goes in and out, e.g. ['block', 'poll', '200'] or ['tcp']. */
  loads: string[][];
  /** apply/undo --grace (seconds; 0: no transition control). */
  grace: number;
  timeout?: number;
}

/**
 * One update applied and undone under load, with the timer probe running: its lateness while apply runs, for the
 * same time right after with the same load and no apply (the baseline), and while undo runs.
 */
export function round(r: Round): string {
  const opts = `--json --grace ${r.grace}${r.timeout ? ` --timeout ${r.timeout}` : ''}`;
  const names = r.loads.map((_, i) => `${r.tag}_${i}`);
  return [
    `start_load ${r.tag}_probe timer /tmp/${r.tag}.probe`,
    ...r.loads.map((args, i) => `start_load ${names[i]} ${args.join(' ')}`),
    `a0=$($L now)`,
    `report ${r.tag} apply digested hotsplice apply ${opts} ${packageIn(r.id)}`,
    `a1=$($L now)`,
    `$L pause $((a1 - a0))`,
    `b1=$($L now)`,
    `report ${r.tag} undo digested hotsplice undo ${opts} ${r.id}`,
    `u1=$($L now)`,
    ...names.map((n) => `stop_load ${r.tag} ${n}`),
    `stop_load ${r.tag} ${r.tag}_probe`,
    `report ${r.tag} late-apply $L stats /tmp/${r.tag}.probe $a0 $a1`,
    `report ${r.tag} late-base $L stats /tmp/${r.tag}.probe $a1 $b1`,
    `report ${r.tag} late-undo $L stats /tmp/${r.tag}.probe $b1 $u1`,
    `rm -f /tmp/${r.tag}.probe`,
  ].join('\n');
}

export interface Lateness {
  count: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** "stats count=… p50_us=… p99_us=… max_us=…" (hs-load stats). */
export function parseLateness(text: string): Lateness | undefined {
  const m = /count=(\d+) p50_us=([\d.]+) p99_us=([\d.]+) max_us=([\d.]+)/.exec(text);
  return m ? { count: Number(m[1]), p50Us: Number(m[2]), p99Us: Number(m[3]), maxUs: Number(m[4]) } : undefined;
}
