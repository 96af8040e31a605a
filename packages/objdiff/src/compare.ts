import { STT_SECTION, definedInSection } from '@hotsplice/elf';
import { pcrelTail, targetUnit } from './correlate';
import { normalizeName } from './names';
import { type ObjectModel, type Unit, type UnitReloc, isPcRelative, relocWidth } from './model';
import { comparableBytes } from './special-statics';

/** What a relocation points at, independent of section numbering, symbol order and string-table layout. */
export function relocTarget(model: ObjectModel, reloc: UnitReloc, code: Uint8Array, nameOf: (unit: Unit) => string): string {
  const { symbol } = reloc;
  const label = model.stringLabel(symbol);
  if (label) {
    const at = Number(label.offset + reloc.addend) + (isPcRelative(reloc.type) ? pcrelTail(code, reloc.offset) : 0);
    const string = model.stringAt(label.sectionIndex, at);
    if (string) return `"${string.text}"+${string.at}`;
    const constant = model.constantAt(label.sectionIndex, at);
    if (constant) return `const:${constant.hex}+${constant.at}`;
  }
  if (symbol.type !== STT_SECTION) {
    const unit = model.unitOfSymbol(symbol);
    return `${unit ? nameOf(unit) : normalizeName(symbol.name)}${addendText(reloc.addend)}`;
  }
  const index = definedInSection(symbol);
  if (index === undefined) return `?${reloc.addend}`;
  const target = Number(reloc.addend) + (isPcRelative(reloc.type) ? pcrelTail(code, reloc.offset) : 0);
  const string = model.stringAt(index, target);
  if (string) return `"${string.text}"+${string.at}`;
  const constant = model.constantAt(index, target);
  if (constant) return `const:${constant.hex}+${constant.at}`;
  const unit = targetUnit(model, reloc, code);
  if (unit) return `${nameOf(unit)}+${Number(reloc.addend) - unit.start}`;
  // An anonymous part of a section (switch tables, constants): name it by section and compare its bytes.
  return `${normalizeName(model.elf.sections[index].name)}+${target}#${contentKey(model.elf.sectionData(index))}`;
}

function addendText(addend: bigint): string {
  return addend === 0n ? '' : addend > 0n ? `+${addend}` : `${addend}`;
}

function contentKey(data: Uint8Array): string {
  let h = 2166136261;
  for (const b of data) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h.toString(16);
}

export interface Difference {
  offset: number;
  pre?: string;
  post?: string;
  relocation?: string;
}

/** Compare two units byte by byte (relocation fields masked) and relocation by relocation, by meaning. */
export function compareUnits(
  preModel: ObjectModel,
  pre: Unit,
  postModel: ObjectModel,
  post: Unit,
  nameOf: (unit: Unit) => string,
  lineMap?: (line: number) => number | undefined,
): Difference | undefined {
  const masked = (unit: Unit) => {
    const mask = new Uint8Array(unit.bytes.length);
    for (const r of unit.relocs) mask.fill(1, r.offset, r.offset + relocWidth(r.type));
    return mask;
  };
  const preMask = masked(pre);
  const postMask = masked(post);
  const length = Math.max(pre.bytes.length, post.bytes.length);
  const [preBytes, postBytes] = [comparableBytes(pre), comparableBytes(post)];
  const differing: number[] = [];
  for (let i = 0; i < length; i++) {
    if (preMask[i] && postMask[i]) continue;
    if (preBytes[i] !== postBytes[i] || preMask[i] !== postMask[i]) differing.push(i);
  }
  const lineOnly = (i: number) => isLineNumber(postModel, post, i) || movedLikeALine(pre, post, i, lineMap);
  if (differing.length && !(pre.bytes.length === post.bytes.length && differing.every(lineOnly))) {
    const i = differing[0];
    return { offset: i, pre: hex(pre.bytes, i), post: hex(post.bytes, i) };
  }
  const count = Math.max(pre.relocs.length, post.relocs.length);
  for (let i = 0; i < count; i++) {
    const a = pre.relocs[i];
    const b = post.relocs[i];
    const da = a && `${a.offset}:${a.type}:${relocTarget(preModel, a, pre.bytes, nameOf)}`;
    const db = b && `${b.offset}:${b.type}:${relocTarget(postModel, b, post.bytes, nameOf)}`;
    if (da !== db) return { offset: (b ?? a).offset, relocation: `${da ?? '(none)'} -> ${db ?? '(none)'}` };
  }
  return undefined;
}

/**
 * Functions that take `__LINE__` as an argument (include/linux/kernel.h might_sleep, might_fault, …). A line added
 * above such a call changes only the `mov $line, %esi` before it: that is not a functional change (design.md §8).
 */
const LINE_TAKERS = new Set(['__might_sleep', '__might_fault', '__might_resched', '__cant_sleep', '__cant_migrate', '___might_sleep']);

/**
 * Byte `i` lies in the imm32 of a `mov $imm32, %r32` (b8+r) that feeds a call (or tail-call jmp) taking a line number: a known
 * line-taking function, or any call that also gets `__func__` or a source file name (ext4_error, btrfs_abort,
 * __ext4_journal_get_write_access, … pass `__func__, __LINE__`).
 */
function isLineNumber(model: ObjectModel, unit: Unit, i: number): boolean {
  for (let op = i - 1; op >= Math.max(0, i - 4); op--) {
    if (unit.bytes[op] < 0xb8 || unit.bytes[op] > 0xbf || i - op > 4) continue;
    const call = unit.relocs.find((r) => r.offset > op + 4 && r.offset <= op + 64 && (unit.bytes[r.offset - 1] === 0xe8 || unit.bytes[r.offset - 1] === 0xe9));
    if (!call) continue;
    if (LINE_TAKERS.has(call.symbol.name)) return true;
    const context = unit.relocs.filter((r) => r.offset >= op - 48 && r.offset < call.offset);
    if (context.some((r) => passesFunctionOrFile(model, unit, r))) return true;
  }
  return false;
}

/** Byte `i` lies in a `mov $imm32, %r32` whose value went from line L to exactly where line L moved. */
function movedLikeALine(pre: Unit, post: Unit, i: number, lineMap?: (line: number) => number | undefined): boolean {
  if (!lineMap) return false;
  for (let op = i - 1; op >= Math.max(0, i - 4); op--) {
    if (post.bytes[op] < 0xb8 || post.bytes[op] > 0xbf || pre.bytes[op] !== post.bytes[op] || op + 5 > post.bytes.length) continue;
    const before = Buffer.from(pre.bytes.buffer, pre.bytes.byteOffset + op + 1, 4).readUInt32LE(0);
    const after = Buffer.from(post.bytes.buffer, post.bytes.byteOffset + op + 1, 4).readUInt32LE(0);
    if (before !== after && lineMap(before) === after) return true;
  }
  return false;
}

function passesFunctionOrFile(model: ObjectModel, unit: Unit, r: UnitReloc): boolean {
  if (/^__func__\.\d+$|^__FUNCTION__\.\d+$/.test(r.symbol.name)) return true;
  const target = targetUnit(model, r, unit.bytes);
  if (target && /^__func__\.\d+$/.test(target.name)) return true;
  const index = definedInSection(r.symbol);
  if (r.symbol.type !== STT_SECTION || index === undefined) return false;
  const text = model.stringAt(index, Number(r.addend) + (isPcRelative(r.type) ? pcrelTail(unit.bytes, r.offset) : 0))?.text ?? '';
  return /\.[ch]$/.test(text);
}

function hex(bytes: Uint8Array, at: number): string {
  return Buffer.from(bytes.subarray(at, at + 8)).toString('hex');
}
