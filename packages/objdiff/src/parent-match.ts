import { compareUnits } from './compare';
import { unitNaming } from './correlate';
import type { ObjectModel, Unit } from './model';

/** A unit together with the object it belongs to. */
export interface UnitOf {
  model: ObjectModel;
  unit: Unit;
}

/**
 * Which of a module's same-named locals is the pre object's `pre` (Debian's .ko files carry no STT_FILE symbols,
 * so the file cannot say): the candidate with the same content (bytes with relocation fields masked, relocations
 * by target, as the differ compares units) and referenced by the same functions; else the only one alike in one
 * of the two respects. A `_rs` ratelimit state holds the same bytes in every function, a `__func__` string is
 * referenced by one function per copy: each respect alone settles one kind.
 */
export function chooseByContent(candidates: UnitOf[], pre: UnitOf): { index: number } | { error: string } {
  const mine = unitNaming(pre.model);
  const owners = mine.owners.get(pre.unit) ?? '';
  const sameContent = candidates.map((c) => {
    const theirs = unitNaming(c.model);
    return !compareUnits(pre.model, pre.unit, c.model, c.unit, (u) => mine.keys.get(u) ?? theirs.keys.get(u) ?? u.name);
  });
  const sameOwners = candidates.map((c) => (unitNaming(c.model).owners.get(c.unit) ?? '') === owners);
  const only = (flags: boolean[]) => (flags.filter(Boolean).length === 1 ? flags.indexOf(true) : -1);
  for (const flags of [sameContent.map((s, i) => s && sameOwners[i]), sameContent, sameOwners]) {
    const index = only(flags);
    if (index >= 0) return { index };
  }
  // An empty object has no bytes to read or write through its address: every empty candidate serves. Debian's
  // config has no LOCKDEP, so each `__key` of a mutex_init/init_rwsem is an empty struct lock_class_key
  // (include/linux/lockdep_types.h), and one .ko holds several of one name (fs/autofs/inode.c, 6.1.190).
  if (pre.unit.size === 0 && sameContent.includes(true)) return { index: sameContent.indexOf(true) };
  const count = (flags: boolean[]) => flags.filter(Boolean).length;
  return { error: `${count(sameContent)} match its content and ${count(sameOwners)} its referencing functions (${owners || 'none'}); which one is this object's cannot be told` };
}
