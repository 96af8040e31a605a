import { STT_SECTION, definedInSection } from '@hotsplice/elf';
import { isPcRelative, type ObjectModel, type Unit, type UnitReloc } from './model';
import { coldParent, isStaticLocalName, normalizeName, staticLocalBase } from './names';

/** Which units of one object reference each unit (by symbol or by section symbol + addend). */
export function referrers(model: ObjectModel): Map<Unit, Set<Unit>> {
  const refs = new Map<Unit, Set<Unit>>();
  for (const from of model.units) {
    for (const r of from.relocs) {
      const to = targetUnit(model, r, from.kind === 'function' ? from.bytes : undefined);
      if (!to || to === from) continue;
      const set = refs.get(to) ?? new Set<Unit>();
      set.add(from);
      refs.set(to, set);
    }
  }
  return refs;
}

/**
 * Bytes between a RIP-relative field and its instruction's end: 4, plus an immediate that follows the
 * displacement (`cmpb $0, x(%rip)` = 80 3d disp32 imm8). The addend is the target minus this tail.
 */
export function pcrelTail(code: Uint8Array, field: number): number {
  const modrm = code[field - 1];
  if (field < 2 || (modrm & 0xc7) !== 0x05) return 4; // not a ModRM with RIP addressing: call/jmp/jcc rel32
  const reg = (modrm >> 3) & 7;
  const op = code[field - 2];
  const twoByte = field >= 3 && code[field - 3] === 0x0f;
  const operand16 = code[field - (twoByte ? 4 : 3)] === 0x66 || code[field - (twoByte ? 5 : 4)] === 0x66;
  if (twoByte) return op === 0xba ? 5 : 4; // bt/bts/btr/btc $imm8
  if ([0x80, 0x82, 0x83, 0xc6, 0xc0, 0xc1, 0x6b].includes(op)) return 5;
  if (op === 0xf6) return reg <= 1 ? 5 : 4;
  if (op === 0x81 || op === 0xc7 || op === 0x69 || (op === 0xf7 && reg <= 1)) return operand16 ? 6 : 8;
  return 4;
}

/**
 * The unit a relocation lands in, if it lands in one of this object's units. In code, a PC-relative addend is the
 * target minus the instruction's tail (see pcrelTail); in data tables (`.long x - .`) it is the target itself.
 */
export function targetUnit(model: ObjectModel, r: UnitReloc, code?: Uint8Array): Unit | undefined {
  const { symbol } = r;
  if (symbol.type !== STT_SECTION) return model.unitOfSymbol(symbol);
  const index = definedInSection(symbol);
  if (index === undefined) return undefined;
  const tail = code && isPcRelative(r.type) ? pcrelTail(code, r.offset) : 0;
  const unit = model.unitAt(index, Number(r.addend) + tail);
  if (unit) return unit;
  // With -fdata-sections most data sections hold one object; then there is no doubt which one is meant.
  const only = model.unitsInSection(index);
  return only.length === 1 ? only[0] : undefined;
}

/**
 * The name a unit is grouped under in both builds: clone and static-local numbers dropped (`foo.constprop`,
 * `::__func__`). Same-named units of a group are told apart by who references them and by content (pairing.ts).
 */
export function groupKeys(model: ObjectModel): Map<Unit, string> {
  const keys = new Map<Unit, string>();
  for (const unit of model.units) {
    const isStatic = unit.kind === 'data' && unit.local && isStaticLocalName(unit.name);
    keys.set(unit, isStatic ? `::${normalizeName(staticLocalBase(unit.name))}` : normalizeName(unit.name));
  }
  return keys;
}

const naming = new WeakMap<ObjectModel, { keys: Map<Unit, string>; owners: Map<Unit, string> }>();

/** groupKeys and ownersOf of a model, computed once (pairing and the module-parent choice both ask). */
export function unitNaming(model: ObjectModel): { keys: Map<Unit, string>; owners: Map<Unit, string> } {
  let n = naming.get(model);
  if (!n) {
    const keys = groupKeys(model);
    naming.set(model, (n = { keys, owners: ownersOf(model, keys) }));
  }
  return n;
}

/**
 * Who references each unit, as names that survive a rebuild: the referencing units' group keys, a `.cold` part
 * counted as its parent, sorted and deduplicated ("nfsd4_sequence" for both __func__ strings of nfsd4_sequence.cold).
 */
export function ownersOf(model: ObjectModel, keys: Map<Unit, string>): Map<Unit, string> {
  const owners = new Map<Unit, string>();
  for (const [unit, from] of referrers(model)) {
    const names = new Set([...from].map((u) => coldParent(keys.get(u)!) ?? keys.get(u)!));
    owners.set(unit, [...names].sort().join(','));
  }
  return owners;
}
