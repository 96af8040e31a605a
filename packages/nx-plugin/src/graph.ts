import { join } from 'node:path';
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import type { HotpatchConfig } from './config';
import { kernelProjectName, layout, objectProject, updateTag, workDir } from './layout';

type Projects = Record<string, Omit<ProjectConfiguration, 'root'> & { root?: string }>;

const PLUGIN = '@hotsplice/nx-plugin';

/** The code each step runs: part of its cache key, so a change to the pipeline invalidates its results. */
const CODE = {
  tree: ['{workspaceRoot}/packages/tree/src/**/*', '{workspaceRoot}/tools/kernel/src/**/*', '{workspaceRoot}/packages/nx-plugin/src/**/*'],
  diff: ['{workspaceRoot}/packages/objdiff/src/**/*', '{workspaceRoot}/packages/elf/src/**/*'],
  /** The link stage and the loader, and the plugin's own executors (link.ts, package.ts). */
  link: ['{workspaceRoot}/packages/link/src/**/*', '{workspaceRoot}/kernel-module/**/*', '{workspaceRoot}/packages/nx-plugin/src/**/*'],
  /** The run-pre matcher verify-pre runs (and the plugin's own executor). */
  runpre: ['{workspaceRoot}/packages/runpre/src/**/*', '{workspaceRoot}/packages/elf/src/**/*', '{workspaceRoot}/packages/nx-plugin/src/**/*'],
  /** The target CLI bundled beside the package, and run-pre's link map written into it. */
  target: [
    '{workspaceRoot}/packages/cli/src/**/*',
    '{workspaceRoot}/packages/runpre/src/**/*',
    '{workspaceRoot}/packages/elf/src/**/*',
    '{workspaceRoot}/tools/guest/src/**/*',
    '{workspaceRoot}/tools/kernel/src/**/*',
  ],
};

function prepareTarget(config: HotpatchConfig): TargetConfiguration {
  return {
    executor: `${PLUGIN}:prepare`,
    // The kernel lives in a cache outside the workspace, which Nx cannot hash; this stamp of it (the resolved ABI,
    // the prepared marker, apt's lists, the system packages' status) stands in for it.
    cache: true,
    inputs: [{ runtime: 'bash tools/setup/prepared-stamp.sh' }, '{workspaceRoot}/tools/setup/*', ...CODE.tree],
    outputs: [],
    options: { abi: config.kernel.abi, ...(config.debianUpdate ? { debianUpdate: config.debianUpdate } : {}) },
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
  if (!error) targets.try = tryTarget(root, config, 'hotpatch');
  return { [root]: { name: kernelProjectName(root, config.id), targets } };
}

/** `try`: boot the guest and apply / undo the package that `after` leaves in dist/hotpatch/<id>. */
function tryTarget(root: string, config: HotpatchConfig, after: string): TargetConfiguration {
  return {
    executor: `${PLUGIN}:try`,
    cache: false,
    dependsOn: [after],
    // `root`: try reads "check" from hotpatch.json itself (see updateTag).
    options: { id: config.id, abi: config.kernel.abi, root },
  };
}

export function pipelineProjects(root: string, config: HotpatchConfig, objects: string[]): Projects {
  const { id } = config;
  const abi = config.kernel.abi;
  // Outputs live under the workspace's dist/ whatever folder hotpatch.json is in (the id keeps updates apart).
  const at = (path: string) => `{workspaceRoot}/${path}`;
  const projects: Projects = {};
  const kernelProject = kernelProjectName(root, id);
  const manifestDep = { projects: [kernelProject], target: 'manifest' };
  for (const object of objects) {
    const p = objectProject(object, kernelProject);
    const snap: TargetConfiguration = {
      executor: `${PLUGIN}:snap`,
      cache: true,
      dependsOn: [manifestDep],
      inputs: [{ dependentTasksOutputFiles: `**/hash/${object}.pre` }, ...CODE.tree],
      outputs: [at(layout.pre(id, object))],
      options: { id, object, abi },
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
      ],
      outputs: [at(layout.post(id, object)), at(layout.newCode(id, object)), at(layout.oldCode(id, object)), at(layout.marker(id, object))],
      options: { id, object, abi, root },
    };
    projects[p.root] ??= { name: p.name, tags: ['hotsplice:object', updateTag(kernelProject)], targets: {} };
    Object.assign(projects[p.root].targets!, { [p.target('snap')]: snap, [p.target('diff')]: diff });
  }

  const kernelTargets: Record<string, TargetConfiguration> = {
    prepare: prepareTarget(config),
    // Uncached on purpose: it hashes the kernel tree (outside the workspace) into files Nx can see.
    manifest: {
      executor: `${PLUGIN}:manifest`,
      cache: false,
      dependsOn: ['prepare'],
      outputs: [at(layout.hashDir(id)), at(layout.affected(id)), at(layout.inputs(id))],
      options: { id, abi, root },
    },
    collect: {
      executor: `${PLUGIN}:collect`,
      cache: true,
      dependsOn: [{ projects: [`tag:${updateTag(kernelProject)}`], target: 'diff' }],
      // The update's inputs reach the report through collect.json: the manifest is two steps up.
      inputs: [{ dependentTasksOutputFiles: '**/marker/**/*.KSPLICE' }, { dependentTasksOutputFiles: '**/inputs.json', transitive: true }, ...CODE.tree],
      outputs: [at(layout.collect(id))],
      // A Debian update ships what it can carry and reports the rest; a patch of one's own is all or nothing.
      options: { id, partial: Boolean(config.debianUpdate) },
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
      outputs: [at(layout.link(id))],
      options: { id, abi, replace: config.replace ?? false },
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
      outputs: [at(join(workDir(id), 'verify-pre.json'))], // executors/verify-pre.ts verifyReportPath
      options: { id, abi },
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
      outputs: [at(layout.packageDir(id))],
      options: { id, abi, root, replace: config.replace ?? false },
    },
    hotpatch: {
      executor: 'nx:run-commands',
      // It only shows the package's summary: a cache hit replays it without starting a process.
      cache: true,
      inputs: [{ dependentTasksOutputFiles: '**/summary.txt' }],
      outputs: [],
      dependsOn: ['package'],
      options: { cwd: '{workspaceRoot}', command: `cat ${layout.packageDir(id)}/summary.txt` },
    },
    try: tryTarget(root, config, 'package'),
  };
  projects[root] = { name: kernelProject, targets: kernelTargets };
  return projects;
}
