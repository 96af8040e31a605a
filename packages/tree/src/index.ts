export { applyPatches, restoreTree, type PatchInput } from './journal';
export { parsePatch, type PatchedFile } from './patch';
