import { join } from 'node:path';

/**
 * kernel-module/ of this repository: the loader source and the header the generated file includes. The Nx plugin
 * runs from an esbuild bundle elsewhere (packages/nx-plugin/bundle/load.js) and names the repository itself.
 */
export const KERNEL_MODULE_DIR = join(process.env.HOTSPLICE_REPO_ROOT ?? join(__dirname, '..', '..', '..'), 'kernel-module');
