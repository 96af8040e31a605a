import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { CreateNodes, CreateNodesResult } from '@nx/devkit';
import { type KernelPaths, cacheRoot, cachedDebianUpdate, preparedKernel } from '@hotsplice/kernel';
import type { PatchInput } from '@hotsplice/tree';
import { NeedsPlanning, planObjects } from './affected';
import { type HotpatchConfig, readHotpatchConfig } from './config';
import { type KernelScope, fleetProject, fleetScope, pipelineProjects, unpreparedProject } from './graph';
import { readPatches } from './patches';

/**
 * Infers the pipeline from hotpatch.json. Graph time comes before any task (design.md §5): when the Debian kernel
 * is prepared and planned (kbuild's plan, a header change's narrowing), the graph holds one project per affected
 * object with its snap/diff targets; otherwise (a fresh machine, a header change seen for the first time) it holds
 * only `kernel:prepare`, `kernel:plan` and a `kernel:hotpatch` that runs them and then Nx again on the full graph.
 */
export const createNodes: CreateNodes = [
  '**/hotpatch.json',
  async (files, _options, context) => {
    const configs = files.map((file) => readHotpatchConfig(join(context.workspaceRoot, file)));
    return Promise.all(
      files.map(async (file, i): Promise<readonly [string, CreateNodesResult]> => {
        const root = dirname(file);
        const config = configs[i]!;
        // The id names the package folder, the module and /sys/kernel/livepatch/<id>: one update each.
        const twin = files.find((_other, j) => j !== i && configs[j]!.id === config.id);
        if (twin) return [file, { projects: unpreparedProject(root, config, `${file}: id "${config.id}" is also the id of ${twin}`) }];
        if (config.kernels) return [file, { projects: await fleetProjects(root, config, context.workspaceRoot) }];
        const kernel = await preparedKernel(config.kernel.abi);
        // A Debian update's delta is fetched by the prepare step, like the kernel itself.
        const fetched = !config.debianUpdate || (kernel && cachedDebianUpdate(cacheRoot(), kernel.version, config.debianUpdate));
        if (!kernel || !fetched) return [file, { projects: unpreparedProject(root, config) }];
        try {
          return [file, { projects: await kernelPipeline(root, config, kernel, context.workspaceRoot) }];
        } catch (err) {
          // The plan step has not run for this tree or change yet: it runs first, then Nx again.
          if (err instanceof NeedsPlanning) return [file, { projects: unpreparedProject(root, config) }];
          // Bad input fails the run with one clear line, not a plugin stack trace.
          return [file, { projects: unpreparedProject(root, config, err instanceof Error ? err.message : String(err)) }];
        }
      }),
    );
  },
];

/** One kernel's pipeline: the objects the patch affects in that kernel's tree. */
async function kernelPipeline(root: string, config: HotpatchConfig, kernel: KernelPaths, workspaceRoot: string, scope?: KernelScope) {
  const patches = readPatches(config, join(workspaceRoot, root), kernel);
  const { objects } = await planObjects(kernel, patches, { notBuilt: config.debianUpdate ? 'report' : 'refuse' });
  const stamp = { tree: kernel.sourceTree, key: updateKey(config, patches), compiler: config.compiler ?? kernel.compiler, buildRoot: kernel.buildRoot };
  return pipelineProjects(root, config, objects, stamp, scope);
}

/**
 * The update's own inputs as the manifest reads them: its patches' texts (files, a git range, a Debian delta) and
 * hotpatch.json, but for `check`, which only `try` reads. Part of the manifest's cache key (graph.ts).
 */
function updateKey(config: HotpatchConfig, patches: PatchInput[]): string {
  const { check: _check, ...read } = config;
  const texts = patches.map((p) => [p.name, p.fuzz ?? 0, p.text]);
  return createHash('sha256').update(JSON.stringify({ config: read, texts })).digest('hex');
}

/**
 * A fleet update: its own project (fleet.ts builds every kernel and writes the summary) plus, for each kernel
 * already prepared, that kernel's pipeline in projects of its own (so `nx affected` and the remote cache see every
 * kernel's tasks). A kernel not prepared (or planned) yet has none until the fleet's `hotpatch` has done it; one whose
 * pipeline cannot be planned (the patch names a file its config does not build) gets a `package` that fails with
 * the reason, which the fleet summary shows.
 */
async function fleetProjects(root: string, config: HotpatchConfig, workspaceRoot: string) {
  const projects = fleetProject(root, config);
  for (const request of config.kernels ?? []) {
    const kernel = await preparedKernel(request);
    const fetched = !config.debianUpdate || (kernel && cachedDebianUpdate(cacheRoot(), kernel.version, config.debianUpdate));
    if (!kernel || !fetched) continue;
    const scope = fleetScope(root, config, request, kernel.abi);
    try {
      Object.assign(projects, await kernelPipeline(root, config, kernel, workspaceRoot, scope));
    } catch (err) {
      // Not planned yet: the fleet's `hotpatch` plans it before its nested run, like a kernel it prepares.
      if (err instanceof NeedsPlanning) continue;
      const message = err instanceof Error ? err.message : String(err);
      projects[scope.root] = { name: scope.project, targets: { package: { executor: '@hotsplice/nx-plugin:fail', cache: false, options: { message } } } };
    }
  }
  return projects;
}
