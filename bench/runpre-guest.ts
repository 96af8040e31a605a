// Benchmark: the apply-time run-pre check in the TCG guest — `hotsplice verify` (the check apply runs before
// insmod: parse /proc/kallsyms, read /proc/kcore, match every function the manifest lists) on real packages,
// three times each, in one boot of Debian's kernel.
// Run: node -r @swc-node/register bench/runpre-guest.ts [PACKAGE.tar.gz…]
//      (default: every dist/hotpatch/<id>/hotsplice-<id>.tar.gz of this checkout; build some with `hotsplice create`)
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT, runGuest } from '@hotsplice/guest';
import { prepareKernel } from '@hotsplice/kernel';

const GOAL_MS = 1000;
const RUNS = 3;

function defaultPackages(): string[] {
  const dir = join(REPO_ROOT, 'dist', 'hotpatch');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((id) => join(dir, id, `hotsplice-${id}.tar.gz`))
    .filter((p) => existsSync(p));
}

async function main() {
  const packages = process.argv.length > 2 ? process.argv.slice(2) : defaultPackages();
  if (!packages.length) throw new Error('no packages: pass some, or build one with hotsplice create');
  const kernel = await prepareKernel({ quiet: true });
  const files = packages.map((p, i) => ({ source: p, dest: `p${i}.tar.gz` }));
  const lines = packages.flatMap((_, i) => Array.from({ length: RUNS }, (_r, run) => `echo "@@B ${i} ${run} $(hotsplice verify --json p${i}.tar.gz 2>/dev/null | tr '\\n' ' ')"`));
  const guest = await runGuest({ kernel: kernel.vmlinuz, cli: true, files, scripts: [{ name: 'bench', content: lines.join('\n') }], timeoutMs: 900_000 });
  for (const m of guest.console.matchAll(/^@@B (\d+) (\d+) (.*)$/gm)) {
    const name = basename(packages[Number(m[1])]);
    let r: { runPre: { status: string; functions: number; notChecked: number; ms: number } };
    try {
      r = JSON.parse(m[3]);
    } catch {
      console.log(`${name} run ${Number(m[2]) + 1}: verify failed (${m[3].slice(0, 200)})`);
      continue;
    }
    const { status, functions, notChecked, ms } = r.runPre;
    console.log(`${name} run ${Number(m[2]) + 1}: ${status}, ${functions} function(s) matched${notChecked ? `, ${notChecked} not checked` : ''} in ${ms} ms (goal ${GOAL_MS} ms: ${(ms / GOAL_MS).toFixed(2)}x)`);
  }
  console.log(`guest boot ${guest.bootSeconds?.toFixed(1)} s, total ${guest.totalSeconds.toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
