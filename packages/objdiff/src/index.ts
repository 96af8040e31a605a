export { diffObjects } from './diff';
export { diffFiles, readParent, type DiffJob, type DiffJobResult } from './files';
export { checkDiffable, checkParent, checkSameSource } from './inputs';
export { Exports, parseSymvers } from './symvers';
export { parentSymbols } from './klp';
export { newFunctionSymbol } from './write';
export * from './types';
