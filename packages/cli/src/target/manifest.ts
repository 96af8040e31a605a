// manifest.json of an update package, checked field by field before anything trusts it: a package is foreign
// input, and `null` or a number where a string belongs must be refused by name, not crash later.
import { UserError } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';

/** The manifest format this CLI understands (packages/link writes it). */
export const FORMAT = 'hotsplice-update/1';

/** What a JSON value is, in the words an error line uses. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

class Fields {
  constructor(private readonly where: string) {}

  wrong(field: string, wanted: string, value: unknown): never {
    if (value === undefined) throw new UserError(`${this.where}: ${field} is missing (${wanted})`);
    throw new UserError(`${this.where}: ${field} must be ${wanted}, not ${kind(value)}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.wrong(field, 'an object', value);
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.wrong(field, 'an array', value);
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string') this.wrong(field, 'a string', value);
    return value;
  }

  count(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) this.wrong(field, 'a whole number ≥ 0', value);
    return value;
  }
}

/** The manifest's bytes as a Manifest, or one line naming the first field that is missing or of the wrong type. */
export function parseManifest(data: Buffer | undefined, label: string): Manifest {
  if (!data) throw new UserError(`${label}: no manifest.json (not a hotsplice update package)`);
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    throw new UserError(`${label}: manifest.json is not JSON`);
  }
  const f = new Fields(`${label}: manifest.json`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(`${label}: manifest.json must hold a JSON object, not ${kind(json)}`);
  }
  const m = json as Record<string, unknown>;
  if (m.format !== FORMAT) throw new UserError(`${label}: manifest format "${String(m.format)}" is not ${FORMAT}`);
  f.string(m.id, 'id');
  if (!/^[a-z0-9_]{1,55}$/.test(f.string(m.module, 'module'))) throw new UserError(`${label}: manifest names no valid module`);
  const kernel = f.object(m.kernel, 'kernel');
  for (const key of ['abi', 'version', 'vmlinuxBuildId']) f.string(kernel[key], `kernel.${key}`);
  if (typeof m.replace !== 'boolean') f.wrong('replace', 'a boolean', m.replace);
  f.array(m.patches, 'patches').forEach((p, i) => {
    const patch = f.object(p, `patches[${i}]`);
    f.string(patch.name, `patches[${i}].name`);
    f.string(patch.sha256, `patches[${i}].sha256`);
  });
  const members = f.object(m.members, 'members');
  for (const [name, sum] of Object.entries(members)) {
    if (name.includes('/')) throw new UserError(`${label}: manifest member "${name}" is not a plain file name`);
    f.string(sum, `members["${name}"]`);
  }
  if (m.sizes !== undefined) {
    const sizes = f.object(m.sizes, 'sizes');
    for (const [name, size] of Object.entries(sizes)) {
      if (!(name in members)) throw new UserError(`${label}: manifest.json: sizes names "${name}", which members does not list`);
      f.count(size, `sizes["${name}"]`);
    }
    for (const name of Object.keys(members)) if (!(name in sizes)) f.wrong(`sizes["${name}"]`, 'a whole number ≥ 0', undefined);
  }
  f.array(m.objects, 'objects').forEach((o, i) => {
    const object = f.object(o, `objects[${i}]`);
    f.string(object.objname, `objects[${i}].objname`);
    f.array(object.functions, `objects[${i}].functions`).forEach((fn, j) => {
      const func = f.object(fn, `objects[${i}].functions[${j}]`);
      const at = `objects[${i}].functions[${j}]`;
      f.string(func.name, `${at}.name`);
      f.count(func.sympos, `${at}.sympos`);
      f.string(func.object, `${at}.object`);
      f.string(func.newSymbol, `${at}.newSymbol`);
      if (func.forceUnsafe !== undefined && func.forceUnsafe !== true) f.wrong(`${at}.forceUnsafe`, 'true when present', func.forceUnsafe);
    });
  });
  if (m.level !== undefined && !(Number.isSafeInteger(m.level) && (m.level as number) >= 1)) f.wrong('level', 'a whole number ≥ 1', m.level);
  if (m.level !== undefined && m.replace !== true) throw new UserError(`${label}: manifest.json: a patch level must be an atomic-replace update (replace is false)`);
  if (m.cves !== undefined) f.array(m.cves, 'cves').forEach((c, i) => f.string(c, `cves[${i}]`));
  if (m.effectiveVersion !== undefined) f.string(m.effectiveVersion, 'effectiveVersion');
  return m as unknown as Manifest;
}
