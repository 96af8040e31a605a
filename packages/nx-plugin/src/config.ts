import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** hotpatch.json: what to build and for which kernel. */
export interface HotpatchConfig {
  /** Update id: names the module, the package and dist/hotpatch/<id>/. */
  id: string;
  kernel: { abi: string };
  /**
   * A fleet: every kernel the update is built for (ABIs, `newest`, `newest-<release>`), from `"kernels": [...]` or
   * `"fleet": "FILE"` (one per line, `#` comments). Each gets its own pipeline and `dist/hotpatch/<id>/<abi>/`.
   */
  kernels?: string[];
  patches: string[];
  /** A git range whose diff is the patch: `{ "repo": "path", "range": "v1..v2" }` (ksplice-create --git). */
  git?: { repo?: string; range: string };
  /** Changed copies of tree files, `<dir>/<tree path><ext>` (ksplice-create --diffext). */
  diffext?: { dir: string; ext: string };
  /**
   * A Debian kernel version (`6.1.192-3`) whose linux-source changes, relative to the ABI's own version, are the
   * patch: one cumulative update of every change that can be carried; the rest is reported, never dropped.
   */
  debianUpdate?: string;
  /**
   * Only these files of the Debian update (tree paths, or directories ending in `/`): the rest is reported as not
   * selected, and the update is partial (ship one subsystem's fixes of a large stable update first).
   */
  debianFiles?: string[];
  /** Atomic replace (klp_patch.replace): loading this update replaces every update applied before it. */
  replace?: boolean;
  /** A shell command whose output shows the patch, run in the guest by `nx run kernel:try`. */
  check?: string;
  /** A compiler wrapper such as "distcc" (HOTSPLICE_CC_WRAPPER overrides it); it changes no cache key. */
  ccWrapper?: string;
  /** Context lines a hunk may ignore to apply (GNU patch's fuzz); 0, exact context, unless set. */
  fuzz?: number;
  /**
   * The update's patch level: updates of one ABI form a sequence, level N cumulative (it holds every fix of the
   * levels before it) and atomic replace, so it takes over level N-1 in one transition. Its .deb's version.
   */
  level?: number;
  /** CVE ids the update fixes, beside those its patches' headers name (report, manifest, `hotsplice status`). */
  cves?: string[];
}

/** GNU patch's hunks have at most 3 context lines on a side (diff -u): a larger fuzz ignores all of them. */
export const MAX_FUZZ = 3;

/** The kernel requests of a fleet file: one per line; blank lines and `#` comments are skipped. */
export function parseFleetFile(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

function fleetOf(file: string, config: { kernels?: unknown; fleet?: unknown }): string[] | undefined {
  if (config.kernels !== undefined && config.fleet !== undefined) throw new Error(`${file}: give "kernels" or "fleet", not both`);
  let kernels = config.kernels;
  if (config.fleet !== undefined) {
    if (typeof config.fleet !== 'string') throw new Error(`${file}: "fleet" must name a file of kernel ABIs, one per line`);
    const fleetFile = resolve(dirname(file), config.fleet);
    try {
      kernels = parseFleetFile(readFileSync(fleetFile, 'utf8'));
    } catch {
      throw new Error(`${file}: cannot read the fleet file ${fleetFile}`);
    }
  }
  if (kernels === undefined) return undefined;
  if (!Array.isArray(kernels) || !kernels.length || !kernels.every((k) => typeof k === 'string' && /^[\w.+-]+$/.test(k))) {
    throw new Error(`${file}: "kernels" must be a non-empty list of kernel ABIs (or newest, newest-bookworm, newest-trixie)`);
  }
  if (new Set(kernels).size !== kernels.length) throw new Error(`${file}: "kernels" names a kernel twice`);
  return kernels as string[];
}

export function readHotpatchConfig(file: string): HotpatchConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = raw as Partial<HotpatchConfig>;
  if (typeof config.id !== 'string' || !/^[a-z0-9_]+$/.test(config.id)) {
    throw new Error(`${file}: "id" must be lower-case letters, digits and '_' (it names a kernel module)`);
  }
  const patches = config.patches ?? [];
  if (!Array.isArray(patches) || !patches.every((p) => typeof p === 'string')) {
    throw new Error(`${file}: "patches" must be a list of patch files`);
  }
  if (config.git && typeof config.git.range !== 'string') throw new Error(`${file}: "git.range" must be a revision range`);
  if (config.diffext && (typeof config.diffext.dir !== 'string' || typeof config.diffext.ext !== 'string')) {
    throw new Error(`${file}: "diffext" needs "dir" and "ext"`);
  }
  if (config.check !== undefined && typeof config.check !== 'string') throw new Error(`${file}: "check" must be a shell command`);
  if (config.ccWrapper !== undefined && typeof config.ccWrapper !== 'string') throw new Error(`${file}: "ccWrapper" must be a command, e.g. "distcc"`);
  if (config.replace !== undefined && typeof config.replace !== 'boolean') throw new Error(`${file}: "replace" must be true or false`);
  if (config.fuzz !== undefined && !(Number.isInteger(config.fuzz) && config.fuzz >= 0 && config.fuzz <= MAX_FUZZ)) {
    throw new Error(`${file}: "fuzz" must be a whole number of context lines from 0 to ${MAX_FUZZ}`);
  }
  if (config.debianUpdate !== undefined && !(typeof config.debianUpdate === 'string' && /^\d[\w.+~-]*$/.test(config.debianUpdate))) {
    throw new Error(`${file}: "debianUpdate" must be a Debian package version such as "6.1.192-3"`);
  }
  if (config.debianFiles !== undefined) {
    if (!config.debianUpdate) throw new Error(`${file}: "debianFiles" selects files of a "debianUpdate"`);
    if (!Array.isArray(config.debianFiles) || !config.debianFiles.length || !config.debianFiles.every((f) => typeof f === 'string' && /^[\w.+-][\w./+-]*$/.test(f) && !f.includes('..'))) {
      throw new Error(`${file}: "debianFiles" must be a list of tree paths (a directory ends in /)`);
    }
  }
  if (config.level !== undefined) {
    if (!(Number.isInteger(config.level) && config.level >= 1)) throw new Error(`${file}: "level" must be a whole number from 1 up`);
    // Level N must take over N-1 in one transition, whatever of the sequence is loaded: only atomic replace does.
    if (config.replace !== true) throw new Error(`${file}: "level" needs "replace": true (level N takes over level N-1 by atomic replace)`);
  }
  if (config.cves !== undefined && !(Array.isArray(config.cves) && config.cves.every((c) => typeof c === 'string' && /^CVE-\d{4}-\d{4,}$/.test(c)))) {
    throw new Error(`${file}: "cves" must be a list of CVE ids such as "CVE-2024-1234"`);
  }
  if (!patches.length && !config.git && !config.diffext && !config.debianUpdate) throw new Error(`${file}: give "patches", "git", "diffext" or "debianUpdate"`);
  const kernels = fleetOf(file, raw as { kernels?: unknown; fleet?: unknown });
  if (kernels && config.kernel) throw new Error(`${file}: give "kernel" or a fleet ("kernels", "fleet"), not both`);
  return {
    id: config.id,
    kernel: { abi: config.kernel?.abi ?? kernels?.[0] ?? 'newest' },
    ...(kernels ? { kernels } : {}),
    patches,
    git: config.git,
    diffext: config.diffext,
    ...(config.debianUpdate ? { debianUpdate: config.debianUpdate } : {}),
    ...(config.debianFiles ? { debianFiles: config.debianFiles } : {}),
    replace: config.replace ?? false,
    fuzz: config.fuzz ?? 0,
    ...(config.check ? { check: config.check } : {}),
    ...(config.ccWrapper?.trim() ? { ccWrapper: config.ccWrapper.trim() } : {}),
    ...(config.level !== undefined ? { level: config.level } : {}),
    ...(config.cves ? { cves: config.cves } : {}),
  };
}

/** Whether a Debian update's file is among the selected ones (all are when nothing is selected). */
export function selected(config: Pick<HotpatchConfig, 'debianFiles'>, path: string): boolean {
  return !config.debianFiles || config.debianFiles.some((f) => (f.endsWith('/') ? path.startsWith(f) : path === f));
}
