/**
 * The make variables every kbuild call on the prepared source tree uses: `make prepare` and, later, every object
 * build. They must be identical between the two, or kbuild rebuilds bounds.s/asm-offsets.s and the objects change.
 * CC is the kernel's own compiler (CONFIG_CC_VERSION_TEXT's first word: gcc-12 for bookworm's 6.1).
 */
export function kbuildVariables(kernel: { sourceTree: string; abi: string; compiler: string }): string[] {
  return [`CC=${kernel.compiler}`, `KERNELRELEASE=${kernel.abi}`, `KCFLAGS=${objectCflags(kernel.sourceTree).join(' ')}`];
}

/**
 * Extra compiler flags for kernel objects: one section per function and per data object, so the differ can work
 * symbol by symbol; tree-relative debug paths so an object is byte-identical on every machine (cacheable); and no
 * DWARF column numbers, which are the only bytes that differ when a compile farm (distcc) compiles the output of
 * `gcc -E` instead of the source (the preprocessor collapses whitespace; measured on fs/proc/version.o).
 */
export function objectCflags(sourceTree: string): string[] {
  return ['-ffunction-sections', '-fdata-sections', `-fdebug-prefix-map=${sourceTree}=.`, '-gno-column-info'];
}
