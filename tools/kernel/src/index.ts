export { chooseKernel, packagesFor, parseAbis, parseMadison, resolveKernel, type KernelPackages } from './apt';
export { kbuildVariables, objectCflags } from './build-flags';
export { RECIPE, cacheRoot, isDone, markDone, once } from './cache';
export { debDataMember, extractDeb, parseAr, parseArHeader } from './deb';
export { UserError } from './errors';
export { run } from './exec';
export { rewriteHeadersMakefile } from './headers';
export { kernelPaths, prepareKernel, type KernelPaths, type PrepareOptions } from './prepare';
export { PhaseTimer, Progress, log } from './report';
