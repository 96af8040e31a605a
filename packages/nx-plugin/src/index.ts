import { dirname, join } from 'node:path';
import type { CreateNodes, TargetConfiguration } from '@nx/devkit';
import { readHotpatchConfig } from './config';

const CLI = 'node packages/cli/bin/hotsplice.js';

/**
 * Infers the `kernel` project from hotpatch.json. Its `prepare` target runs the setup step and provisions the
 * Debian kernel; `hotpatch` is the main job (`npx nx run kernel:hotpatch`).
 */
export const createNodes: CreateNodes = [
  '**/hotpatch.json',
  (files, _options, context) =>
    files.map((file) => {
      const config = readHotpatchConfig(join(context.workspaceRoot, file));
      const abi = config.kernel.abi === 'newest' ? '' : ` --abi ${config.kernel.abi}`;
      const prepare: TargetConfiguration = {
        executor: 'nx:run-commands',
        // The kernel tree lives in a cache outside the workspace, which Nx cannot hash: never cache this target.
        cache: false,
        options: {
          cwd: '{workspaceRoot}',
          commands: ['bash tools/setup/ensure-system.sh', `${CLI} kernel prepare${abi}`],
          parallel: false,
        },
      };
      const hotpatch: TargetConfiguration = {
        executor: 'nx:run-commands',
        cache: false,
        dependsOn: ['prepare'],
        options: {
          cwd: '{workspaceRoot}',
          command: `echo "hotsplice: kernel prepared for ${config.id} (${config.patches.join(', ')}); the per-object pipeline is not built yet"`,
        },
      };
      return [
        file,
        {
          projects: {
            // The project's root is hotpatch.json's folder: Nx hashes a project by the files under its root.
            [dirname(file)]: {
              name: 'kernel',
              targets: { prepare, hotpatch },
            },
          },
        },
      ] as const;
    }),
];
