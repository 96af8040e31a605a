export { applyPatches, restoreTree, type PatchInput } from './journal';
export { parsePatch, splitPatch, type PatchedFile } from './patch';
export { buildPrePost, compileObjects, journalFor, type TreeInfo } from './build';
export { lineMapFromPatch } from './line-map';
export { withTreeLock } from './lock';
export { cmdFileOf, parseCmdFile, readKbuildRecord, type KbuildRecord } from './deps';
export { isUpToDate } from './fresh';
