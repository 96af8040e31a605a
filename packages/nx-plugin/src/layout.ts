import { join } from 'node:path';

/**
 * Where the pipeline keeps its files inside the workspace (Nx caches only workspace outputs). Everything of one
 * update for one kernel lives under dist/.hotsplice/<place>/, its package in dist/hotpatch/<place>/. The place is
 * the update id, or `<id>/<abi>` for each kernel of a fleet (placeOf).
 */
export function workDir(place: string): string {
  return join('dist', '.hotsplice', place);
}

/** The place of one kernel's pipeline of a fleet update. */
export function fleetPlace(id: string, abi: string): string {
  return `${id}/${abi}`;
}

/** The place an executor's options name: `place` for a fleet kernel, else the update id. */
export function placeOf(options: { id: string; place?: string }): string {
  return options.place ?? options.id;
}

export const layout = {
  hashDir: (id: string) => join(workDir(id), 'hash'),
  hash: (id: string, object: string, side: 'pre' | 'post') => join(workDir(id), 'hash', `${object}.${side}`),
  affected: (id: string) => join(workDir(id), 'affected.json'),
  /** What the update is made from (hunks that moved or needed fuzz, changed files, a Debian changelog). */
  inputs: (id: string) => join(workDir(id), 'inputs.json'),
  pre: (id: string, object: string) => join(workDir(id), 'pre', object),
  post: (id: string, object: string) => join(workDir(id), 'post', object),
  newCode: (id: string, object: string) => join(workDir(id), 'new', object),
  oldCode: (id: string, object: string) => join(workDir(id), 'old', object),
  /** Makefile.ksplice's `X.o.KSPLICE` marker: the diff's verdict and report for one object. */
  marker: (id: string, object: string) => join(workDir(id), 'marker', `${object}.KSPLICE`),
  collect: (id: string) => join(workDir(id), 'collect.json'),
  link: (id: string) => join(workDir(id), 'link'),
  kbuild: (id: string) => join(workDir(id), 'kbuild'),
  packageDir: (id: string) => join('dist', 'hotpatch', id),
  /** A fleet update's summary: every kernel's package or the reason it has none. */
  fleetSummary: (id: string) => join('dist', 'hotpatch', id, 'fleet.json'),
};

/**
 * The Nx project of an update: `kernel` for the workspace's own hotpatch.json, `kernel-<id>` for others (such as
 * the ones `hotsplice create` writes), so several updates live in one graph.
 */
export function kernelProjectName(root: string, id: string): string {
  return root === '.' ? 'kernel' : `kernel-${id}`;
}

/**
 * The tag every object project of one update carries: how `collect` depends on all their `diff` tasks and the
 * manifest finds the objects, without naming them in the update's own project. Nx hashes a project's whole
 * configuration into each of its tasks, so an object list there would re-run every kernel task (prepare included)
 * whenever the patch touched one more object; `check` (only `try` reads it) is left out for the same reason.
 */
export function updateTag(kernelProject: string): string {
  return `hotsplice:of:${kernelProject}`;
}

/**
 * One Nx project per affected object, named after its directory and file (`kernel-fs-proc-version`), holding its
 * `snap` and `diff` targets. Nx puts a project's whole configuration into each of its tasks' hashes: with one
 * project per directory, adding an object of the same directory to the patch re-ran every task of that directory
 * (measured), so each object gets its own project (see docs/decisions.md).
 */
export function objectProject(object: string, kernelProject = 'kernel'): { name: string; root: string; target: (step: 'snap' | 'diff') => string } {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, '_');
  return {
    name: `${kernelProject}-${safe(object.replace(/\.o$/, '').replace(/\//g, '-'))}`,
    // A virtual root: these projects have no files of their own, all their inputs are declared explicitly.
    root: join(`.hotsplice-${kernelProject}`, object),
    target: (step) => step,
  };
}
