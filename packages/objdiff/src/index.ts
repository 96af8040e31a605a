export { diffObjects } from './diff';
export { diffFiles, parseSymvers, readParent, type DiffJob, type DiffJobResult } from './files';
export { parentSymbols } from './klp';
export { newFunctionSymbol } from './write';
export * from './types';
