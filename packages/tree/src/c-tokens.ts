/**
 * C tokens of preprocessed text (C11 6.4): identifiers, pp-numbers, string and character literals (with their
 * prefixes) and punctuators, longest first. A directive line (`#pragma …`) is one token. Whitespace goes.
 */
export function cTokens(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) if (m[1] === undefined) tokens.push(m[0].startsWith('\n') ? m[0].slice(1) : m[0]);
  return tokens;
}

const TOKEN = new RegExp(
  [
    '(\\s+)(?!#)', // whitespace not before a directive line
    '\\n#[^\\n]*|^#[^\\n]*', // a directive line
    '(?:L|u8|u|U)?"(?:[^"\\\\\\n]|\\\\.)*"?', // string literal
    "(?:L|u8|u|U)?'(?:[^'\\\\\\n]|\\\\.)*'?", // character literal
    '[A-Za-z_$][\\w$]*', // identifier
    '\\.?\\d(?:[eEpP][+-]|[\\w.$])*', // pp-number
    '\\.\\.\\.|<<=|>>=|->|\\+\\+|--|<<|>>|<=|>=|==|!=|&&|\\|\\||[*/%+\\-&^|]=|##|[^\\s]', // punctuators
    '\\s', // a lone newline before a directive is still whitespace
  ].join('|'),
  'gm',
);

export const isIdentifier = (token: string): boolean => /^[A-Za-z_$][\w$]*$/.test(token);
