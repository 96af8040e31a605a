// The apply-time run-pre check (Ksplice's run-pre matching, design.md §4): before anything is loaded, compare the
// update's old code — the pre code of every function it replaces — with the code the running kernel executes,
// read through /proc/kcore and /proc/kallsyms (packages/runpre). A difference means the package was built for
// another kernel than the one running (or built wrongly): the update is refused with the first mismatch.
import { readFile } from 'node:fs/promises';
import { type ElfObject, parseElf } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';
import { type FunctionMatch, KcoreSource, type LinkMap, type MemorySource, describeFailure, matchObject } from '@hotsplice/runpre';
import { moduleLoaded } from './livepatch';
import type { OpenedUpdate } from './update-package';

/** One function the manifest lists, as the check saw it. */
export interface FunctionCheck {
  objname: string;
  /** The kernel object it came from (fs/proc/version.o). */
  object: string;
  name: string;
  /** The sympos the update's klp_func carries. */
  sympos: number;
  status: 'matched' | 'mismatch' | 'not-checked';
  /** Where it matched (hex), for matched functions. */
  address?: string;
  /** Why it failed or was not checked (one line). */
  detail?: string;
}

export interface RunPreResult {
  status: 'matched' | 'skipped' | 'mismatch';
  summary: string;
  /** Functions matched. */
  functions?: number;
  ms?: number;
  /** Functions of klp objects that could not be checked now (a module that is not loaded). */
  notChecked?: number;
  /** The first failure, one line (status mismatch). */
  cause?: string;
  results?: FunctionCheck[];
}

/** Where the code of one klp object is read: the live kernel by default; tests pass fixtures or a vmlinux file. */
export type SourceFor = (objname: string) => MemorySource | string;

/**
 * Live memory of vmlinux or of a loaded module; a string says why the object cannot be read now. vmlinux symbols
 * come from the package's link map moved by the KASLR slide when the package has one (reading all of kallsyms costs
 * 0.5–0.8 s in the TCG guest).
 */
export function liveSource(linkMap?: LinkMap): SourceFor {
  return (objname) => {
    if (objname === 'vmlinux') return KcoreSource.open({ linkMap });
    if (!moduleLoaded(objname)) return `module ${objname} is not loaded: livepatch patches it when it loads, and it is not checked now`;
    return KcoreSource.open({ module: objname });
  };
}

/** The package's run-pre-symbols.json, if it has one. */
export async function readLinkMap(update: Pick<OpenedUpdate, 'runPreSymbols'>): Promise<LinkMap | undefined> {
  if (!update.runPreSymbols) return undefined;
  try {
    return JSON.parse(await readFile(update.runPreSymbols, 'utf8')) as LinkMap;
  } catch {
    throw new UserError('run-pre-symbols.json of the update is not JSON');
  }
}

/**
 * Match every function the manifest lists against the code `sourceFor` gives for its klp object, and check that
 * the one that matches is the one the update's sympos names. Nothing throws for a mismatch: the result says.
 */
export async function checkOldCode(manifest: Pick<Manifest, 'objects'>, oldCode: ElfObject, sourceFor: SourceFor = liveSource()): Promise<RunPreResult> {
  const start = performance.now();
  const results: FunctionCheck[] = [];
  for (const o of manifest.objects) {
    const wanted = (detail: string, status: FunctionCheck['status']) =>
      o.functions.map((f): FunctionCheck => ({ objname: o.objname, object: f.object, name: f.name, sympos: f.sympos, status, detail }));
    const source = sourceFor(o.objname);
    if (typeof source === 'string') {
      results.push(...wanted(source, 'not-checked'));
      continue;
    }
    try {
      const report = await matchObject(oldCode, source, { object: o.objname, functions: [...new Set(o.functions.map((f) => f.name))] });
      for (const f of o.functions) results.push(judge(o.objname, f, report.functions.filter((m) => m.name === f.name), source.description));
    } finally {
      source.close?.();
    }
  }
  const ms = Math.round(performance.now() - start);
  const matched = results.filter((r) => r.status === 'matched').length;
  const notChecked = results.filter((r) => r.status === 'not-checked');
  const failed = results.find((r) => r.status === 'mismatch');
  const skippedText = notChecked.length ? `; not checked: ${[...new Set(notChecked.map((r) => r.detail))].join('; ')}` : '';
  if (failed) {
    return { status: 'mismatch', summary: `${failed.detail}`, functions: matched, ms, notChecked: notChecked.length, cause: failed.detail, results };
  }
  return { status: 'matched', summary: `${matched} function(s) matched in ${ms} ms${skippedText}`, functions: matched, ms, notChecked: notChecked.length, results };
}

/** One manifest function against the matcher's entries of that name (old-code.o may hold same-named locals of several objects). */
function judge(objname: string, f: Manifest['objects'][number]['functions'][number], entries: FunctionMatch[], source: string): FunctionCheck {
  const base = { objname, object: f.object, name: f.name, sympos: f.sympos };
  const matched = entries.filter((e): e is Extract<FunctionMatch, { status: 'matched' }> => e.status === 'matched');
  const exact = matched.find((e) => e.sympos === f.sympos);
  if (exact) return { ...base, status: 'matched', address: `0x${exact.address.toString(16)}` };
  if (matched.length) {
    const m = matched[0];
    return {
      ...base,
      status: 'mismatch',
      detail: `run-pre: ${f.name} (${f.object}) matches ${source} at 0x${m.address.toString(16)}, which is sympos ${m.sympos}, but the update patches sympos ${f.sympos}`,
    };
  }
  const failure = entries.find((e) => e.status !== 'matched' && e.status !== 'skipped');
  if (failure) return { ...base, status: 'mismatch', detail: describeFailure(f.object, source, failure) };
  const skipped = entries.find((e) => e.status === 'skipped');
  if (skipped) return { ...base, status: 'not-checked', detail: describeFailure(f.object, source, skipped) };
  return { ...base, status: 'mismatch', detail: `run-pre: ${f.name} (${f.object}): the package's old-code.o holds no function of this name` };
}

export async function readOldCode(update: Pick<OpenedUpdate, 'oldCode'>): Promise<ElfObject> {
  try {
    return parseElf(await readFile(update.oldCode));
  } catch (error) {
    throw new UserError(`old-code.o of the update is not a readable ELF object (${(error as Error).message})`);
  }
}

/**
 * The hook `hotsplice apply` calls before insmod: refuse the update with the abort cause (the first mismatching
 * function, its offset and both byte strings) unless run-pre is skipped.
 */
export async function runPreCheck(update: OpenedUpdate, options: { skip: boolean; sourceFor?: SourceFor }): Promise<RunPreResult> {
  if (options.skip) return { status: 'skipped', summary: 'skipped (--skip-run-pre)' };
  const result = await checkOldCode(update.manifest, await readOldCode(update), options.sourceFor ?? liveSource(await readLinkMap(update)));
  if (result.status === 'mismatch') {
    throw new UserError(`update ${update.manifest.id} refused: the running kernel's code is not the code the update was built against: ${result.cause} (hotsplice apply --skip-run-pre loads it anyway)`);
  }
  return result;
}
