import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type KernelPaths, UserError } from '@hotsplice/kernel';
import type { DiffReport } from '@hotsplice/objdiff';
import { type FileOutcome, type UpdateInputs, fileOutcomes, inputSections } from './update-report';
import { readBuildId } from './build-id';
import { updateFixes } from './fixes';
import { metaObjects, moduleName } from './meta';
import { type TarMember, tarGz } from './tar';

export const MANIFEST_FORMAT = 'hotsplice-update/1';

export interface PackageOptions {
  id: string;
  /** The package folder, e.g. dist/hotpatch/<id>. */
  outDir: string;
  kernel: Pick<KernelPaths, 'abi' | 'version' | 'vmlinux'>;
  /** The finished livepatch module (linkModule). */
  ko: string;
  /** The old-code object (linkOldCode). */
  oldCode: string;
  /** The differ's reports of every affected object (changed, unchanged or refused). */
  reports: DiffReport[];
  /** What the update was made from: hunks that moved or needed fuzz, the changed files, a Debian changelog. */
  inputs?: UpdateInputs;
  patches: Array<{ name: string; text: string }>;
  replace?: boolean;
  /** More members, e.g. run-pre-symbols.json (the vmlinux addresses the apply-time run-pre check needs). */
  extraMembers?: TarMember[];
}

/** report.json: what the update was made from, each changed file's fate, and the differ's report per object. */
export interface UpdateReport extends UpdateInputs {
  id: string;
  outcomes: FileOutcome[];
  objects: DiffReport[];
}

/** manifest.json: what `hotsplice apply` checks before loading, and what the package holds. */
export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  /** The module's name: insmod loads `<module>.ko`, livepatch shows /sys/kernel/livepatch/<module>. */
  module: string;
  kernel: { abi: string; version: string; vmlinuxBuildId: string };
  replace: boolean;
  patches: Array<{ name: string; sha256: string }>;
  /** sha256 of every other member of the tarball. */
  members: Record<string, string>;
  /**
   * Byte size of every member in `members`: apply refuses to unpack more (a gzip bomb). Absent in packages written
   * before it existed; those also carry manifest.json after the module instead of first.
   */
  sizes?: Record<string, number>;
  /** The functions the module replaces, per klp object. */
  objects: Array<{
    objname: string;
    /** forceUnsafe: the patch marks it hotsplice_force_unsafe (KPATCH_FORCE_UNSAFE); apply may force the transition. */
    functions: Array<{ name: string; sympos: number; object: string; newSymbol: string; forceUnsafe?: true }>;
  }>;
  /** Its place in the ABI's sequence of cumulative atomic-replace updates (absent: a standalone update). */
  level?: number;
  /** The CVE ids it fixes (fixes.ts). Absent in packages written before delivery existed. */
  cves?: string[];
  /** The newest Debian kernel version whose every fix is live with it (fixes.ts). */
  effectiveVersion?: string;
}

export interface PackageResult {
  /** `<outDir>/hotsplice-<id>.tar.gz` */
  tarball: string;
  /** `<outDir>/report.json` (the same as the member) */
  report: string;
  /** `<outDir>/summary.txt` */
  summary: string;
  manifest: Manifest;
}

/**
 * The update package: `<outDir>/hotsplice-<id>.tar.gz` holding `<module>.ko`, `old-code.o`, `manifest.json` and
 * `report.json`, with `report.json` and a readable `summary.txt` beside it. Same inputs, same bytes.
 */
export async function writePackage(options: PackageOptions): Promise<PackageResult> {
  const module = moduleName(options.id);
  const [ko, oldCode] = await Promise.all([readInput(options.ko, 'module'), readInput(options.oldCode, 'old code')]);
  const inputs = options.inputs ?? { hunks: [], files: [] };
  const outcomes = fileOutcomes(inputs.files, options.reports);
  const updateReport: UpdateReport = { id: options.id, ...inputs, outcomes, objects: options.reports };
  const fixes = updateFixes(inputs, outcomes, options.kernel.version);
  const report = `${JSON.stringify(updateReport, null, 2)}\n`;
  const members: TarMember[] = [
    { name: `${module}.ko`, data: ko },
    { name: 'old-code.o', data: oldCode },
    { name: 'report.json', data: Buffer.from(report) },
    ...(options.extraMembers ?? []),
  ];
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id: options.id,
    module,
    kernel: { abi: options.kernel.abi, version: options.kernel.version, vmlinuxBuildId: readBuildId(options.kernel.vmlinux) },
    replace: options.replace ?? false,
    patches: options.patches.map((p) => ({ name: p.name, sha256: sha256(p.text) })),
    members: Object.fromEntries(members.map((m) => [m.name, sha256(m.data)])),
    sizes: Object.fromEntries(members.map((m) => [m.name, m.data.length])),
    objects: metaObjects(options.reports).map((o) => ({
      objname: o.objname,
      functions: o.funcs.map((f) => ({ name: f.oldName, sympos: f.sympos, object: f.object, newSymbol: f.newSymbol, ...(f.forceUnsafe ? { forceUnsafe: true as const } : {}) })),
    })),
    ...(inputs.level !== undefined ? { level: inputs.level } : {}),
    cves: fixes.cves,
    effectiveVersion: fixes.effectiveVersion,
  };
  members.push({ name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });

  await mkdir(options.outDir, { recursive: true });
  const tarball = join(options.outDir, `hotsplice-${options.id}.tar.gz`);
  const reportPath = join(options.outDir, 'report.json');
  const summaryPath = join(options.outDir, 'summary.txt');
  // manifest.json first: the reader knows every member's size before it unpacks one.
  await atomicWrite(tarball, tarGz(members, { first: ['manifest.json'] }));
  await atomicWrite(reportPath, report);
  await atomicWrite(summaryPath, summary(options, manifest, ko.length));
  return { tarball, report: reportPath, summary: summaryPath, manifest };
}

/** The human summary: one row per object (klp object, changed, new, refused), then refusals with reasons. */
export function summary(options: Pick<PackageOptions, 'id' | 'kernel' | 'reports' | 'inputs'>, manifest: Manifest, koBytes: number): string {
  const list = (names: string[]) => (names.length ? names.join(', ') : '-');
  const rows = [
    ['object', 'klp object', 'changed', 'new', 'refused'],
    ...[...options.reports]
      .sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0))
      .map((r) => [r.object, r.objname, list(r.changed), list([...r.new, ...r.newData]), list(r.refused.map((x) => x.symbol))]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd());
  const functions = manifest.objects.reduce((n, o) => n + o.functions.length, 0);
  const lines = [
    `hotsplice update ${options.id} for Linux ${options.kernel.abi} (Debian ${options.kernel.version})`,
    `module ${manifest.module}.ko (${koBytes} bytes): ${functions} function(s) in ${manifest.objects.map((o) => o.objname).join(', ') || 'no object'}`,
    `package hotsplice-${options.id}.tar.gz`,
    ...(manifest.level !== undefined ? [`patch level ${manifest.level} of ${options.kernel.abi} (atomic replace: takes over every earlier level)`] : []),
    `fixes ${manifest.cves?.length ? manifest.cves.join(' ') : 'no CVE named'}; effective Debian version ${manifest.effectiveVersion ?? options.kernel.version}`,
    '',
    ...table,
  ];
  // ftrace cannot redirect a notrace function: the callers that carry its change are what livepatch switches.
  const carried = options.reports.flatMap((r) => (r.promoted ?? []).map((p) => `  ${r.object}: ${p.function}, carried by ${p.calledBy.join(', ')}`));
  if (carried.length) lines.push('', 'notrace functions carried by their callers:', ...carried);
  const ignored = options.reports.flatMap((r) => (r.ignored ?? []).map((name) => `  ${r.object}: ${name}`));
  if (ignored.length) lines.push('', 'changed, left out as the patch asks (hotsplice_ignore_*, KPATCH_IGNORE_*):', ...ignored);
  const forced = options.reports.flatMap((r) => (r.forced ?? []).map((name) => `  ${r.object}: ${name}`));
  if (forced.length) lines.push('', 'marked force-unsafe (old and new copies may run side by side):', ...forced);
  const refused = options.reports.flatMap((r) => r.refused.map((x) => `  ${r.object}: ${x.symbol}: ${x.reason}`));
  if (refused.length) lines.push('', 'refused:', ...refused);
  lines.push(...inputSections(options.inputs, fileOutcomes(options.inputs?.files ?? [], options.reports)));
  return `${lines.join('\n')}\n`;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function readInput(path: string, what: string): Promise<Buffer> {
  return readFile(path).catch(() => {
    throw new UserError(`cannot read the ${what} ${path}`);
  });
}

/** Write then rename: a reader never sees half a package. */
async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const partial = `${path}.partial-${process.pid}`;
  await writeFile(partial, data);
  await rename(partial, path);
}
