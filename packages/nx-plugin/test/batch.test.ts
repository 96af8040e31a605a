// Batch executors with a fleet's kernels in one batch: Nx hands one process the ready tasks of an executor across
// projects, and a batch ends when its last task does. Kernels' work must run side by side there (one kernel's make
// beside another's), each task keeping its own output; one kernel's tasks still run one after another.
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { describe, expect, it } from 'vitest';
import { eachTask, runAll } from '../src/executors/common';

interface Task {
  abi: string;
  name: string;
}

function graphOf(inputs: Record<string, Task>): TaskGraph {
  const tasks = Object.fromEntries(Object.keys(inputs).map((id) => [id, { id, target: { project: id.split(':')[0], target: 'step' } }]));
  return { tasks, roots: Object.keys(inputs), dependencies: {} } as unknown as TaskGraph;
}

const INPUTS: Record<string, Task> = {
  'kernel-a:step': { abi: 'a', name: 'a1' },
  'kernel-b:step': { abi: 'b', name: 'b1' },
  'kernel-a-x:step': { abi: 'a', name: 'a2' },
};

/** Resolves once `count` callers are waiting, or rejects after `ms`: work that only finishes when run side by side. */
function meeting(count: number, ms = 2000) {
  const waiting: Array<() => void> = [];
  return () =>
    new Promise<void>((resolve, reject) => {
      waiting.push(resolve);
      if (waiting.length === count) waiting.forEach((r) => r());
      setTimeout(() => reject(new Error(`only ${waiting.length} of ${count} ran side by side`)), ms);
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('batches of several kernels', () => {
  it('runAll runs different kernels’ groups side by side, a kernel’s groups in turn', async () => {
    const meet = meeting(2);
    const order: string[] = [];
    const results = await runAll(graphOf(INPUTS), INPUTS, async (tasks) => {
      order.push(`start ${tasks[0]!.name}`);
      if (tasks[0]!.name !== 'a2') await meet(); // a1 and b1 must be running at once
      order.push(`end ${tasks[0]!.name}`);
      return tasks.map((t) => t.name).join(' ');
    }, (t) => t.name, (t) => t.abi);
    expect(Object.fromEntries(Object.entries(results).map(([id, r]) => [id, [r.success, r.terminalOutput]]))).toEqual({
      'kernel-a:step': [true, 'a1'],
      'kernel-b:step': [true, 'b1'],
      'kernel-a-x:step': [true, 'a2'],
    });
    // a2 (kernel a's second group) starts only after a1 ended.
    expect(order.indexOf('start a2')).toBeGreaterThan(order.indexOf('end a1'));
  });

  it('eachTask runs different kernels’ tasks side by side, each with its own output', async () => {
    const meet = meeting(2);
    const batch = eachTask<Task>(async (options, context) => {
      process.stdout.write(`${options.name} in ${context.projectName}: first\n`);
      if (options.name !== 'a2') await meet();
      await sleep(5);
      process.stderr.write(`${options.name}: last\n`);
      return { success: options.name !== 'b1' };
    });
    const results = await batch(graphOf(INPUTS), INPUTS, INPUTS['kernel-a:step']!, {} as ExecutorContext);
    expect(Object.fromEntries(Object.entries(results).map(([id, r]) => [id, [r.success, r.terminalOutput]]))).toEqual({
      'kernel-a:step': [true, 'a1 in kernel-a: first\na1: last\n'],
      'kernel-b:step': [false, 'b1 in kernel-b: first\nb1: last\n'],
      'kernel-a-x:step': [true, 'a2 in kernel-a-x: first\na2: last\n'],
    });
    expect(results['kernel-a-x:step']!.startTime).toBeGreaterThanOrEqual(results['kernel-a:step']!.endTime!);
  });
});
