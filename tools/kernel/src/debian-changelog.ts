/** One item of a Debian changelog entry: `  * title` or, under an upstream stable update, `    - title`. */
export interface ChangelogItem {
  version: string;
  title: string;
  cves: string[];
}

const HEADER = /^linux \(([^)]+)\) [^;]+;/;
const ITEM = /^ {2}(?:\* | {2}- )(.*)$/;
const CONTINUATION = /^ {4,}(\S.*)$/;

/**
 * The items of debian/changelog (usr/share/doc/linux-source-<series>/changelog.Debian.gz) of every version after `from`
 * up to and including `to`, newest first, with the CVE ids each names. Versions are compared by their order in the
 * file, which is Debian's (newest on top).
 */
export function changelogBetween(text: string, from: string, to: string): ChangelogItem[] {
  const items: ChangelogItem[] = [];
  let version: string | undefined;
  let inRange = false;
  let current: ChangelogItem | undefined;
  const flush = () => {
    if (current && inRange) items.push({ ...current, title: current.title.replace(/\s+/g, ' ').trim(), cves: [...new Set(current.title.match(/CVE-\d{4}-\d{4,}/g) ?? [])] });
    current = undefined;
  };
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      flush();
      version = header[1]!;
      if (version === to) inRange = true;
      if (version === from) inRange = false;
      continue;
    }
    if (!version || /^ -- /.test(line)) {
      flush();
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      flush();
      current = { version, title: item[1]!, cves: [] };
    } else if (current && CONTINUATION.test(line) && !/^\s+https?:/.test(line)) current.title += ` ${line.trim()}`;
    else if (!line.trim()) flush();
  }
  flush();
  // "New upstream stable update:" heads a list; it is no change of its own.
  return items.filter((i) => !/^New upstream (stable )?(update|release)/i.test(i.title));
}
