// A parsed `readelf -W -S -s -r` of a relocatable object: an oracle independent of our own ELF code.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface RSection {
  index: number;
  name: string;
  type: string;
  offset: number;
  size: number;
  flags: string;
}

export interface RSymbol {
  num: number;
  value: number;
  size: number;
  type: string;
  bind: string;
  /** The section index as a number, or UND/ABS/COM. */
  ndx: string;
  name: string;
  /** The section the symbol is defined in (undefined for UND/ABS/COM). */
  section?: string;
}

export interface RReloc {
  offset: number;
  type: string;
  /** Symbol name as readelf prints it (section symbols print as the section's name). */
  symbol: string;
  addend: number;
}

function readelfText(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('readelf', ['-W', '-S', '-s', '-r', file], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`readelf ${file}: ${String(stderr) || err.message}`));
      else resolve(String(stdout));
    });
  });
}

export class ReadelfObject {
  readonly sections: RSection[] = [];
  readonly symbols: RSymbol[] = [];
  /** Relocations by the name of the section they apply to (".rela" stripped). */
  readonly relocations = new Map<string, RReloc[]>();

  constructor(
    readonly file: string,
    readonly bytes: Buffer,
    text: string,
  ) {
    let mode: 'none' | 'sections' | 'symbols' | 'relocs' = 'none';
    let relocTarget = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('Section Headers:')) {
        mode = 'sections';
        continue;
      }
      if (line.startsWith("Symbol table '.symtab'")) {
        mode = 'symbols';
        continue;
      }
      const rel = /^Relocation section '([^']+)'/.exec(line);
      if (rel) {
        mode = 'relocs';
        relocTarget = rel[1]!.replace(/^\.rela/, '');
        this.relocations.set(relocTarget, []);
        continue;
      }
      if (mode === 'sections') {
        const m = /^\s*\[\s*(\d+)\]\s+(.*)$/.exec(line);
        if (!m) continue;
        const t = m[2]!.trim().split(/\s+/);
        const named = t.length >= 9;
        const [name, type, , off, size, , ...rest] = named ? t : ['', ...t];
        const flags = rest.length === 4 ? rest[0]! : '';
        this.sections.push({ index: Number(m[1]), name: name!, type: type!, offset: parseInt(off!, 16), size: parseInt(size!, 16), flags });
      } else if (mode === 'symbols') {
        const m = /^\s*(\d+):\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
        if (!m) continue;
        const ndx = m[7]!;
        const size = m[3]!.startsWith('0x') ? parseInt(m[3]!, 16) : Number(m[3]);
        const section = /^\d+$/.test(ndx) ? this.sections.find((s) => s.index === Number(ndx))?.name : undefined;
        this.symbols.push({ num: Number(m[1]), value: parseInt(m[2]!, 16), size, type: m[4]!, bind: m[5]!, ndx, name: m[8]!.trim(), section });
      } else if (mode === 'relocs') {
        const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(\S+)\s+(?:[0-9a-f]{16}\s+(\S+)\s*([+-])\s*([0-9a-f]+)|([+-]?)([0-9a-f]+))?\s*$/.exec(line);
        if (!m) continue;
        const addend = m[3] !== undefined ? (m[4] === '-' ? -1 : 1) * parseInt(m[5]!, 16) : (m[6] === '-' ? -1 : 1) * parseInt(m[7] ?? '0', 16);
        this.relocations.get(relocTarget)!.push({ offset: parseInt(m[1]!, 16), type: m[2]!, symbol: m[3] ?? '', addend });
      }
    }
  }

  static async read(file: string): Promise<ReadelfObject> {
    const [bytes, text] = await Promise.all([readFile(file), readelfText(file)]);
    return new ReadelfObject(file, bytes, text);
  }

  section(name: string): RSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  hasSection(name: string): boolean {
    return this.section(name) !== undefined;
  }

  /** Section bytes (empty for NOBITS). */
  sectionBytes(name: string): Buffer {
    const s = this.section(name);
    if (!s) throw new Error(`${this.file}: no section ${name}`);
    return s.type === 'NOBITS' ? Buffer.alloc(0) : this.bytes.subarray(s.offset, s.offset + s.size);
  }

  symbol(name: string): RSymbol | undefined {
    return this.symbols.find((s) => s.name === name);
  }

  /** Defined symbols of a type (FUNC / OBJECT), by name. */
  defined(type: 'FUNC' | 'OBJECT'): string[] {
    return this.symbols.filter((s) => s.type === type && s.section !== undefined).map((s) => s.name);
  }

  /** A defined symbol's bytes inside its section. */
  symbolBytes(name: string): Buffer {
    const sym = this.symbol(name);
    if (!sym?.section) throw new Error(`${this.file}: no defined symbol ${name}`);
    return this.sectionBytes(sym.section).subarray(sym.value, sym.value + sym.size);
  }

  /** Relocations applied inside a defined symbol's range, offsets relative to the symbol. */
  relocsIn(name: string): RReloc[] {
    const sym = this.symbol(name);
    if (!sym?.section) throw new Error(`${this.file}: no defined symbol ${name}`);
    return (this.relocations.get(sym.section) ?? [])
      .filter((r) => r.offset >= sym.value && r.offset < sym.value + sym.size)
      .map((r) => ({ ...r, offset: r.offset - sym.value }));
  }

  /** Relocations of section `from` whose target is section `to` (its section symbol or a symbol defined in it). */
  relocsInto(from: string, to: string): RReloc[] {
    const inTo = new Set(this.symbols.filter((s) => s.section === to).map((s) => s.name));
    return (this.relocations.get(from) ?? []).filter((r) => r.symbol === to || inTo.has(r.symbol));
  }

  /** Whether the object's bytes contain a NUL-terminated string. */
  hasString(text: string): boolean {
    return this.bytes.includes(Buffer.from(`${text}\0`, 'latin1'));
  }
}
