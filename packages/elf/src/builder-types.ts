// The builder's model: sections, symbols and relocations refer to each other by object, not by index, so they
// can be added, removed and reordered freely; indices, string tables and links are computed by toBuffer().

/** A section the builder writes as given (anything but the symbol, string, relocation and group tables, which
 * it generates). */
export interface BuildSection {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  /** sh_addralign: 0 or a power of two. */
  align: number;
  entsize: number;
  /** The section's bytes (ignored for SHT_NOBITS). */
  data: Uint8Array;
  /** sh_size of a SHT_NOBITS section (for other types the size is data.length). */
  size: number;
  /** sh_link / sh_info: another section (e.g. SHF_LINK_ORDER), the symbol table, or a raw number. */
  link: SectionLink;
  info: SectionLink;
}

export type SectionLink = BuildSection | 'symtab' | number;

/** A symbol; `section` is the defining section or a special index (SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_LIVEPATCH). */
export interface BuildSymbol {
  name: string;
  value: bigint;
  size: bigint;
  bind: number;
  type: number;
  visibility: number;
  /** st_other bits above the visibility (normally 0). */
  otherFlags: number;
  section: BuildSection | number;
}

export interface BuildRelocation {
  offset: bigint;
  type: number;
  /** null: no symbol (symbol index 0). */
  symbol: BuildSymbol | null;
  addend: bigint;
}

/** A SHT_RELA section: entries that apply to `target`. Usually `.rela<target name>`, one per target. */
export interface BuildRelaSection {
  name: string;
  target: BuildSection;
  /** Written with SHF_INFO_LINK added (and SHF_GROUP when the target is in a group). */
  flags: bigint;
  relocations: BuildRelocation[];
}

/** A SHT_GROUP section. Relocation sections of the members are added to the group automatically. */
export interface BuildGroup {
  name: string;
  /** GRP_COMDAT or 0. */
  flags: number;
  signature: BuildSymbol;
  members: BuildSection[];
}

export interface SectionInit {
  name: string;
  type?: number;
  flags?: bigint;
  addr?: bigint;
  align?: number;
  entsize?: number;
  data?: Uint8Array;
  size?: number;
  link?: SectionLink;
  info?: SectionLink;
}

export interface SymbolInit {
  name: string;
  section?: BuildSection | number;
  value?: bigint | number;
  size?: bigint | number;
  bind?: number;
  type?: number;
  visibility?: number;
  otherFlags?: number;
}

export interface RelocationInit {
  offset: bigint | number;
  type: number;
  symbol: BuildSymbol | null;
  addend?: bigint | number;
}

export interface BuilderOptions {
  machine?: number;
  osabi?: number;
  abiVersion?: number;
  /** e_flags. */
  flags?: number;
}
