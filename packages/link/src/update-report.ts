import type { ChangeKind, ChangelogItem } from '@hotsplice/kernel';
import type { DiffReport } from '@hotsplice/objdiff';
import { type HunkNote, describeHunk } from '@hotsplice/tree';

/** One changed file of the update's input, as the manifest step saw it (before anything was built). */
export interface InputFile {
  path: string;
  /** A patched source (`source`), a file this config builds nothing from, or one no live patch can carry. */
  kind: ChangeKind | 'not-built' | 'not-selected';
  reason?: string;
  /** The objects rebuilt for a source: its own, or its includers'. */
  objects?: string[];
}

/** What the update was made from, beside the differ's verdicts: hunks, files, and a Debian update's changelog. */
export interface UpdateInputs {
  hunks: HunkNote[];
  files: InputFile[];
  /** `create --debian-update`: the versions and the changelog items between them. */
  debian?: { from: string; to: string; changelog: ChangelogItem[] };
  /** hotpatch.json "level": the update's place in its ABI's sequence of cumulative atomic-replace updates. */
  level?: number;
  /** CVE ids the update's author says it fixes: hotpatch.json "cves" and the patches' headers. */
  cves?: string[];
}

export type Outcome = 'built' | 'no functional change' | 'refused' | 'not built in this config' | 'not live-patchable' | 'not selected' | 'outside the kernel';

export interface FileOutcome {
  path: string;
  outcome: Outcome;
  /** The functions it changed (built), or why it is not carried. */
  detail: string;
}

/** Changes that affect the running kernel but are not in the update: they make a create "partial". */
export const NOT_CARRIED: Outcome[] = ['refused', 'not live-patchable', 'not selected'];

/** Each input file's fate: its objects' verdicts for a source, its classification for the rest. */
export function fileOutcomes(files: InputFile[], reports: DiffReport[]): FileOutcome[] {
  const byObject = new Map(reports.map((r) => [r.object, r]));
  return files.map((file) => {
    if (file.kind === 'not-built') return { path: file.path, outcome: 'not built in this config', detail: '' };
    if (file.kind === 'not-selected') return { path: file.path, outcome: 'not selected', detail: '' };
    if (file.kind === 'outside-the-kernel') return { path: file.path, outcome: 'outside the kernel', detail: file.reason ?? '' };
    if (file.kind === 'not-live-patchable') return { path: file.path, outcome: 'not live-patchable', detail: file.reason ?? '' };
    const mine = (file.objects ?? []).flatMap((o) => byObject.get(o) ?? []);
    const refused = mine.flatMap((r) => r.refused.map((x) => `${r.object}: ${x.symbol}: ${x.reason}`));
    if (refused.length) return { path: file.path, outcome: 'refused', detail: refused.join('; ') };
    // A file may change no function and still ship: it registers callbacks (an object with callbacks only).
    const carried = mine.flatMap((r) => [...r.changed, ...(r.callbacks ?? []).map((c) => `${c.function} (${c.kind} callback)`)]);
    return carried.length ? { path: file.path, outcome: 'built', detail: carried.join(', ') } : { path: file.path, outcome: 'no functional change', detail: '' };
  });
}

export type Coverage = 'carried' | 'not carried' | 'not in this kernel' | 'unknown';

/**
 * Which changelog items the update carries, told from their titles and the files: an item's subsystem prefix
 * (`nfsd:`, `io_uring/io-wq:`, `wifi: rtl8xxxu:`) names the changed files it belongs to by a path component. Carried
 * when every such file is built or changes no code, not carried when one is refused or not live-patchable, not in
 * this kernel when none is built here, unknown when no file could be matched.
 */
export function changelogCoverage(items: ChangelogItem[], outcomes: FileOutcome[]): Array<ChangelogItem & { coverage: Coverage; files: string[] }> {
  return items.map((item) => {
    const tokens = subsystemTokens(item.title);
    // `fs/ntfs3:` is about ntfs3, not all of fs/; `mm:` alone is about mm/.
    const specific = tokens.filter((t) => !TOP_LEVEL.has(t));
    const files = outcomes.filter((o) => (specific.length ? specific : tokens).some((token) => pathNames(o.path).includes(token)));
    const coverage: Coverage = !files.length
      ? 'unknown'
      : files.some((f) => NOT_CARRIED.includes(f.outcome))
        ? 'not carried'
        : files.every((f) => f.outcome === 'not built in this config' || f.outcome === 'outside the kernel')
          ? 'not in this kernel'
          : 'carried';
    return { ...item, coverage, files: files.map((f) => f.path) };
  });
}

const loose = (name: string) => name.toLowerCase().replace(/-/g, '_');

/** The tree's top-level directories: too wide to tie an item to files when it names anything narrower. */
const TOP_LEVEL = new Set(['arch', 'block', 'crypto', 'drivers', 'fs', 'include', 'init', 'io_uring', 'ipc', 'kernel', 'lib', 'mm', 'net', 'security', 'sound', 'virt']);

/** `wifi: rtl8xxxu: fix …` → [wifi, rtl8xxxu]; `io_uring/io-wq: …` → [io_uring, io_wq]. */
function subsystemTokens(title: string): string[] {
  const prefix = /^((?:[\w.,/-]+: )+)/.exec(title)?.[1] ?? '';
  return prefix.split(/[:/ ,]+/).filter((t) => t.length > 1).map(loose);
}

/** fs/nfsd/nfs4state.c → [fs, nfsd, nfs4state]. */
function pathNames(path: string): string[] {
  return path.split('/').map((part) => loose(part.replace(/\.[ch]$/, '')));
}

/** The summary's sections for the inputs: files not in the update (or all, for a Debian update), CVEs, hunks. */
export function inputSections(inputs: UpdateInputs | undefined, outcomes: FileOutcome[]): string[] {
  if (!inputs) return [];
  const lines: string[] = [];
  const shown = inputs.debian ? outcomes.filter((o) => o.outcome !== 'outside the kernel') : outcomes.filter((o) => o.outcome !== 'built');
  if (shown.length) {
    lines.push('', inputs.debian ? `changed files (Debian ${inputs.debian.from} -> ${inputs.debian.to}):` : 'changed files not in the update:');
    lines.push(...shown.map((o) => `  ${o.path}: ${o.outcome}${o.detail ? ` (${o.detail})` : ''}`));
  }
  const outside = outcomes.filter((o) => o.outcome === 'outside the kernel').length;
  if (inputs.debian && outside) lines.push(`  and ${outside} file(s) outside the kernel (documentation, other architectures, tools, scripts)`);
  if (inputs.debian) {
    const items = changelogCoverage(inputs.debian.changelog, outcomes).filter((i) => i.cves.length);
    if (items.length) lines.push('', 'CVEs of the changelog:', ...items.map((i) => `  ${i.cves.join(' ')}: ${i.coverage} (${i.title})`));
  }
  const fuzzed = inputs.hunks.filter((h) => h.fuzz).map((h) => `  ${h.patch}: ${describeHunk(h)}`);
  const moved = inputs.hunks.filter((h) => !h.fuzz).map((h) => `  ${h.patch}: ${describeHunk(h)}`);
  // A fuzzed hunk matched context that differs from the patch's: whoever ships it must look at where it landed.
  if (fuzzed.length) lines.push('', 'hunks applied with FUZZ (context that does not match the patch):', ...fuzzed);
  if (moved.length) lines.push('', 'hunks applied at an offset:', ...moved);
  return lines;
}
