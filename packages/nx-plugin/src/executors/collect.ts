import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { UpdateInputs } from '@hotsplice/link';
import { layout, placeOf } from '../layout';
import type { Marker } from './diff';
import { eachTask, runTask, writeOutput, dropPackages } from './common';

interface CollectOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  /** Ship the objects that changed even when others are refused (a Debian update; the report names the rest). */
  partial?: boolean;
}

/** What `collect` writes: every object's verdict; link and package read only this. */
export interface Collected {
  id: string;
  markers: Marker[];
  /** What the update was made from (the manifest step's inputs.json): the report names every file's fate. */
  inputs: UpdateInputs;
}

/** What link and package read: the markers `collect` gathered. */
export async function readCollected(context: ExecutorContext, place: string): Promise<Collected> {
  return JSON.parse(await readFile(join(context.root, layout.collect(place)), 'utf8')) as Collected;
}

/** The exit code `hotsplice create` gives when the patches change no function (ksplice-create's "no changes"). */
export const NO_FUNCTIONAL_CHANGE = 'no functional change';

/**
 * Makefile.ksplice's collect: gather the markers; a refusal anywhere (of a partial update: with nothing left to
 * ship), or no change at all, ends the build here with one line per reason.
 */
export default async function collect(options: CollectOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    await dropPackages(context, [placeOf(options)]);
    // The objects the manifest wrote down: the ones whose diff tasks this one depends on.
    const { objects } = JSON.parse(await readFile(join(context.root, layout.affected(placeOf(options))), 'utf8')) as { objects: string[] };
    const markers: Marker[] = [];
    for (const object of objects) {
      markers.push(JSON.parse(await readFile(join(context.root, layout.marker(placeOf(options), object)), 'utf8')) as Marker);
    }
    const inputs = JSON.parse(await readFile(join(context.root, layout.inputs(placeOf(options))), 'utf8')) as UpdateInputs;
    await writeOutput(context, layout.collect(placeOf(options)), `${JSON.stringify({ id: options.id, markers, inputs } satisfies Collected, null, 2)}\n`);
    const refused = markers.flatMap((m) => (m.report?.refused ?? []).map((r) => `${m.object}: ${r.symbol}: ${r.reason}`));
    const carried = markers.some((m) => m.status === 'changed');
    const verdict = options.partial && carried ? 'not carried' : 'refused';
    for (const line of refused) process.stderr.write(`hotsplice: ${verdict}: ${line}\n`);
    if (refused.length && verdict === 'refused') return false;
    if (!carried) {
      process.stderr.write(`hotsplice: ${NO_FUNCTIONAL_CHANGE}: ${objects.join(', ')}\n`);
      return false;
    }
    for (const m of markers) console.log(`${m.object} [${m.objname}]: ${m.status}${m.report?.changed.length ? `: ${m.report.changed.join(', ')}` : ''}`);
  });
}

/** Several updates’ collect tasks in one process (nx run-many). */
export const batch = eachTask(collect);
