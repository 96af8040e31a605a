export { chooseKernel, offeredKernels, packagesFor, parseAbis, parseMadison, resolveKernel, type KernelPackages, type OfferedKernel } from './apt';
export { kbuildVariables, objectCflags } from './build-flags';
export { toolchainCommand } from './toolchain-command';
export { type ObjtoolPass, lastObjtoolWarning, objtoolArgs, objtoolAtLink, parseConfig, runLinkObjtool } from './objtool';
export { altInstrEntrySize } from './x86-tables';
export { BUILD_ROOT_PACKAGES, currentBuildRoot, ensureBuildRoot, inBuildRoot, type BuildRoot } from './build-root';
export { type ChosenCompiler, type CompilerUse, checkChosenCompiler, keepConfigMakeflag } from './chosen-compiler';
export { type KernelCompiler, type Toolchain, compilerPackage, compilerVersionLine, hostMatches, parseCompiler, readCompiler } from './toolchain';
export { FLAVOURS, RELEASES, compareAbis, parseAbi, parseRequest, releaseBySuite, releasePackages, requireAbi, unbuildableFlavour, type AbiName, type DebianRelease, type Flavour } from './release';
export { aptConfigFor, aptOptions, hostSuite, releaseSources, type AptConfig } from './apt-config';
export { RECIPE, cacheRoot, isDone, markDone, once } from './cache';
export { debDataMember, extractDeb, parseAr, parseArHeader } from './deb';
export { UserError, environmentError, naming, systemCause } from './errors';
export { run } from './exec';
export { processAlive, removeStale } from './stale';
export { rewriteHeadersMakefile } from './headers';
export { isPrepared, kernelPaths, prepareKernel, preparedKernel, preparedPaths, sourceKbuildDir, type KernelLayout, type KernelPaths, type PrepareOptions } from './prepare';
export { PhaseTimer, Progress, log } from './report';
export { buildExternalModule, type ModuleBuild } from './module-build';
export { cachedDebianUpdate, deltaDir, deltaPatch, fetchDebianUpdate, type DebianDelta } from './debian-update';
export { changelogBetween, type ChangelogItem } from './debian-changelog';
export { changedPaths, classifyChange, type ChangeKind, type ChangedFile } from './source-delta';
export { moduleLoadOrder } from './module-deps';
export { uncompressedModule } from './module-file';
export {
  HOST_PROGRAMS,
  PROVENANCE_FILE,
  chooseHostTools,
  describeHostTools,
  readProvenance,
  sha256,
  type HostTools,
  type Provenance,
} from './host-tools';
export { inParallel } from './parallel';
