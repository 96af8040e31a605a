import { readFile } from 'node:fs/promises';
import { UserError } from '@hotsplice/kernel';
import { diffFiles, parseSymvers, readParent } from '@hotsplice/objdiff';
import { parseVerb, usageError } from '../verb';
import { diff as DIFF } from '../verbs';

/**
 * `hotsplice diff`: Ksplice's objmanip on one object pair. Exit 0: change found, outputs written;
 * 3: no functional change; 1: refused (one line on stderr naming the symbol and the reason).
 */
export async function diffCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseVerb(DIFF, args);
  if (positionals.length !== 2 || !values.parent || !values.out) throw usageError(DIFF);
  const [pre, post] = positionals;
  const exported = values.symvers
    ? parseSymvers(await readFile(values.symvers, 'utf8').catch(() => Promise.reject(new UserError(`cannot read ${values.symvers}`))), values.symvers)
    : undefined;
  const parent = readParent(values.parent, values.objname);
  const [result] = await diffFiles([{ pre, post, out: values.out, oldOut: values['old-out'], objname: values.objname }], { parent, exported });
  const { report } = result;
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (result.exitCode === 1) {
    const [first, ...more] = report.refused;
    process.stderr.write(`hotsplice: ${post}: ${first.symbol}: ${first.reason}${more.length ? ` (+${more.length} more)` : ''}\n`);
  } else if (!values.json) {
    process.stdout.write(
      result.exitCode === 3
        ? `${post}: no functional change\n`
        : `${post}: changed ${report.changed.join(', ') || '-'}; new ${[...report.new, ...report.newData].join(', ') || '-'} -> ${values.out}\n`,
    );
  }
  return result.exitCode;
}
