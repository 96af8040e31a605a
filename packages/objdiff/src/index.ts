export { diffObjects } from './diff';
export { diffFiles, parseSymvers, readParent, type DiffJob, type DiffJobResult } from './files';
export { parentSymbols } from './klp';
export { FUNCS_SECTION } from './write';
export * from './types';
