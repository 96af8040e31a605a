// Runs inside the QEMU guest (bundled by live-guest.test.ts): match objects against the running kernel through
// /proc/kcore + /proc/kallsyms and print one JSON line per object (or the one-line error).
import { readFileSync } from 'node:fs';
import { parseElf } from '@hotsplice/elf';
import { KcoreSource, describeFailure, matchObject } from '../../src';

async function main(args: string[]): Promise<void> {
  if (args[0] === '--uid') {
    process.setuid?.(Number(args[1]));
    args = args.slice(2);
  }
  const source = KcoreSource.open();
  try {
    for (const file of args) {
      const report = await matchObject(parseElf(readFileSync(file)), source, { object: file, allowOverriddenWeak: true });
      const patched: Record<string, number> = {};
      const statuses: Record<string, number> = {};
      for (const f of report.functions) {
        statuses[f.status] = (statuses[f.status] ?? 0) + 1;
        if (f.status === 'matched') for (const s of f.patchedSites) patched[s.kind] = (patched[s.kind] ?? 0) + 1;
      }
      const failures = report.functions.filter((f) => !['matched', 'skipped', 'overridden'].includes(f.status)).map((f) => describeFailure(report.object, report.source, f));
      const addresses = Object.fromEntries(report.functions.flatMap((f) => (f.status === 'matched' ? [[f.name, `0x${f.address.toString(16)}`]] : [])));
      console.log(`RUNPRE ${JSON.stringify({ object: file, ok: report.ok, total: report.functions.length, statuses, patched, failures, addresses, text: `0x${source.addressOf('_text').toString(16)}` })}`);
    }
  } finally {
    source.close();
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.log(`RUNPRE-ERROR ${error.message}`);
  process.exitCode = 1;
});
