import { STT_SECTION, definedInSection } from '@hotsplice/elf';
import { isPcRelative, type ObjectModel, type Unit } from './model';
import { isStaticLocalName, normalizeName, staticLocalBase } from './names';

/** Which units of one object reference each unit (by symbol or by section symbol + addend). */
export function referrers(model: ObjectModel): Map<Unit, Set<Unit>> {
  const refs = new Map<Unit, Set<Unit>>();
  for (const from of model.units) {
    for (const r of from.relocs) {
      const to = targetUnit(model, r.symbol, r.addend, r.type);
      if (!to || to === from) continue;
      const set = refs.get(to) ?? new Set<Unit>();
      set.add(from);
      refs.set(to, set);
    }
  }
  return refs;
}

/**
 * The unit a relocation lands in, if it lands in one of this object's units. A PC-relative operand in code sits
 * 4 to 8 bytes before its instruction's end, so its addend is the target minus that tail (usually 4); in data
 * tables (`.long x - .`) the addend is the target itself.
 */
export function targetUnit(
  model: ObjectModel,
  symbol: Unit['symbol'],
  addend: bigint,
  type: number,
  inCode = true,
): Unit | undefined {
  if (symbol.type !== STT_SECTION) return model.unitOfSymbol(symbol);
  const index = definedInSection(symbol);
  if (index === undefined) return undefined;
  if (!inCode || !isPcRelative(type)) return model.unitAt(index, Number(addend));
  for (const tail of [4, 5, 6, 8]) {
    const unit = model.unitAt(index, Number(addend) + tail);
    if (unit) return unit;
  }
  return undefined;
}

/**
 * A name for each unit that is the same in both builds: clone and static-local numbers dropped, a static local
 * qualified by the one function that uses it (`f::count`), a `.cold` part by its parent.
 */
export function stableNames(model: ObjectModel): Map<Unit, string> {
  const refs = referrers(model);
  const names = new Map<Unit, string>();
  for (const unit of model.units) {
    if (unit.kind === 'data' && unit.local && isStaticLocalName(unit.name)) {
      const users = [...(refs.get(unit) ?? [])].filter((u) => u.kind === 'function');
      const owner = users.length === 1 ? normalizeName(users[0].name) : '';
      names.set(unit, `${owner}::${normalizeName(staticLocalBase(unit.name))}`);
    } else {
      names.set(unit, normalizeName(unit.name));
    }
  }
  return names;
}

export interface Pairing {
  pairs: Array<[Unit, Unit]>;
  onlyPre: Unit[];
  onlyPost: Unit[];
  preNames: Map<Unit, string>;
  postNames: Map<Unit, string>;
}

/** Pair pre and post units by stable name; same-named units pair in symbol-table order. */
export function correlate(pre: ObjectModel, post: ObjectModel): Pairing {
  const preNames = stableNames(pre);
  const postNames = stableNames(post);
  const byName = new Map<string, Unit[]>();
  for (const unit of pre.units) {
    const key = `${unit.kind}:${preNames.get(unit)}`;
    byName.set(key, [...(byName.get(key) ?? []), unit]);
  }
  const pairs: Array<[Unit, Unit]> = [];
  const onlyPost: Unit[] = [];
  for (const unit of post.units) {
    const candidates = byName.get(`${unit.kind}:${postNames.get(unit)}`);
    const match = candidates?.shift();
    if (match) pairs.push([match, unit]);
    else onlyPost.push(unit);
  }
  const onlyPre = [...byName.values()].flat();
  return { pairs, onlyPre, onlyPost, preNames, postNames };
}
