/**
 * C tokens of preprocessed text (C11 6.4): identifiers, pp-numbers, string and character literals (with their
 * prefixes) and punctuators, longest first. A directive line (`#pragma …`) is one token. Whitespace goes.
 */
export function cTokens(text: string): string[] {
  const tokens: string[] = [];
  const n = text.length;
  for (let i = 0; i < n; ) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '#' && (i === 0 || text[i - 1] === '\n')) {
      const eol = text.indexOf('\n', i);
      tokens.push(text.slice(i, eol < 0 ? n : eol));
      i = eol < 0 ? n : eol;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(text[j]!)) j++;
      // A literal's prefix: L"…", u8"…", U'…'.
      if ((text[j] === '"' || text[j] === "'") && /^(?:L|u|U|u8)$/.test(text.slice(i, j))) j = literalEnd(text, j);
      tokens.push(text.slice(i, j));
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && (/[\w.$]/.test(text[j]!) || (/[+-]/.test(text[j]!) && /[eEpP]/.test(text[j - 1]!)))) j++;
      tokens.push(text.slice(i, j));
      i = j;
    } else if (c === '"' || c === "'") {
      const j = literalEnd(text, i);
      tokens.push(text.slice(i, j));
      i = j;
    } else {
      const p = PUNCTUATORS.find((op) => text.startsWith(op, i)) ?? c;
      tokens.push(p);
      i += p.length;
    }
  }
  return tokens;
}

/** The offset after the literal whose quote is at `at`. */
function literalEnd(text: string, at: number): number {
  const quote = text[at];
  let j = at + 1;
  while (j < text.length && text[j] !== quote && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, text.length);
}

const PUNCTUATORS = ['...', '<<=', '>>=', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '*=', '/=', '%=', '+=', '-=', '&=', '^=', '|=', '##'];

export const isIdentifier = (token: string): boolean => /^[A-Za-z_$][\w$]*$/.test(token);
