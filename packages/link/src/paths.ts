import { join } from 'node:path';

/** kernel-module/ of this repository: the loader source and the header the generated file includes. */
export const KERNEL_MODULE_DIR = join(__dirname, '..', '..', '..', 'kernel-module');
