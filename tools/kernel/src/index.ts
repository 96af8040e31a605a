export { chooseKernel, packagesFor, parseAbis, parseMadison, resolveKernel, type KernelPackages } from './apt';
export { KERNEL_CC, kbuildVariables, objectCflags } from './build-flags';
export { RECIPE, cacheRoot, isDone, markDone, once } from './cache';
export { debDataMember, extractDeb, parseAr, parseArHeader } from './deb';
export { UserError, environmentError, naming, systemCause } from './errors';
export { run } from './exec';
export { processAlive, removeStale } from './stale';
export { rewriteHeadersMakefile } from './headers';
export { kernelPaths, prepareKernel, preparedKernel, sourceKbuildDir, type KernelPaths, type PrepareOptions } from './prepare';
export { PhaseTimer, Progress, log } from './report';
export { buildExternalModule, type ModuleBuild } from './module-build';
export { cachedDebianUpdate, deltaDir, deltaPatch, fetchDebianUpdate, type DebianDelta } from './debian-update';
export { changelogBetween, type ChangelogItem } from './debian-changelog';
export { changedPaths, classifyChange, type ChangeKind, type ChangedFile } from './source-delta';
export { moduleLoadOrder } from './module-deps';
export {
  HOST_PROGRAMS,
  KBUILD_PACKAGE,
  PROVENANCE_FILE,
  chooseHostTools,
  describeHostTools,
  readProvenance,
  sha256,
  type HostTools,
  type Provenance,
} from './host-tools';
export { inParallel } from './parallel';
