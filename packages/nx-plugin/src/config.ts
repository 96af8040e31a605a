import { readFileSync } from 'node:fs';

/** hotpatch.json: what to build and for which kernel. */
export interface HotpatchConfig {
  /** Update id: names the module, the package and dist/hotpatch/<id>/. */
  id: string;
  kernel: { abi: string };
  patches: string[];
}

export function readHotpatchConfig(file: string): HotpatchConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = raw as Partial<HotpatchConfig>;
  if (typeof config.id !== 'string' || !/^[a-z0-9_]+$/.test(config.id)) {
    throw new Error(`${file}: "id" must be lower-case letters, digits and '_' (it names a kernel module)`);
  }
  if (!Array.isArray(config.patches) || !config.patches.every((p) => typeof p === 'string')) {
    throw new Error(`${file}: "patches" must be a list of patch files`);
  }
  return { id: config.id, kernel: { abi: config.kernel?.abi ?? 'newest' }, patches: config.patches };
}
