import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { parseElf } from '@hotsplice/elf';
import { oldCodeAsLinked } from '@hotsplice/link';
import { type FunctionMatch, type MemorySource, VmlinuxSource, describeFailure, matchObject } from '@hotsplice/runpre';
import { layout, workDir, placeOf } from '../layout';
import { readCollected } from './collect';
import { kernelFor, writeOutput, runTask, eachTask, dropPackages } from './common';

interface VerifyPreOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  abi: string;
}

/** One changed object as verify-pre sees it: its old code and the functions the differ says the update patches. */
export interface VerifyInput {
  object: string;
  objname: string;
  /** The old-code object (the pre code of the object's changed functions). */
  oldCode: Uint8Array;
  patched: Array<{ oldName: string; sympos: number }>;
}

export interface ObjectVerdict {
  object: string;
  objname: string;
  status: 'matched' | 'failed' | 'not-checked';
  /** Functions of the old code matched / compared. */
  matched: number;
  functions: number;
  ms: number;
  /** One line: the first failure, or why the object was not checked. */
  detail?: string;
  /** Per function: name, status, address (hex), sympos. */
  results?: Array<{ name: string; status: FunctionMatch['status']; address?: string; sympos?: number }>;
}

/** dist/.hotsplice/<id>/verify-pre.json */
export function verifyReportPath(id: string): string {
  return join(workDir(id), 'verify-pre.json');
}

/**
 * Build-time run-pre (design.md §4): every function of a vmlinux object's old code must match Debian's -dbg
 * vmlinux — proof that the pre objects were built with the shipped kernel's compiler, config and flags — and the
 * copy that matched must be the one the differ's sympos names (livepatch resolves the klp_func by that sympos).
 * Objects of loadable modules are not in vmlinux; they are checked at apply time once the module is loaded.
 */
export async function verifyObjects(inputs: VerifyInput[], vmlinux: () => MemorySource): Promise<ObjectVerdict[]> {
  const verdicts: ObjectVerdict[] = [];
  let source: MemorySource | undefined;
  try {
    for (const input of inputs) {
      if (input.objname !== 'vmlinux') {
        verdicts.push({
          object: input.object,
          objname: input.objname,
          status: 'not-checked',
          matched: 0,
          functions: input.patched.length,
          ms: 0,
          detail: `not checked at build time (module object of ${input.objname}; checked at apply time when the module is loaded)`,
        });
        continue;
      }
      source ??= vmlinux();
      const start = performance.now();
      const report = await matchObject(parseElf(input.oldCode), source, { object: input.object });
      const failure = report.functions.find((f) => f.status !== 'matched' && f.status !== 'skipped');
      let detail = failure ? describeFailure(input.object, source.description, failure) : undefined;
      for (const p of input.patched) {
        if (detail) break;
        const m = report.functions.find((f) => f.name === p.oldName);
        if (!m || m.status !== 'matched') detail = `run-pre: ${p.oldName} (${input.object}): the update patches it, but its old code holds no such function`;
        else if (m.sympos !== p.sympos) {
          detail = `run-pre: ${p.oldName} (${input.object}): the differ gave sympos ${p.sympos}, but the copy that matches ${source.description} (0x${m.address.toString(16)}) is sympos ${m.sympos}`;
        }
      }
      verdicts.push({
        object: input.object,
        objname: input.objname,
        status: detail ? 'failed' : 'matched',
        matched: report.matched,
        functions: report.functions.length,
        ms: Math.round(performance.now() - start),
        ...(detail ? { detail } : {}),
        results: report.functions.map((f) => ({
          name: f.name,
          status: f.status,
          ...('address' in f ? { address: `0x${f.address.toString(16)}` } : {}),
          ...('sympos' in f ? { sympos: f.sympos } : {}),
        })),
      });
    }
  } finally {
    source?.close?.();
  }
  return verdicts;
}

/** One summary line per object. */
export function verdictLine(v: ObjectVerdict): string {
  if (v.status === 'not-checked') return `${v.object} [${v.objname}]: ${v.detail}`;
  if (v.status === 'failed') return `${v.object} [${v.objname}]: FAILED (${v.matched}/${v.functions} function(s) matched, ${v.ms} ms): ${v.detail}`;
  return `${v.object} [${v.objname}]: ${v.matched}/${v.functions} function(s) of the old code match vmlinux, sympos checked (${v.ms} ms)`;
}

/** The `verify-pre` target: old code of every changed object against the -dbg vmlinux; a mismatch stops the package. */
export default async function verifyPre(options: VerifyPreOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    await dropPackages(context, [placeOf(options)]);
    const kernel = await kernelFor(options.abi);
    const collected = await readCollected(context, placeOf(options));
    const inputs: VerifyInput[] = [];
    for (const m of collected.markers.filter((x) => x.status === 'changed')) {
      inputs.push({
        object: m.object,
        objname: m.objname,
        // As the kernel's link left the same code (objtool at link time on 6.12), else it cannot equal vmlinux.
        oldCode: await oldCodeAsLinked(kernel, await readFile(join(context.root, layout.oldCode(placeOf(options), m.object))), m.objname !== 'vmlinux', m.object),
        patched: (m.report?.patched ?? []).map((p) => ({ oldName: p.oldName, sympos: p.sympos })),
      });
    }
    const verdicts = await verifyObjects(inputs, () => new VmlinuxSource(kernel.vmlinux, kernel.systemMap));
    await writeOutput(context, verifyReportPath(placeOf(options)), `${JSON.stringify({ id: options.id, abi: kernel.abi, objects: verdicts }, null, 2)}\n`);
    for (const v of verdicts) console.log(`hotsplice: verify-pre: ${verdictLine(v)}`);
    const failed = verdicts.find((v) => v.status === 'failed');
    if (failed) {
      process.stderr.write(`hotsplice: verify-pre: ${failed.detail}\n`);
      return false;
    }
  }, 'hotsplice: verify-pre');
}

/** Several updates’ verify-pre tasks in one process (nx run-many). */
export const batch = eachTask(verifyPre);
