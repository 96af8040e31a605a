// @hotsplice/runpre — Ksplice's run-pre matching: pre code against the code a kernel holds (vmlinux file, live
// kernel through /proc/kcore, fixtures), resolving same-named local symbols by which candidate matches.
export type { KernelSymbol, MemorySource, SourceKind } from './source';
export { SymbolIndex, symposOf } from './symbol-index';
export { parseSymbolText, type ListedSymbol } from './symbol-text';
export { VmlinuxSource } from './vmlinux-source';
export { KcoreSource, readSegments, type LiveOptions } from './kcore-source';
export { SlidLinkMap, linkMapOf, symbolNames, type LinkMap } from './link-map';
export { DEFAULT_LIVE_PATHS, kcoreOpenReason, lockdownMode, zeroAddressesReason, type LivePaths } from './live-access';
export { FixtureSource, type FixtureRegion } from './fixture-source';
export { assertMatched, matchObject, type MatchOptions } from './match';
export { patchSites, type PatchSite, type SiteKind } from './sites';
export { isLegalForm, isPadding, NOP5, RET_INT3, type Pattern } from './forms';
export { describeFailure, type Candidate, type Difference, type FunctionMatch, type MatchReport, type PatchedSite, type ResolvedSymbol, type UncheckedField } from './report';
