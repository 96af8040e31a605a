import { SHF_WRITE } from '@hotsplice/elf';
import { relocTarget } from './compare';
import { unitNaming } from './correlate';
import { type ObjectModel, type Unit, relocWidth } from './model';

export interface Pairing {
  pairs: Array<[Unit, Unit]>;
  onlyPre: Unit[];
  onlyPost: Unit[];
  /** A name per unit, equal for the two units of a pair and unique otherwise: what relocations compare by. */
  preNames: Map<Unit, string>;
  postNames: Map<Unit, string>;
}

/** What a unit holds, independent of numbering: bytes with relocation fields zeroed, then each relocation's target. */
function contentOf(model: ObjectModel, unit: Unit, nameOf: (u: Unit) => string): string {
  const bytes = Uint8Array.from(unit.bytes);
  for (const r of unit.relocs) bytes.fill(0, r.offset, r.offset + relocWidth(r.type));
  const relocs = unit.relocs.map((r) => `${r.offset}:${r.type}:${relocTarget(model, r, unit.bytes, nameOf)}`);
  return `${unit.size}|${Buffer.from(bytes).toString('hex')}|${relocs.join(';')}`;
}

interface Facts {
  keys: Map<Unit, string>;
  owners: Map<Unit, string>;
  content: (u: Unit) => string;
}

function factsOf(model: ObjectModel): Facts {
  const { keys, owners } = unitNaming(model);
  // A reference to read-only data (a `__func__` string) names it by its bytes; anything else by its group key.
  const provisional = (u: Unit) => (u.kind === 'data' && !(u.section.flags & SHF_WRITE) ? `${keys.get(u)}=${Buffer.from(u.bytes).toString('hex')}` : keys.get(u)!);
  const cache = new Map<Unit, string>();
  const content = (u: Unit) => {
    let c = cache.get(u);
    if (c === undefined) cache.set(u, (c = contentOf(model, u, provisional)));
    return c;
  };
  return { keys, owners, content };
}

/**
 * Pair the same-named units of one group. gcc numbers static locals and clones per translation unit and orders
 * them in the symbol table as it emits them, so neither number nor order survives an edit elsewhere in the file
 * (nfsd4_sequence's two `__func__` strings swapped places between 6.1.192-2 and -3). Rounds, each pairing only
 * what it decides unambiguously: same referencing functions and same content; same referencing functions alone;
 * same content alone; finally the last unit left on each side.
 */
function pairGroup(pre: Unit[], post: Unit[], a: Facts, b: Facts, pairs: Array<[Unit, Unit]>): void {
  const left = { pre: [...pre], post: [...post] };
  const take = (p: Unit, q: Unit) => {
    pairs.push([p, q]);
    left.pre.splice(left.pre.indexOf(p), 1);
    left.post.splice(left.post.indexOf(q), 1);
  };
  if (pre.length === 1 && post.length === 1) return take(pre[0], post[0]);
  const rounds: Array<{ by: (f: Facts, u: Unit) => string; duplicatesAlike: boolean }> = [
    // Units alike in both respects are interchangeable: which copy pairs with which cannot be told and does not matter.
    { by: (f, u) => `${f.owners.get(u) ?? ''}\0${f.content(u)}`, duplicatesAlike: true },
    { by: (f, u) => f.owners.get(u) ?? '', duplicatesAlike: false },
    { by: (f, u) => f.content(u), duplicatesAlike: false },
  ];
  for (const { by, duplicatesAlike } of rounds) {
    const sides = new Map<string, { pre: Unit[]; post: Unit[] }>();
    const side = (k: string) => sides.get(k) ?? sides.set(k, { pre: [], post: [] }).get(k)!;
    for (const u of left.pre) side(by(a, u)).pre.push(u);
    for (const u of left.post) side(by(b, u)).post.push(u);
    for (const s of sides.values()) {
      if (duplicatesAlike) for (let i = 0; i < Math.min(s.pre.length, s.post.length); i++) take(s.pre[i], s.post[i]);
      else if (s.pre.length === 1 && s.post.length === 1) take(s.pre[0], s.post[0]);
    }
  }
  if (left.pre.length === 1 && left.post.length === 1) take(left.pre[0], left.post[0]);
}

/** Pair pre and post units: by group key, then within a group by referencing functions and content. */
export function correlate(pre: ObjectModel, post: ObjectModel): Pairing {
  const a = factsOf(pre);
  const b = factsOf(post);
  const groups = new Map<string, { pre: Unit[]; post: Unit[] }>();
  const group = (k: string) => groups.get(k) ?? groups.set(k, { pre: [], post: [] }).get(k)!;
  for (const u of pre.units) group(`${u.kind}:${a.keys.get(u)}`).pre.push(u);
  for (const u of post.units) group(`${u.kind}:${b.keys.get(u)}`).post.push(u);
  const pairs: Array<[Unit, Unit]> = [];
  for (const g of groups.values()) pairGroup(g.pre, g.post, a, b, pairs);

  const preNames = new Map<Unit, string>();
  const postNames = new Map<Unit, string>();
  const count = new Map<string, number>();
  for (const [p, q] of pairs) {
    const key = a.keys.get(p)!;
    const n = count.get(key) ?? 0;
    count.set(key, n + 1);
    const name = n === 0 ? key : `${key}#${n}`;
    preNames.set(p, name);
    postNames.set(q, name);
  }
  const paired = new Set(pairs.flat());
  const onlyPre = pre.units.filter((u) => !paired.has(u));
  const onlyPost = post.units.filter((u) => !paired.has(u));
  for (const u of onlyPre) preNames.set(u, `${a.keys.get(u)}#pre:${u.name}`);
  for (const u of onlyPost) postNames.set(u, `${b.keys.get(u)}#post:${u.name}`);
  return { pairs, onlyPre, onlyPost, preNames, postNames };
}
