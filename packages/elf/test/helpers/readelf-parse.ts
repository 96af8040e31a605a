// Parsers for `readelf -W` output: the oracle the reader and writer are checked against.

export interface ReadelfSection {
  index: number;
  name: string;
  type: string;
  addr: bigint;
  offset: number;
  size: number;
  entsize: number;
  flags: string;
  link: number;
  info: number;
  align: number;
}

/** `readelf -W -S`. */
export function parseSections(text: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of text.split('\n')) {
    const head = /^\s*\[\s*(\d+)\] (.*?)\s*([0-9a-f]{16}) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!head) continue;
    const [, index, nameAndType, addr, offset, size, entsize, rest] = head;
    const words = nameAndType.trim().split(/\s+/);
    const [name, type] = words.length === 1 ? ['', words[0]] : [words[0], words.slice(1).join(' ')];
    const tail = rest.trim().split(/\s+/);
    if (tail.length < 3 || tail.length > 4) throw new Error(`cannot parse readelf section line: ${line}`);
    const [link, info, align] = tail.slice(-3).map(Number);
    out.push({
      index: Number(index), name, type, addr: BigInt(`0x${addr}`), offset: parseInt(offset, 16), size: parseInt(size, 16),
      entsize: parseInt(entsize, 16), flags: tail.length === 4 ? tail[0] : '', link, info, align,
    });
  }
  return out;
}

export interface ReadelfSymbol {
  index: number;
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
  vis: string;
  /** Section index, or UND / ABS / COM as printed. */
  ndx: string;
  name: string;
}

/** `readelf -W -s`: symbols of the table called `table` (default .symtab). */
export function parseSymbols(text: string, table = '.symtab'): ReadelfSymbol[] {
  const out: ReadelfSymbol[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    const title = /^Symbol table '(.*)' contains/.exec(line);
    if (title) {
      inTable = title[1] === table;
      continue;
    }
    if (!inTable) continue;
    const m = /^\s*(\d+): ([0-9a-f]{16})\s+(\S+) (\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?: (.*))?$/.exec(line);
    if (!m) continue;
    const [, index, value, size, type, bind, vis, ndx, name] = m;
    out.push({ index: Number(index), value: BigInt(`0x${value}`), size: BigInt(size), type, bind, vis, ndx, name: name ?? '' });
  }
  return out;
}

export interface ReadelfRelocation {
  offset: bigint;
  info: bigint;
  type: string;
  symbolName: string;
  addend: bigint;
}

/** `readelf -W -r`: relocation sections in file order, with their entries. */
export function parseRelocations(text: string): { section: string; entries: ReadelfRelocation[] }[] {
  const out: { section: string; entries: ReadelfRelocation[] }[] = [];
  let current: ReadelfRelocation[] | undefined;
  for (const line of text.split('\n')) {
    const title = /^Relocation section '(.*)' at offset/.exec(line);
    if (title) {
      current = [];
      out.push({ section: title[1], entries: current });
      continue;
    }
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16}) (\S+)\s+(.*)$/.exec(line);
    if (!m || !current) continue;
    const [, offset, info, type, rest] = m;
    const withSymbol = /^[0-9a-f]{16} (.*) ([+-]) ([0-9a-f]+)$/.exec(rest.trim());
    const bare = /^([+-]?) ?([0-9a-f]+)$/.exec(rest.trim());
    let symbolName = '';
    let addend: bigint;
    if (withSymbol) {
      symbolName = withSymbol[1];
      addend = BigInt(`0x${withSymbol[3]}`) * (withSymbol[2] === '-' ? -1n : 1n);
    } else if (bare) {
      addend = BigInt(`0x${bare[2]}`) * (bare[1] === '-' ? -1n : 1n);
    } else {
      throw new Error(`cannot parse readelf relocation line: ${line}`);
    }
    current.push({ offset: BigInt(`0x${offset}`), info: BigInt(`0x${info}`), type, symbolName, addend });
  }
  return out;
}

export interface ReadelfGroup {
  index: number;
  comdat: boolean;
  signature: string;
  members: { index: number; name: string }[];
}

/** `readelf -W -g`. */
export function parseGroups(text: string): ReadelfGroup[] {
  const out: ReadelfGroup[] = [];
  for (const line of text.split('\n')) {
    const title = /^(COMDAT )?group section \[\s*(\d+)\] `(.*)' \[(.*)\] contains (\d+) sections?:/.exec(line);
    if (title) {
      out.push({ index: Number(title[2]), comdat: Boolean(title[1]), signature: title[4], members: [] });
      continue;
    }
    const member = /^\s+\[\s*(\d+)\]\s+(\S+)\s*$/.exec(line);
    if (member && out.length > 0) out[out.length - 1].members.push({ index: Number(member[1]), name: member[2] });
  }
  return out;
}

/** Section flags as readelf -W -S prints them (x86-64): known letters lowest bit first, then o / p / x. */
export function readelfFlagLetters(flags: bigint): string {
  const letters: [bigint, string][] = [
    [0x1n, 'W'], [0x2n, 'A'], [0x4n, 'X'], [0x10n, 'M'], [0x20n, 'S'], [0x40n, 'I'], [0x80n, 'L'], [0x100n, 'O'],
    [0x200n, 'G'], [0x400n, 'T'], [0x800n, 'C'], [0x200000n, 'R'], [0x10000000n, 'l'], [0x80000000n, 'E'],
  ];
  let out = '';
  let rest = flags;
  for (const [bit, letter] of letters) {
    if (flags & bit) {
      out += letter;
      rest &= ~bit;
    }
  }
  if (rest & 0x0ff00000n) out += 'o';
  if (rest & 0xf0000000n) out += 'p';
  if (rest & ~0xfff00000n) out += 'x';
  return out;
}
