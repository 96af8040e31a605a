// @hotsplice/link — Makefile.ksplice's kmodsrc and packaging: new code + loader → livepatch .ko (kbuild, modpost
// CRCs, post-link klp finalize), old code → one relocatable object for run-pre, and the update tarball.
export { KLP_RELA_FLAGS, finalizeKlp, parseKlpSymbol, toLinkable, type KlpSymbolName } from './klp-form';
export { MAX_MODULE_NAME, generateMeta, metaObjects, moduleName, type MetaObject, type MetaOptions } from './meta';
export {
  CONTROL_SOURCE, LOADER_SOURCE, META_SOURCE, kbuildFile, linkModule, reproducibleCflags, shippedNames, type LinkModuleOptions,
  type LinkModuleResult, type NewCodeObject,
} from './kbuild';
export { KERNEL_MODULE_DIR } from './paths';
export { linkOldCode, oldCodeAsLinked, sourceName, withFileSymbol, type OldCodeObject } from './old-code';
export { MANIFEST_FORMAT, summary, writePackage, type Manifest, type PackageOptions, type PackageResult, type UpdateReport } from './package';
export { buildIdNote, readBuildId } from './build-id';
export { TAR_MODE, TAR_MTIME, TAR_OWNER, gzip, tar, tarGz, type TarMember } from './tar';
export { NOT_CARRIED, changelogCoverage, fileOutcomes, type FileOutcome, type ForcedCompiler, type InputFile, type Outcome, type UpdateInputs } from './update-report';
export { cvesOfPatchHeader, isCveId, updateFixes, type Fixes } from './fixes';
export { TARGET_LIB, buildDeb, maintainer, toolsDeb, updateDeb, type DebFile, type DebPackage } from './deb';
export { writeAptRepo, type RepoOptions, type RepoResult } from './apt-repo';
