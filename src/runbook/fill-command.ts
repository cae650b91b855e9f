import { stripMarkers } from '../chat/mention.ts';
import { quoteWords, tokenize } from '../core/tokenize.ts';

/** A chatops command with its `{{param}}`s filled, or why it cannot be. */
export type FillResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly error: string };

/** `{{name}}`: a parameter name between double braces, no spaces. */
export const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_-]*)\}\}/g;

/** C0 controls (line breaks included) and DEL: a value is one line of plain text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001F\u007F]/;

/** The names of the `{{param}}`s in `text`, in order, each once. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] as string))];
}

/**
 * Fills `{{param}}` in one chatops command from `values`. A value fills exactly one argument:
 * spaces, quotes, newlines or a leading `--` in it can never add a flag, a command or a target.
 *
 * The template is split into words first (as the command parser splits them), `{{name}}` is
 * replaced inside each word in one pass (a value holding `{{other}}` stays as written), and each
 * word is quoted back. Mention markers are removed from values. Refused, as an error naming the
 * parameter: an unknown parameter, a value with a line break or other control character, a
 * value that would make a word start with `-` where the template's word did not (the parser
 * would read it as a flag), a `{{param}}` in the command's first word, and `{{` or `}}` in the
 * template that is not part of a `{{name}}`.
 */
export function fillCommand(
  template: string,
  values: Readonly<Record<string, string>>,
): FillResult {
  const split = tokenize(template.trim());
  if (!split.ok) return { ok: false, error: `cannot read the command: ${split.error}` };
  const words: string[] = [];
  for (const [index, token] of split.tokens.entries()) {
    const stray = /\{\{|\}\}/.exec(token.text.replace(PLACEHOLDER, ''));
    if (stray) {
      return {
        ok: false,
        error: `"${token.text}" holds ${stray[0]} that is not a parameter: write {{name}}, a name of letters, digits, - and _ without spaces`,
      };
    }
    let problem: string | undefined;
    const text = token.text.replace(PLACEHOLDER, (whole, name: string) => {
      if (problem) return whole;
      if (index === 0) {
        problem = `{{${name}}} cannot name the command itself; write the command and fill its arguments`;
        return whole;
      }
      const value = Object.hasOwn(values, name) ? values[name] : undefined;
      if (value === undefined) {
        const known = Object.keys(values);
        problem = `unknown parameter {{${name}}}; the parameters are: ${known.length ? known.join(', ') : 'none'}`;
        return whole;
      }
      const clean = stripMarkers(value);
      if (CONTROL.test(clean)) {
        problem = `the value of ${name} holds a line break or a control character; a value is one line of text`;
        return whole;
      }
      return clean;
    });
    if (problem) return { ok: false, error: problem };
    const isFlag = token.text.startsWith('-') && !token.quoted;
    if (text !== token.text && text.startsWith('-') && !isFlag) {
      return {
        ok: false,
        error: `the value filled into "${token.text}" starts with "-", which would read as a flag; give a value that does not`,
      };
    }
    // A quoted word stays quoted: `--note "--force was needed"` keeps its value a value.
    const word = quoteWords([text]);
    words.push(token.quoted && text.startsWith('-') ? `\\${word}` : word);
  }
  return { ok: true, text: words.join(' ') };
}
