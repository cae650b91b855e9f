/** One word of a command line. */
export interface Token {
  readonly text: string;
  /**
   * True when the word began inside quotes or with an escape. A quoted word is taken as a flag's
   * value even when it starts with `--` (`--note "--force was needed"`).
   */
  readonly quoted: boolean;
}

export type TokenizeResult =
  | { readonly ok: true; readonly tokens: readonly Token[] }
  | { readonly ok: false; readonly error: string };

const WHITESPACE = /\s/;
/** Inside quotes a backslash escapes only a quote or a backslash, so Windows paths survive. */
const QUOTED_ESCAPES = new Set(["'", '"', '\\', '\u201c', '\u201d']);
/** Chat clients turn `"` into typographic quotes as you type; they mean the same here. */
const OPENING_DOUBLE = new Set(['"', '\u201c', '\u201d']);

function closesDouble(opening: string, char: string): boolean {
  return opening === '"' ? char === '"' : char === '\u201c' || char === '\u201d';
}

/**
 * Splits a command line into words much as a shell does: whitespace separates words, `"…"` and
 * `'…'` group them, a backslash escapes the next character (inside quotes only a quote or a
 * backslash, so Windows paths survive and `'it\'s'` reads as `it's`), and adjacent parts join
 * (`--note="two words"`). Unlike a shell, a `'` right after a letter or digit is an apostrophe,
 * so `/reject apr_1 it's the wrong backup` reads as people mean it. An unterminated quote is an
 * error, returned as data.
 */
export function tokenize(line: string): TokenizeResult {
  const tokens: Token[] = [];
  let text = '';
  let inWord = false;
  let quoted = false;
  let i = 0;

  const startPart = (isQuoted: boolean): void => {
    if (!inWord) {
      inWord = true;
      quoted = isQuoted;
    }
  };

  while (i < line.length) {
    const char = line[i] as string;
    if (WHITESPACE.test(char)) {
      if (inWord) tokens.push({ text, quoted });
      text = '';
      inWord = false;
      i += 1;
    } else if (char === '\\') {
      startPart(true);
      const next = line[i + 1];
      text += next ?? '\\';
      i += 2;
    } else if (char === "'" && !/[\p{L}\p{N}]/u.test(line[i - 1] ?? '')) {
      startPart(true);
      const end = closingQuote(line, i + 1, (c) => c === "'");
      if (end < 0) {
        return {
          ok: false,
          error: `unterminated ' quote at position ${i + 1}: close it, or write an apostrophe as \\' or inside "…"`,
        };
      }
      text += unescapeQuoted(line.slice(i + 1, end));
      i = end + 1;
    } else if (OPENING_DOUBLE.has(char)) {
      startPart(true);
      const end = closingQuote(line, i + 1, (c) => closesDouble(char, c));
      if (end < 0) {
        return { ok: false, error: `unterminated " quote at position ${i + 1}: close it` };
      }
      text += unescapeQuoted(line.slice(i + 1, end));
      i = end + 1;
    } else {
      startPart(false);
      text += char;
      i += 1;
    }
  }
  if (inWord) tokens.push({ text, quoted });
  return { ok: true, tokens };
}

/** The index of the quote closing one opened before `from`, skipping `\'`, `\"` and `\\`. */
function closingQuote(line: string, from: number, closes: (char: string) => boolean): number {
  for (let j = from; j < line.length; j += 1) {
    const c = line[j] as string;
    if (c === '\\' && QUOTED_ESCAPES.has(line[j + 1] ?? '')) j += 1;
    else if (closes(c)) return j;
  }
  return -1;
}

function unescapeQuoted(text: string): string {
  return text.replace(/\\(['"\\\u201c\u201d])/g, '$1');
}

const SPECIAL = /[\s'"\\\u201c\u201d]/g;

/**
 * Joins words (e.g. the CLI's argv after the shell has split them) into a line that
 * {@link tokenize} splits back into the same words, also after the line is trimmed (as the
 * command parser does). Special characters are escaped one by one rather than quoting the word,
 * so `--note=two words` still reads as a flag; a word ending in whitespace gets an empty `''`
 * after it, so trimming the line cannot take its last escaped space.
 */
export function quoteWords(words: readonly string[]): string {
  return words
    .map((word) => {
      if (word === '') return "''";
      const escaped = word.replace(SPECIAL, (c) => `\\${c}`);
      return /\s$/.test(word) ? `${escaped}''` : escaped;
    })
    .join(' ');
}
