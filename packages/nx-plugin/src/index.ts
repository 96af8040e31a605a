import { dirname, join } from 'node:path';
import type { CreateNodes, CreateNodesResult } from '@nx/devkit';
import { cacheRoot, cachedDebianUpdate, preparedKernel } from '@hotsplice/kernel';
import { NeedsPlanning, planObjects } from './affected';
import { readHotpatchConfig } from './config';
import { pipelineProjects, unpreparedProject } from './graph';
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
        const kernel = await preparedKernel(config.kernel.abi);
        // A Debian update's delta is fetched by the prepare step, like the kernel itself.
        const fetched = !config.debianUpdate || (kernel && cachedDebianUpdate(cacheRoot(), kernel.version, config.debianUpdate));
        if (!kernel || !fetched) return [file, { projects: unpreparedProject(root, config) }];
        try {
          const patches = readPatches(config, join(context.workspaceRoot, root), kernel);
          const { objects } = await planObjects(kernel, patches, { notBuilt: config.debianUpdate ? 'report' : 'refuse' });
          return [file, { projects: pipelineProjects(root, config, objects) }];
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
