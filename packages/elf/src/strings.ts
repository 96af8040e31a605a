import { ElfError } from './errors';

/**
 * The NUL-terminated string at `offset` in a string table. `fileOffset` is where the table starts in the file
 * (for error messages). Decoded as latin1 so every byte maps to one character and back.
 */
export function readCString(table: Buffer, offset: number, fileOffset: number, what: string): string {
  if (offset >= table.length) {
    if (offset === 0) return ''; // an empty (size 0) table: only the empty name is representable
    throw new ElfError(`${what}: name offset ${offset} is outside its string table (size ${table.length})`, fileOffset);
  }
  const end = table.indexOf(0, offset);
  if (end < 0) throw new ElfError(`${what}: name at offset ${offset} is not NUL-terminated`, fileOffset + offset);
  return table.toString('latin1', offset, end);
}

/** Rejects what cannot be stored as an ELF name: every character must be one non-NUL byte (latin1). */
export function checkName(name: string, what: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0 || c > 0xff) {
      throw new ElfError(`${what}: name ${JSON.stringify(name)} has a character that is not a non-NUL byte (names are latin1; encode UTF-8 names first)`);
    }
  }
}

/**
 * Builds a string table: offset 0 is the empty string, each distinct name is stored once, and a name that is
 * the tail of an already-stored one (".text" in ".rela.text") reuses its bytes when `mergeTails` is on.
 */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>();
  private readonly names: string[] = [];
  private finished: Buffer | undefined;

  constructor(private readonly what: string) {}

  add(name: string): void {
    if (this.finished) throw new ElfError(`${this.what}: string table already finished`);
    if (name === '' || this.offsets.has(name)) return;
    checkName(name, this.what);
    this.offsets.set(name, -1);
    this.names.push(name);
  }

  /** Lays the table out. Longer names first, so shorter names can share their tails. */
  finish(mergeTails = true): Buffer {
    if (this.finished) return this.finished;
    const order = mergeTails ? byReversedDescending(this.names) : this.names;
    const stored: string[] = [];
    let size = 1;
    let previous = '';
    let previousOffset = 0;
    for (const name of order) {
      // In this order the names ending with `name` come just before it, and the last one stored among them is
      // `previous`, so one comparison finds a tail to share.
      if (mergeTails && previous.endsWith(name)) {
        this.offsets.set(name, previousOffset + previous.length - name.length);
        continue;
      }
      this.offsets.set(name, size);
      stored.push(name);
      previous = name;
      previousOffset = size;
      size += name.length + 1;
    }
    const table = Buffer.alloc(size); // zero-filled: every name is followed by its NUL
    for (const name of stored) table.write(name, this.offsets.get(name)!, 'latin1');
    this.finished = table;
    return table;
  }

  offsetOf(name: string): number {
    if (name === '') return 0;
    const offset = this.offsets.get(name);
    if (offset === undefined || offset < 0) throw new ElfError(`${this.what}: ${JSON.stringify(name)} was not added before finish()`);
    return offset;
  }
}

/** Orders names by their reversed string, descending: "xbar", "bar", "ar" come out adjacent, longest first. */
function byReversedDescending(names: string[]): string[] {
  const reversed = names.map((name) => {
    let r = '';
    for (let i = name.length - 1; i >= 0; i--) r += name[i];
    return r;
  });
  const order = names.map((_, i) => i);
  // Plain code-unit comparison (latin1 names: byte order); a prefix sorts before its extensions, so descending
  // puts every extension before it.
  order.sort((a, b) => (reversed[a] < reversed[b] ? 1 : reversed[a] > reversed[b] ? -1 : 0));
  return order.map((i) => names[i]);
}
