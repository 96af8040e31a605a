import { ElfFile, SHT_NOTE } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';

/** include/uapi/linux/elf.h / GNU: the note type of a build id, owner "GNU". */
const NT_GNU_BUILD_ID = 3;

/**
 * The GNU build id of an ELF file (hex), from its `.note.gnu.build-id` note (any SHT_NOTE section holding a
 * "GNU" note of type 3 is accepted). Reads only the section headers and the note: vmlinux is hundreds of MB.
 */
export function readBuildId(path: string): string {
  let file: ElfFile | undefined;
  try {
    file = ElfFile.open(path);
    const notes = [file.sectionByName('.note.gnu.build-id'), ...file.sections.filter((s) => s.type === SHT_NOTE)];
    for (const section of notes) {
      if (!section || section.type !== SHT_NOTE) continue;
      const id = buildIdNote(file.sectionData(section.index));
      if (id) return id;
    }
  } catch (err) {
    throw new UserError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    file?.close();
  }
  throw new UserError(`${path} has no GNU build id note`);
}

/** Walks ELF notes (namesz, descsz, type, name and desc each padded to 4 bytes) for the GNU build id. */
export function buildIdNote(data: Buffer): string | undefined {
  const align4 = (n: number) => (n + 3) & ~3;
  for (let at = 0; at + 12 <= data.length; ) {
    const namesz = data.readUInt32LE(at);
    const descsz = data.readUInt32LE(at + 4);
    const type = data.readUInt32LE(at + 8);
    const name = at + 12;
    const desc = name + align4(namesz);
    if (desc + descsz > data.length) return undefined;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && data.toString('latin1', name, name + 4) === 'GNU\0' && descsz > 0) {
      return data.toString('hex', desc, desc + descsz);
    }
    at = desc + align4(descsz);
  }
  return undefined;
}
