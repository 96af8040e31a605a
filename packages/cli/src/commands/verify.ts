import { checkOldCode, liveSource, readLinkMap, readOldCode } from '../target/run-pre';
import { checkKernel, runningKernel } from '../target/running-kernel';
import { openUpdate } from '../target/update-package';
import { parseVerb, usageError } from '../verb';
import { verify as VERIFY } from '../verbs';

/**
 * The apply-time run-pre check alone: open and verify the package, check it is for this kernel, match its old
 * code against the live kernel and print the result per function. Loads nothing.
 * Exit 0: every checkable function matched; 1: a mismatch (or the package does not fit this kernel); 2: usage.
 */
export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseVerb(VERIFY, args);
  if (positionals.length !== 1) throw usageError(VERIFY);
  const update = await openUpdate(positionals[0]);
  try {
    const { manifest } = update;
    checkKernel(manifest, await runningKernel());
    const result = await checkOldCode(manifest, await readOldCode(update), liveSource(await readLinkMap(update)));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ id: manifest.id, module: manifest.module, runPre: result }, null, 2)}\n`);
    } else {
      const lines = [`${manifest.id}: run-pre ${result.status === 'matched' ? 'matched' : 'MISMATCH'}: ${result.summary}`];
      for (const r of result.results ?? []) {
        const what = r.status === 'matched' ? `matched at ${r.address}` : `${r.status}: ${r.detail}`;
        lines.push(`  ${r.objname} ${r.name}${r.sympos ? `,${r.sympos}` : ''} (${r.object}): ${what}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (result.status === 'mismatch') {
      if (values.json) process.stderr.write(`hotsplice: ${result.cause}\n`);
      return 1;
    }
    return 0;
  } finally {
    await update.close();
  }
}
