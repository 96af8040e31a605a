import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type KernelPaths, UserError, buildExternalModule, objtoolArgs, objtoolAtLink, parseConfig, runLinkObjtool } from '@hotsplice/kernel';
import { type DiffReport, parseSymvers } from '@hotsplice/objdiff';
import { parseElf } from '@hotsplice/elf';
import { ANCHOR, rebaseKlpRelocations, systemMapAddresses } from './klp-anchor';
import { definedGlobals, finalizeKlp, parseKlpSymbol, toLinkable } from './klp-form';
import { generateMeta, moduleName } from './meta';
import { importedNamespaces } from './namespaces';
import { objtoolTables, refuseStoppedObjtool, tablesObjtoolOwes, withoutObjtoolTables } from './objtool-tables';
import { KERNEL_MODULE_DIR } from './paths';

export interface NewCodeObject {
  /** keep-new-code output of the differ (real klp form). */
  path: string;
  report: DiffReport;
}

export interface LinkModuleOptions {
  /** The update id; the module (and /sys/kernel/livepatch/<name>) is moduleName(id). */
  id: string;
  /** systemMap: the loader's own klp symbols must name symbols vmlinux has exactly once. */
  kernel: Pick<KernelPaths, 'headersTree' | 'compiler' | 'buildRoot' | 'config' | 'systemMap'>;
  newCodeObjects: NewCodeObject[];
  /** Scratch folder of this link (emptied): `src/` is the kbuild folder laid out here, `build/` where kbuild runs. */
  workDir: string;
  /** klp_patch.replace. */
  replace?: boolean;
}

export interface LinkModuleResult {
  /** The finished module, `<workDir>/build/<name>.ko`. */
  ko: string;
  /** kbuild's module before finalizeKlp (`<name>.ko.linked`), kept to inspect what the post-link step changed. */
  linked: string;
  /** What was built and how: the Kbuild file, the make call, kbuild's messages. */
  buildLog: string;
}

export const LOADER_SOURCE = 'hotsplice-loader.c';
/** Transition control (kernel-module/loader/hotsplice-control.c), compiled into every update beside the loader. */
export const CONTROL_SOURCE = 'hotsplice-control.c';
export const META_SOURCE = 'hotsplice-meta.c';

/**
 * Makefile.ksplice's kmodsrc step: the loader, the generated klp tables and the new code of every changed object
 * become one livepatch module, built by kbuild against Debian's headers tree (modpost checks every imported
 * symbol's CRC against Debian's Module.symvers), then finalized into klp form.
 *
 * The new code enters kbuild as `<name>.o_shipped` (scripts/Makefile.lib: `$(obj)/%: $(src)/%_shipped` copies it
 * to `<name>.o`), in toLinkable() form because kbuild links with `ld -r`.
 */
export async function linkModule(options: LinkModuleOptions): Promise<LinkModuleResult> {
  const name = moduleName(options.id);
  if (!options.newCodeObjects.length) throw new UserError(`update ${options.id}: no new code to link`);
  const src = join(options.workDir, 'src');
  const build = join(options.workDir, 'build');
  await rm(options.workDir, { recursive: true, force: true });
  await mkdir(join(src, 'include'), { recursive: true });

  for (const source of [LOADER_SOURCE, CONTROL_SOURCE]) await copyFile(join(KERNEL_MODULE_DIR, 'loader', source), join(src, source));
  await copyFile(join(KERNEL_MODULE_DIR, 'include', 'hotsplice.h'), join(src, 'include', 'hotsplice.h'));
  const shipped = shippedNames(options.newCodeObjects);
  const newCode = await Promise.all(
    options.newCodeObjects.map((object) =>
      readFile(object.path).catch(() => {
        throw new UserError(`cannot read new code ${object.path}`);
      }),
    ),
  );
  const defined = definedGlobals(newCode);
  const config = parseConfig(await readFile(options.kernel.config, 'utf8'));
  // objtool runs over the whole module at its link: it writes the tables for the new code too.
  const tables = objtoolAtLink(config) ? objtoolTables(config.get('CONFIG_FTRACE_MCOUNT_USE_OBJTOOL') === 'y') : [];
  const linkable = newCode.map((code) => toLinkable(tables.length ? withoutObjtoolTables(code, tables) : code, defined));
  const symversFile = join(options.kernel.headersTree, 'Module.symvers');
  const symvers = await readFile(symversFile, 'utf8').catch(() => undefined);
  const namespaces = symvers === undefined ? [] : importedNamespaces(linkable, parseSymvers(symvers, symversFile), defined);
  const reports = options.newCodeObjects.map((o) => o.report);
  await writeFile(join(src, META_SOURCE), generateMeta(reports, { id: options.id, replace: options.replace, namespaces }));
  for (const [i, object] of options.newCodeObjects.entries()) {
    await writeFile(join(src, `${shipped[i]}_shipped`), linkable[i]);
    // modpost reads `.<obj>.cmd` of every object of the module for `#SYMVER` lines (scripts/mod/modpost.c
    // mod_set_crcs → extract_crcs_for_object, fatal when missing); the copy rule writes none. New code exports
    // nothing, so the file only has to exist; kbuild also includes it as make syntax, so it holds a comment.
    await writeFile(join(src, `.${shipped[i]}.cmd`), `# ${shipped[i]}: new code of ${object.report.object || basename(object.path)}, shipped by hotsplice (no exports)\n`);
  }
  const kbuild = kbuildFile(name, [...[LOADER_SOURCE, CONTROL_SOURCE, META_SOURCE].map((c) => c.replace(/\.c$/, '.o')), ...shipped]);
  await writeFile(join(src, 'Kbuild'), kbuild);

  const started = Date.now();
  const kcflags = reproducibleCflags(options.kernel.headersTree);
  // make turns environment variables into make variables; KCFLAGS reaches every compile (top Makefile).
  const env = { KCFLAGS: [process.env.KCFLAGS, kcflags].filter(Boolean).join(' ') };
  const modules = await buildExternalModule({ sourceDir: src, buildDir: build, kernel: options.kernel, env });
  const seconds = (Date.now() - started) / 1000;
  const ko = join(build, `${name}.ko`);
  if (!modules.includes(ko)) throw new UserError(`kbuild built ${modules.map((m) => basename(m)).join(', ')}, not ${name}.ko`);
  if (tables.length) await checkModuleObjtool(options.kernel, config, join(build, `${name}.o`), `the update module ${name}.ko`);
  const linked = `${ko}.linked`;
  await copyFile(ko, linked);
  await checkLoaderSymbols([LOADER_SOURCE, CONTROL_SOURCE].map((c) => join(build, c.replace(/\.c$/, '.o'))), options.kernel.systemMap);
  const rebased = rebaseKlpRelocations(finalizeKlp(await readFile(linked)), systemMapAddresses(await readFile(options.kernel.systemMap, 'latin1')));
  await writeFile(ko, rebased.ko);

  const buildLog = [
    `module ${name}: ${options.newCodeObjects.map((o) => o.report.object || o.path).join(', ')}`,
    `KCFLAGS='${kcflags}' make -C ${options.kernel.headersTree} M=${build} CC=${options.kernel.compiler}${options.kernel.buildRoot ? ` (in ${options.kernel.buildRoot})` : ''} -s modules (${seconds.toFixed(1)} s)`,
    '--- Kbuild',
    kbuild.trimEnd(),
    `--- finalized ${name}.ko (klp relocations and symbols restored; ${rebased.rebased} vmlinux klp relocation(s) rebased onto ${ANCHOR} or to sympos 1, ${rebased.kept} left to livepatch's lookup by name)`,
    '',
  ].join('\n');
  return { ko, linked, buildLog };
}

/**
 * The loader reaches unexported vmlinux symbols by name with position 0 (HOTSPLICE_VMLINUX_SYMBOL, hotsplice.h),
 * which livepatch resolves only when the name is vmlinux's exactly once (kernel/livepatch/core.c
 * klp_find_object_symbol: "unresolvable ambiguity" otherwise). A kernel where one is missing or repeated is named
 * here, not by a failing insmod on the target.
 */
async function checkLoaderSymbols(objects: string[], systemMap: string): Promise<void> {
  const wanted = new Set<string>();
  for (const object of objects) {
    for (const s of parseElf(await readFile(object)).symbols) {
      const klp = parseKlpSymbol(s.name);
      if (klp) wanted.add(klp.name);
    }
  }
  if (!wanted.size) return;
  const counts = new Map([...wanted].map((n) => [n, 0]));
  for (const line of (await readFile(systemMap, 'utf8')).split('\n')) {
    const name = line.slice(line.lastIndexOf(' ') + 1);
    const n = counts.get(name);
    if (n !== undefined) counts.set(name, n + 1);
  }
  for (const [name, n] of counts) {
    if (n !== 1) throw new UserError(`the loader uses vmlinux's ${name}, which ${systemMap} lists ${n === 0 ? 'nowhere' : `${n} times`}: livepatch could not resolve it`);
  }
}

/** The Kbuild file: one composite module named after the update. */
export function kbuildFile(name: string, objects: string[]): string {
  return [`obj-m := ${name}.o`, `${name}-y := ${objects.join(' ')}`, 'ccflags-y := -I$(src)/include', ''].join('\n');
}

/**
 * kbuild's objtool pass over the linked module (6.12: `--link --module` after `ld -r`) exits 0 when it stops at a
 * fatal warning, and make is silent about it: the module then lacks the tables the pass owes (refuseStoppedObjtool).
 * Only then is the pass run once more, on a copy of the module's object: it stops at the same place, for its message.
 */
async function checkModuleObjtool(kernel: LinkModuleOptions['kernel'], config: Map<string, string>, object: string, what: string): Promise<void> {
  const linked = parseElf(await readFile(object));
  if (tablesObjtoolOwes(linked, objtoolArgs(config, true)).every((table) => linked.sectionByName(table))) return;
  const copy = `${object}.objtool-again`;
  await copyFile(object, copy);
  try {
    const pass = await runLinkObjtool(kernel, copy, true);
    if (pass) refuseStoppedObjtool(linked, linked, pass, what);
  } finally {
    await rm(copy, { force: true });
  }
}

/**
 * Compiler flags that keep machine paths out of the module, so the same inputs give the same .ko bytes wherever
 * the workspace and the kernel cache are: the build folder (debug info, and `__FILE__` in pr_debug's dynamic-debug
 * records) and the headers tree (debug info's include directories) become relative.
 *
 * They must reach the `<name>.mod.o` that modpost generates too, which scripts/Makefile.modfinal compiles without
 * the Kbuild file's ccflags-y; KCFLAGS reaches every compile (top Makefile: `KBUILD_CFLAGS += $(KCFLAGS)`).
 * `$(KBUILD_EXTMOD)` is left for make to expand: it is the M= folder.
 */
export function reproducibleCflags(headersTree: string): string {
  return `-ffile-prefix-map=$(KBUILD_EXTMOD)/= -ffile-prefix-map=${dirname(headersTree)}/=`;
}

/** `new-<object path with / as ->.o` per new-code object, unique, never equal to the module's own name. */
export function shippedNames(objects: NewCodeObject[]): string[] {
  const used = new Set<string>();
  return objects.map((o) => {
    const base = `new-${(o.report.object || basename(o.path)).replace(/\.o$/, '').replace(/[^A-Za-z0-9_]+/g, '-')}`;
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}-${n}`;
    used.add(candidate);
    return `${candidate}.o`;
  });
}
