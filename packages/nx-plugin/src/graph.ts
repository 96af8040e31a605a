import { join } from 'node:path';
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import type { HotpatchConfig } from './config';
import { fleetPlace, kernelProjectName, layout, objectProject, updateTag, workDir } from './layout';

type Projects = Record<string, Omit<ProjectConfiguration, 'root'> & { root?: string }>;

const PLUGIN = '@hotsplice/nx-plugin';

/** The code each step runs: part of its cache key, so a change to the pipeline invalidates its results. */
const CODE = {
  tree: ['{workspaceRoot}/packages/tree/src/**/*', '{workspaceRoot}/tools/kernel/src/**/*', '{workspaceRoot}/packages/nx-plugin/src/**/*'],
  diff: ['{workspaceRoot}/packages/objdiff/src/**/*', '{workspaceRoot}/packages/elf/src/**/*'],
  /** The link stage and the loader, and the plugin's own executors (link.ts, package.ts). */
  link: ['{workspaceRoot}/packages/link/src/**/*', '{workspaceRoot}/kernel-module/**/*', '{workspaceRoot}/packages/nx-plugin/src/**/*'],
  /** The run-pre matcher verify-pre runs, the link-time objtool pass it gives old code, the plugin's executor. */
  runpre: [
    '{workspaceRoot}/packages/runpre/src/**/*',
    '{workspaceRoot}/packages/elf/src/**/*',
    '{workspaceRoot}/packages/link/src/**/*',
    '{workspaceRoot}/tools/kernel/src/**/*',
    '{workspaceRoot}/packages/nx-plugin/src/**/*',
  ],
  /** The target CLI bundled beside the package, and run-pre's link map written into it. */
  target: [
    '{workspaceRoot}/packages/cli/src/**/*',
    // hotsplice-tools' unit and version (the .deb beside the package).
    '{workspaceRoot}/packages/cli/systemd/*',
    '{workspaceRoot}/packages/cli/package.json',
    '{workspaceRoot}/packages/runpre/src/**/*',
    '{workspaceRoot}/packages/elf/src/**/*',
    '{workspaceRoot}/tools/guest/src/**/*',
    '{workspaceRoot}/tools/kernel/src/**/*',
  ],
};

/**
 * One kernel's pipeline of an update: the kernel requested (an ABI, newest, newest-<release>), the place its files
 * go (layout.ts) and its Nx project. A plain update has one, at the update's own place and project; a fleet update
 * one per kernel, at `<id>/<abi>` in project `<update project>-<abi>`.
 */
export interface KernelScope {
  abi: string;
  place: string;
  project: string;
  /** The project's root: hotpatch.json's folder, or a virtual one for each kernel of a fleet (roots are unique). */
  root: string;
}

export function singleScope(root: string, config: HotpatchConfig): KernelScope {
  return { abi: config.kernel.abi, place: config.id, project: kernelProjectName(root, config.id), root };
}

/** The scope of one kernel of a fleet; `abi` is what the request resolved to. */
export function fleetScope(root: string, config: HotpatchConfig, request: string, abi: string): KernelScope {
  const project = fleetProjectName(root, config.id, abi);
  return { abi: request, place: fleetPlace(config.id, abi), project, root: `.hotsplice-${project}` };
}

export function fleetProjectName(root: string, id: string, abi: string): string {
  return `${kernelProjectName(root, id)}-${abi.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

function prepareTarget(config: HotpatchConfig, abi = config.kernel.abi): TargetConfiguration {
  return {
    executor: `${PLUGIN}:prepare`,
    // The kernel lives in a cache outside the workspace, which Nx cannot hash; this stamp of it (the resolved ABI,
    // the prepared marker, apt's lists, the system packages' status) stands in for it.
    cache: true,
    inputs: [{ runtime: 'bash tools/setup/prepared-stamp.sh' }, '{workspaceRoot}/tools/setup/*', ...CODE.tree],
    outputs: [],
    options: { abi, ...(config.debianUpdate ? { debianUpdate: config.debianUpdate } : {}) },
  };
}

/**
 * Fresh machine, a tree kbuild's plan was not made for, or a header change not narrowed yet (or bad input):
 * prepare, plan, then run Nx again now that the graph can see the objects.
 */
export function unpreparedProject(root: string, config: HotpatchConfig, error?: string): Projects {
  const hotpatch: TargetConfiguration = error
    ? { executor: `${PLUGIN}:fail`, cache: false, options: { message: error } }
    : {
        executor: `${PLUGIN}:renest`,
        cache: false,
        dependsOn: ['plan'],
        // Nx refuses a nested run of the very task that runs it (its loop detection): run `package`, then show
        // the summary that `hotpatch` would have shown.
        options: { target: `${kernelProjectName(root, config.id)}:package`, summary: `${layout.packageDir(config.id)}/summary.txt` },
      };
  const plan: TargetConfiguration = {
    executor: `${PLUGIN}:plan`,
    cache: false,
    dependsOn: ['prepare'],
    options: { abi: config.kernel.abi, root, notBuilt: config.debianUpdate ? 'report' : 'refuse' },
  };
  const targets: Record<string, TargetConfiguration> = { prepare: prepareTarget(config), plan, hotpatch };
  if (!error) targets.try = tryTarget(root, config, ['hotpatch']);
  return { [root]: { name: kernelProjectName(root, config.id), targets } };
}

/** `try`: boot the guest and apply / undo the package that `after` leaves in dist/hotpatch/<place>. */
function tryTarget(root: string, config: HotpatchConfig, after: string[], scope = singleScope(root, config), extra: Record<string, unknown> = {}): TargetConfiguration {
  return {
    executor: `${PLUGIN}:try`,
    cache: false,
    dependsOn: after,
    // `root`: try reads "check" from hotpatch.json itself (see updateTag).
    options: { id: config.id, abi: scope.abi, root, ...placeOption(config, scope), ...extra },
  };
}

/** Executors put their files at the update's own place unless told another (a fleet's kernel). */
function placeOption(config: HotpatchConfig, scope: KernelScope): { place?: string } {
  return scope.place === config.id ? {} : { place: scope.place };
}

/**
 * A fleet update's own project: `hotpatch` prepares every kernel, builds each one's package in a nested Nx run
 * (one failing kernel does not stop the others) and writes the fleet summary; `try` boots one of them (`--abi`).
 */
export function fleetProject(root: string, config: HotpatchConfig): Projects {
  const kernels = config.kernels ?? [config.kernel.abi];
  const targets: Record<string, TargetConfiguration> = {
    hotpatch: { executor: `${PLUGIN}:fleet`, cache: false, options: { id: config.id, root, kernels } },
    try: tryTarget(root, config, [], singleScope(root, config), { fleet: true }),
  };
  return { [root]: { name: kernelProjectName(root, config.id), targets } };
}

/**
 * What the manifest step reads outside the workspace, named for its cache key: the prepared tree and a digest of
 * the update's own inputs (its patches' texts and hotpatch.json), both found at graph time (index.ts updateKey).
 */
export interface ManifestStamp {
  tree: string;
  key: string;
  /** The compiler whose version line the manifest hashes (hotpatch.json's chosen one, else kbuild's CC)… */
  compiler: string;
  /** …and the build root it runs in, if any. */
  buildRoot?: string;
}

export function pipelineProjects(root: string, config: HotpatchConfig, objects: string[], stamp: ManifestStamp, scope = singleScope(root, config)): Projects {
  const { id } = config;
  const { abi, place } = scope;
  const fleet = scope.place !== id;
  // Outputs live under the workspace's dist/ whatever folder hotpatch.json is in (the id keeps updates apart).
  const at = (path: string) => `{workspaceRoot}/${path}`;
  const projects: Projects = {};
  const kernelProject = scope.project;
  const where = placeOption(config, scope);
  const manifestDep = { projects: [kernelProject], target: 'manifest' };
  for (const object of objects) {
    const p = objectProject(object, kernelProject);
    const snap: TargetConfiguration = {
      executor: `${PLUGIN}:snap`,
      cache: true,
      dependsOn: [manifestDep],
      inputs: [{ dependentTasksOutputFiles: `**/hash/${object}.pre` }, ...CODE.tree],
      outputs: [at(layout.pre(place, object))],
      // `root`: snap reads a chosen "compiler" (and "ccWrapper") from hotpatch.json itself.
      options: { id, ...where, object, abi, root },
    };
    const diff: TargetConfiguration = {
      executor: `${PLUGIN}:diff`,
      cache: true,
      dependsOn: [p.target('snap'), manifestDep],
      inputs: [
        { dependentTasksOutputFiles: `**/hash/${object}.post` },
        { dependentTasksOutputFiles: `**/pre/${object}` },
        ...CODE.tree,
        ...CODE.diff,
        '{workspaceRoot}/kernel-module/include/linux/*',
        '{workspaceRoot}/kernel-module/include/kpatch-*.h',
      ],
      outputs: [at(layout.post(place, object)), at(layout.newCode(place, object)), at(layout.oldCode(place, object)), at(layout.marker(place, object))],
      options: { id, ...where, object, abi, root },
    };
    projects[p.root] ??= { name: p.name, tags: ['hotsplice:object', updateTag(kernelProject)], targets: {} };
    Object.assign(projects[p.root].targets!, { [p.target('snap')]: snap, [p.target('diff')]: diff });
  }

  const kernelTargets: Record<string, TargetConfiguration> = {
    prepare: prepareTarget(config, abi),
    // It hashes the kernel tree (outside the workspace) into files Nx can see. Its own key reads that tree too, as
    // a runtime input: the content of every file the objects' kbuild records name (tools/setup/tree-stamp.sh), so a
    // run with nothing changed restores it instead of starting a process for it.
    manifest: {
      executor: `${PLUGIN}:manifest`,
      cache: true,
      dependsOn: ['prepare'],
      inputs: [
        { runtime: 'bash tools/setup/prepared-stamp.sh' },
        { runtime: ['bash', 'tools/setup/tree-stamp.sh', stamp.key, stamp.tree, stamp.buildRoot ?? '-', stamp.compiler, ...objects].map(shellQuote).join(' ') },
        '{workspaceRoot}/tools/setup/*',
        ...CODE.tree,
        // The update's module name and the CVEs of its patches' headers (link's moduleName, cvesOfPatchHeader).
        '{workspaceRoot}/packages/link/src/**/*',
      ],
      outputs: [at(layout.hashDir(place)), at(layout.affected(place)), at(layout.inputs(place))],
      options: { id, ...where, abi, root },
    },
    collect: {
      executor: `${PLUGIN}:collect`,
      cache: true,
      dependsOn: [{ projects: [`tag:${updateTag(kernelProject)}`], target: 'diff' }],
      // The update's inputs reach the report through collect.json: the manifest is two steps up.
      inputs: [{ dependentTasksOutputFiles: '**/marker/**/*.KSPLICE' }, { dependentTasksOutputFiles: '**/inputs.json', transitive: true }, ...CODE.tree],
      outputs: [at(layout.collect(place))],
      // A Debian update ships what it can carry and reports the rest; a patch of one's own is all or nothing.
      options: { id, ...where, partial: Boolean(config.debianUpdate) },
    },
    link: {
      executor: `${PLUGIN}:link`,
      cache: true,
      dependsOn: ['collect'],
      inputs: [
        { dependentTasksOutputFiles: '**/collect.json' },
        { dependentTasksOutputFiles: '**/new/**/*.o', transitive: true },
        { dependentTasksOutputFiles: '**/old/**/*.o', transitive: true },
        ...CODE.link,
      ],
      outputs: [at(layout.link(place))],
      // `root`: link reads a chosen "compiler" from hotpatch.json itself.
      options: { id, ...where, abi, root, replace: config.replace ?? false },
    },
    // Build-time run-pre: the old code of every changed vmlinux object against the -dbg vmlinux (same compiler,
    // config and flags as the shipped kernel) and the differ's sympos against the copy that matched. The vmlinux
    // itself is outside the workspace; its identity reaches the hash through the old code (pre objects are keyed
    // by the manifest's hashes of the ABI's tree).
    'verify-pre': {
      executor: `${PLUGIN}:verify-pre`,
      cache: true,
      dependsOn: ['collect'],
      inputs: [
        { dependentTasksOutputFiles: '**/collect.json' },
        { dependentTasksOutputFiles: '**/old/**/*.o', transitive: true },
        ...CODE.runpre,
      ],
      outputs: [at(join(workDir(place), 'verify-pre.json'))], // executors/verify-pre.ts verifyReportPath
      options: { id, ...where, abi },
    },
    package: {
      executor: `${PLUGIN}:package`,
      cache: true,
      // verify-pre: a mismatch stops the package.
      dependsOn: ['link', 'verify-pre'],
      inputs: [
        { dependentTasksOutputFiles: '**/link/**' },
        { dependentTasksOutputFiles: '**/collect.json', transitive: true },
        ...CODE.link,
        ...CODE.target,
      ],
      outputs: [at(layout.packageDir(place))],
      options: { id, ...where, abi, root, replace: config.replace ?? false },
    },
    // A fleet's kernels have no `hotpatch` of their own: the fleet project's shows every kernel's outcome.
    hotpatch: {
      executor: 'nx:run-commands',
      // It only shows the package's summary: a cache hit replays it without starting a process.
      cache: true,
      inputs: [{ dependentTasksOutputFiles: '**/summary.txt' }],
      outputs: [],
      dependsOn: ['package'],
      options: { cwd: '{workspaceRoot}', command: `cat ${layout.packageDir(place)}/summary.txt` },
    },
    try: tryTarget(root, config, ['package'], scope),
  };
  if (fleet) {
    delete kernelTargets.hotpatch;
    // A fleet kernel's project has a virtual root: Nx's task hasher fails ("project … not found") on a target
    // that would hash the root's files, so `try` (uncached) declares that it reads none.
    kernelTargets.try!.inputs = [];
  }
  projects[scope.root] = { name: kernelProject, targets: kernelTargets };
  return projects;
}

/** One word for the shell Nx runs a runtime input with. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
