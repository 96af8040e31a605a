import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const BIN = join(__dirname, '..', '..', 'bin', 'hotsplice.js');

/** A Node script run as a user runs it: its exit code and both streams. */
export async function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The workspace CLI as a user runs it. */
export function hotsplice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runScript(BIN, args);
}
