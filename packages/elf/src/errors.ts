/**
 * Every problem with ELF input (or with a model the writer cannot serialize) is reported as an ElfError.
 * `offset` is the file offset of the offending structure or field (0 when no single place is to blame).
 */
export class ElfError extends Error {
  constructor(
    message: string,
    readonly offset: number = 0,
  ) {
    super(offset > 0 ? `${message} (at file offset 0x${offset.toString(16)})` : message);
    this.name = 'ElfError';
  }
}

/** Runs an encoder, turning out-of-range values (RangeError / TypeError from Buffer writes) into ElfError. */
export function encoding(what: string, encode: () => void): void {
  try {
    encode();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw new ElfError(`${what}: cannot encode (${error.message})`);
    throw error;
  }
}

/** Encodes every item, converting an out-of-range value into ElfError that names the item (described lazily). */
export function encodeEach<T>(items: readonly T[], describe: (item: T, index: number) => string, encode: (item: T, index: number) => void): void {
  let i = 0;
  try {
    for (; i < items.length; i++) encode(items[i], i);
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw new ElfError(`${describe(items[i], i)}: cannot encode (${error.message})`);
    throw error;
  }
}
