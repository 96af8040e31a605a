import { inBuildRoot } from './build-root';

/**
 * How to run one of a kernel's build commands (make, a recorded gcc + objtool line, the module link): as it is when
 * the machine's compiler is the kernel's, else inside the kernel's build root at the same paths (build-root.ts).
 */
export async function toolchainCommand(kernel: { buildRoot?: string }, file: string, args: readonly string[], cwd?: string): Promise<[string, string[]]> {
  return kernel.buildRoot ? inBuildRoot(kernel.buildRoot, file, args, cwd) : [file, [...args]];
}
