import { describe, expect, it } from 'vitest';
import { quoteWords, tokenize } from '../../../src/core/tokenize.ts';

function words(line: string): string[] {
  const result = tokenize(line);
  if (!result.ok) throw new Error(result.error);
  return result.tokens.map((t) => t.text);
}

describe('tokenize', () => {
  it('splits on any run of whitespace', () => {
    expect(words('  backup\tcreate \n full ')).toEqual(['backup', 'create', 'full']);
  });

  it('groups words in double and single quotes', () => {
    expect(words(`--note "two words" 'three more words'`)).toEqual([
      '--note',
      'two words',
      'three more words',
    ]);
  });

  it('joins adjacent quoted and unquoted parts into one word', () => {
    expect(words('--note="two words"x')).toEqual(['--note=two wordsx']);
  });

  it('keeps an empty quoted word', () => {
    expect(words(`a "" b`)).toEqual(['a', '', 'b']);
  });

  it('takes backslash escapes outside quotes', () => {
    expect(words('two\\ words \\"quoted\\"')).toEqual(['two words', '"quoted"']);
  });

  it('inside quotes escapes only quotes and backslashes, so Windows paths survive', () => {
    expect(words(String.raw`"C:\backups\new" "say \"hi\"" 'it\'s' "a\\b"`)).toEqual([
      String.raw`C:\backups\new`,
      'say "hi"',
      "it's",
      String.raw`a\b`,
    ]);
  });

  it('reads typographic double quotes from chat clients as quotes', () => {
    expect(words('--note \u201ctwo words\u201d')).toEqual(['--note', 'two words']);
  });

  it('reads an apostrophe inside a word as an apostrophe', () => {
    expect(words("it's Bob's")).toEqual(["it's", "Bob's"]);
  });

  it('marks words that began quoted', () => {
    const result = tokenize(`--note "--x" plain`);
    expect(result.ok && result.tokens.map((t) => t.quoted)).toEqual([false, true, false]);
  });

  it('reports an unterminated quote instead of guessing', () => {
    expect(tokenize('--note "oops')).toEqual({
      ok: false,
      error: 'unterminated " quote at position 8: close it',
    });
    const single = tokenize("--note 'oops");
    expect(single.ok).toBe(false);
  });
});

describe('quoteWords', () => {
  it.each([
    [['backup', 'create', 'full']],
    [['backup', 'create', '--note=two words']],
    [['reject', 'apr_1', "it's", 'a "test"', String.raw`C:\path`, '']],
    [['x', 'tab\there', 'new\nline', '\u201cfancy\u201d']],
  ])('joins %j into a line that splits back into the same words', (argv) => {
    expect(words(quoteWords(argv))).toEqual(argv);
  });

  it('joins words into a line that survives trimming, as the command parser trims it', () => {
    for (const argv of [
      ['backup', 'create', '--note', 'ends with a space '],
      ['backup', 'create', '--note', 'tab\t'],
      ['reject', 'apr_1', ' '],
      ['x', '--note=two '],
    ]) {
      expect(words(quoteWords(argv).trim())).toEqual(argv);
    }
  });

  it('leaves a flag with spaces in its value readable as a flag', () => {
    const result = tokenize(quoteWords(['--note=two words']));
    expect(result.ok && result.tokens[0]?.text.startsWith('--note=')).toBe(true);
  });
});
