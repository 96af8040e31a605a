export { diffObjects } from './diff';
export { FUNCS_SECTION } from './write';
export { parentSymbols } from './klp';
export * from './types';
