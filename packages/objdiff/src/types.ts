// The public contract of the differ: what `diffObjects` takes and reports. Other stages (the Nx executors, the CLI
// `hotsplice diff`, run-pre) depend only on these types.
import type { Promotion } from './promote';

export type { Promotion };

/** Why a symbol counts as it does. */
export type SymbolStatus = 'changed' | 'new' | 'unchanged' | 'refused';

export interface SymbolReport {
  /** The symbol's name in the post object (pre name for symbols only in pre). */
  name: string;
  kind: 'function' | 'data';
  status: SymbolStatus;
  /** For changed: the first differing byte offset inside the symbol, or the first differing relocation. */
  firstDifference?: { offset: number; pre?: string; post?: string; relocation?: string };
  /** One line: why it is changed / refused. */
  reason?: string;
}

export interface DiffReport {
  /** The object being diffed, e.g. "fs/proc/version.o". */
  object: string;
  /** The klp object the patch binds to: "vmlinux" or a module name. */
  objname: string;
  /** Existing functions whose code changed (post names, as the kernel names them: "foo.constprop.0" stays so). */
  changed: string[];
  /** Functions only in post (new static helpers included). */
  new: string[];
  /** Data objects only in post (new globals, new static locals). */
  newData: string[];
  /** Symbols that make the patch impossible, each with the reason; non-empty means no outputs are written. */
  refused: Array<{ symbol: string; reason: string }>;
  /** What the loader's klp_func table needs for each changed function (empty unless outputs were written). */
  patched: Array<{ name: string; oldName: string; sympos: number; newSymbol: string }>;
  /**
   * Changed functions without an fentry call, carried by the callers that call them (the callers are in `changed`
   * and `patched`; the notrace copies ride along in the new code).
   */
  promoted?: Promotion[];
  /** Functions the patch registers with <linux/hotsplice.h>'s hotsplice_pre_patch(fn) & co., in source order. */
  callbacks: Array<{ kind: CallbackKind; function: string; newSymbol: string; takesObject?: boolean }>;
  /** Changed functions the patch asked to leave alone (hotsplice_ignore_function/_section, KPATCH_IGNORE_*). */
  ignored?: string[];
  /** Replaced functions the patch marks hotsplice_force_unsafe (KPATCH_FORCE_UNSAFE). */
  forced?: string[];
  /**
   * Forced functions every sleeping task holds (the scheduler's entries, sleep-held.ts), accepted because the code
   * after each of their calls is unchanged; an update with one carries nothing else.
   */
  sleepHeld?: string[];
  symbols: SymbolReport[];
}

/** When livepatch runs a callback of a klp object (Documentation/livepatch/callbacks.rst). */
export type CallbackKind = 'pre_patch' | 'post_patch' | 'pre_unpatch' | 'post_unpatch';

/** A symbol table the patch binds to (vmlinux, a module, or the pre object itself), in address order. */
export interface ParentSymbol {
  name: string;
  /** STT_FUNC, STT_OBJECT, …; local (STB_LOCAL) or not. */
  type: number;
  local: boolean;
  value: bigint;
  size: bigint;
  /** The STT_FILE symbol in effect (source file basename), which tells same-named locals of vmlinux apart. */
  file?: string;
  /** That STT_FILE symbol's index: one per linked object, where several objects' sources share a basename. */
  fileGroup?: number;
  /** A module parent's (.ko) unit for the symbol: same-named locals of a module are told apart by content. */
  content?: import('./parent-match').UnitOf;
}

export interface DiffOptions {
  /** Object path for the report. */
  object?: string;
  /** "vmlinux" (default) or the module name. */
  objname?: string;
  /** Symbols of the ELF the patch binds to; default: the pre object's own. */
  parent?: ParentSymbol[];
  /** Exported symbol names (Module.symvers): calls to these stay plain relocations, others become klp relocations. */
  exported?: Set<string>;
  /**
   * Where each line of the patched source file moved (from the patch's hunks): pre line → post line, undefined for
   * a changed line. With it, any `mov $imm32` whose value moved exactly like a source line counts as a `__LINE__`
   * shift (ext4's `__ext4_journal_start_sb(sb, __LINE__, …)`); without it only known line-taking callees do.
   */
  lineMap?: (line: number) => number | undefined;
}

export interface DiffResult {
  report: DiffReport;
  /** keep-new-code: changed + new functions and what they newly need; undefined when nothing changed or refused. */
  newCode?: Buffer;
  /** keep-old-code: the pre code of the changed functions with their relocations, for run-pre matching. */
  oldCode?: Buffer;
}
