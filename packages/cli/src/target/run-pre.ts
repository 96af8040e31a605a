// The apply-time run-pre hook: compare the update's old code with the code the running kernel executes before
// loading anything (packages/runpre). Until that matcher is wired in, the hook reports it did not run.
import type { OpenedUpdate } from './update-package';

export interface RunPreResult {
  status: 'matched' | 'skipped' | 'unavailable';
  summary: string;
  functions?: number;
  ms?: number;
}

export async function runPreCheck(_update: OpenedUpdate, options: { skip: boolean }): Promise<RunPreResult> {
  if (options.skip) return { status: 'skipped', summary: 'skipped (--skip-run-pre)' };
  return { status: 'unavailable', summary: 'not checked (run-pre matching is not built into this CLI yet)' };
}
