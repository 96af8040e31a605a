import { dirname, join } from 'node:path';
import type { CreateNodes, CreateNodesResult } from '@nx/devkit';
import { preparedKernel } from '@hotsplice/kernel';
import { objectsIncluding } from '@hotsplice/tree';
import { affectedObjects } from './affected';
import { readHotpatchConfig } from './config';
import { pipelineProjects, unpreparedProject } from './graph';
import { readPatches } from './patches';

/**
 * Infers the pipeline from hotpatch.json. Graph time comes before any task (design.md §5): when the Debian kernel
 * is already prepared, the graph holds one project per kernel directory with snap/diff targets for exactly the
 * affected objects; on a fresh machine it holds only `kernel:prepare` and a `kernel:hotpatch` that prepares and
 * then runs Nx again on the full graph.
 */
export const createNodes: CreateNodes = [
  '**/hotpatch.json',
  async (files, _options, context) =>
    Promise.all(
      files.map(async (file): Promise<readonly [string, CreateNodesResult]> => {
        const root = dirname(file);
        const config = readHotpatchConfig(join(context.workspaceRoot, file));
        const kernel = await preparedKernel(config.kernel.abi);
        if (!kernel) return [file, { projects: unpreparedProject(root, config) }];
        try {
          const patches = readPatches(config, join(context.workspaceRoot, root), kernel.sourceTree);
          const affected = affectedObjects(patches);
          // A header patch affects every object that includes it (include index, built once per tree, ~12 s).
          const fromHeaders = affected.headers.length ? await objectsIncluding(kernel.sourceTree, affected.headers) : [];
          const objects = [...new Set([...affected.objects, ...fromHeaders])].sort();
          return [file, { projects: pipelineProjects(root, config, objects) }];
        } catch (err) {
          // Bad input fails the run with one clear line, not a plugin stack trace.
          return [file, { projects: unpreparedProject(root, config, err instanceof Error ? err.message : String(err)) }];
        }
      }),
    ),
];
