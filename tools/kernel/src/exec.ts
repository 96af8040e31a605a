import { execa, type Options } from 'execa';
import { UserError } from './errors';

/**
 * Run a command; on failure throw a UserError naming the command (or `what`, for a command line too long to show)
 * and the last lines it printed.
 */
export async function run(file: string, args: readonly string[], options: Options = {}, what = `${file} ${args.join(' ')}`): Promise<string> {
  const result = await execa(file, args, { reject: false, all: true, ...options });
  if (result.failed) {
    const tail = String(result.all ?? '').trim().split('\n').slice(-15).join('\n');
    const reason = result.exitCode !== undefined ? `exit code ${result.exitCode}` : (result.signal ?? result.shortMessage);
    throw new UserError(`${what} failed (${reason})${tail ? `:\n${tail}` : ''}`);
  }
  return String(result.stdout ?? '');
}
