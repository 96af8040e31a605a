/** An error whose message is meant for the user as is: the CLI prints it on one line, without a stack. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** What the machine said, in words, for the errno codes that describe the environment rather than a bug. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
};

/** Codes that mean the machine's state even when Node could not say which file (a failed write has no path). */
const WITHOUT_PATH = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE']);

/**
 * A Node system error (full disk, read-only or missing directory, a directory where a file should be) as the one
 * line the user sees: "<path>: <cause>", exit 1. Undefined for anything else, which stays an internal error.
 */
export function environmentError(err: unknown): UserError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const cause = systemCause(err);
  if (!cause || typeof e?.syscall !== 'string') return undefined;
  if (typeof e.path === 'string') return new UserError(`${e.path}: ${cause}`);
  return WITHOUT_PATH.has(e.code!) ? new UserError(`${cause} (${e.syscall})`) : undefined;
}

/** The words for a Node system error's errno code ("no space left on device"), or undefined. */
export function systemCause(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && Object.hasOwn(CAUSES, code) ? CAUSES[code] : undefined;
}

/**
 * For `.catch()` on a file operation whose error may lack the file's name (fs.writeFile's write step does):
 * rethrows the error with `path` set, so environmentError can name the file.
 */
export function naming(path: string): (err: unknown) => never {
  return (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && typeof e.code === 'string' && e.path === undefined) e.path = path;
    throw err;
  };
}
