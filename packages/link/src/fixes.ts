// What an update fixes, as a fleet's scanners read it: the CVE ids it carries and the effective Debian version (the
// newest Debian kernel version whose every fix is live with it). KernelCare's "effective kernel" and Canonical
// Livepatch's CVE list are the models; the facts come from the update's own inputs, never from its name.
import { type FileOutcome, type UpdateInputs, changelogCoverage } from './update-report';

const CVE = /CVE-\d{4}-\d{4,}/g;

/** A CVE id as MITRE spells it. */
export function isCveId(text: string): boolean {
  return /^CVE-\d{4}-\d{4,}$/.test(text);
}

/**
 * The CVE ids a patch's header names: the text before its first file (`diff --git`, `--- `, `Index:`), where
 * `git format-patch` puts the commit message and where a hand-written patch says what it fixes.
 */
export function cvesOfPatchHeader(text: string): string[] {
  const start = text.search(/^(diff --git |--- |Index: )/m);
  return sorted(((start < 0 ? text : text.slice(0, start)).match(CVE) ?? []));
}

export interface Fixes {
  /** Every CVE id the update fixes: declared (hotpatch.json, patch headers) and a Debian update's carried ones. */
  cves: string[];
  /** The newest Debian kernel version all of whose fixes are live with this update. */
  effectiveVersion: string;
}

/**
 * An update's fixes. A Debian update carries the CVEs of its changelog items that it carries, and moves the
 * effective version to the newest version V such that every item of every version up to V is carried or does not
 * reach this kernel; an item whose files could not be told ("unknown") or that is not carried stops it there.
 */
export function updateFixes(inputs: UpdateInputs | undefined, outcomes: FileOutcome[], kernelVersion: string): Fixes {
  const declared = inputs?.cves ?? [];
  const debian = inputs?.debian;
  if (!debian) return { cves: sorted(declared), effectiveVersion: kernelVersion };
  const items = changelogCoverage(debian.changelog, outcomes);
  const carried = items.filter((i) => i.coverage === 'carried').flatMap((i) => i.cves);
  // changelogBetween lists the versions newest first, in the changelog's own order.
  const versions = [...new Set(items.map((i) => i.version))].reverse();
  let effectiveVersion = kernelVersion;
  for (const version of versions) {
    const live = items.filter((i) => i.version === version).every((i) => i.coverage === 'carried' || i.coverage === 'not in this kernel');
    if (!live) break;
    effectiveVersion = version;
  }
  // A version whose changelog has no item of its own (e.g. a rebuild) is reached when the ones below it are.
  if (effectiveVersion === versions.at(-1) || (!versions.length && debian.to)) effectiveVersion = debian.to;
  return { cves: sorted([...declared, ...carried]), effectiveVersion };
}

function sorted(ids: string[]): string[] {
  return [...new Set(ids)].sort();
}
