export { HASH_PATTERN, Store, type CommitResult } from './store';
export { TOKEN_PATTERN, nginxConfig, type NginxConfigInput } from './nginx-config';
export {
  CacheServerError,
  DEFAULT_MAX_ENTRY_BYTES,
  DEFAULT_MAX_STORE_BYTES,
  findNginx,
  freePort,
  startCacheServer,
  type CacheServerOptions,
  type RunningCacheServer,
} from './server';
