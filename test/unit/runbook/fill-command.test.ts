import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { mention } from '../../../src/chat/mention.ts';
import { parseCommand } from '../../../src/core/parse-command.ts';
import { tokenize } from '../../../src/core/tokenize.ts';
import { fillCommand, placeholdersIn } from '../../../src/runbook/fill-command.ts';

function filled(template: string, values: Record<string, string>): string {
  const result = fillCommand(template, values);
  if (!result.ok) throw new Error(`expected ${template} to fill: ${result.error}`);
  return result.text;
}

function words(text: string): string[] {
  const result = tokenize(text);
  if (!result.ok) throw new Error(result.error);
  return result.tokens.map((t) => t.text);
}

/** A value with no control characters: what a person can give a parameter. */
const value = fc
  .string({ unit: 'grapheme', maxLength: 40 })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  .map((text) => text.replace(/[\u0000-\u001F\u007F]/g, ''));

describe('fillCommand', () => {
  it('fills each {{param}} inside its word', () => {
    expect(
      filled('/restore {{backup}} --profile {{profile}} --into {{db}}={{staging}}', {
        backup: 'latest',
        profile: 'db',
        db: 'demo-db',
        staging: 'staging-db',
      }),
    ).toBe('/restore latest --profile db --into demo-db=staging-db');
    expect(filled('/status', {})).toBe('/status');
    expect(fillCommand('/backup create {{ p }}', { p: 'full' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('"{{" holds {{ that is not a parameter'),
    });
  });

  it('keeps a value with spaces, quotes and shell characters one argument', () => {
    const note = `it's "done"; /restore latest --break-glass now && rm -rf /`;
    const text = filled('/backup create db --note {{note}}', { note });
    expect(words(text)).toEqual(['/backup', 'create', 'db', '--note', note]);
    const parsed = parseCommand(text, commands);
    expect(parsed).toMatchObject({ ok: true, args: { profile: 'db', note } });
  });

  it('does not let a value become a flag, end the flags or name the command', () => {
    for (const bad of ['--dry-run', '-x', '--', '--break-glass=now']) {
      const result = fillCommand('/restore {{backup}} --profile db', { backup: bad });
      expect(result).toMatchObject({ ok: false, error: expect.stringContaining('read as a flag') });
    }
    expect(fillCommand('{{cmd}} latest', { cmd: '/restore' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('cannot name the command'),
    });
  });

  it('keeps a quoted word of the template quoted, and refuses a value that starts with -', () => {
    expect(fillCommand('/backup create db --note "{{n}}"', { n: '--force' })).toMatchObject({
      ok: false,
    });
    const text = filled('/backup create db --note "{{note}}"', { note: 'two words ' });
    expect(parseCommand(text, commands)).toMatchObject({ ok: true, args: { note: 'two words ' } });
    expect(filled('/backup create db --note "--as written"', {})).toBe(
      '/backup create db --note \\--as\\ written',
    );
  });

  it('refuses line breaks and control characters in values, naming the parameter', () => {
    for (const bad of ['latest\n/restore latest', 'a\rb', 'a\u0000b', 'a\u001bb']) {
      expect(fillCommand('/restore {{backup}}', { backup: bad })).toEqual({
        ok: false,
        error:
          'the value of backup holds a line break or a control character; a value is one line of text',
      });
    }
  });

  it('does not fill {{other}} written inside a value', () => {
    const text = filled('/backup create db --note {{note}}', { note: '{{secret}}', secret: 'x' });
    expect(words(text)[4]).toBe('{{secret}}');
  });

  it('answers an unknown parameter with the ones there are', () => {
    expect(fillCommand('/restore {{bakup}}', { backup: 'latest' })).toEqual({
      ok: false,
      error: 'unknown parameter {{bakup}}; the parameters are: backup',
    });
    expect(fillCommand('/restore {{constructor}}', {})).toMatchObject({ ok: false });
  });

  it('strips mention markers from values', () => {
    const text = filled('/backup create db --note {{note}}', {
      note: `ping ${mention('slack:U012AB3CD')}`,
    });
    expect(text).not.toMatch(/[\uE000\uE001]/);
    expect(words(text)[4]).toBe('ping slack:U012AB3CD');
  });

  it('answers a template with an unterminated quote with an error', () => {
    expect(fillCommand('/backup create db --note "open', {})).toMatchObject({ ok: false });
  });

  it('never changes the number of words and never adds a flag, whatever the values', () => {
    const template = '/restore {{backup}} --profile {{profile}} --into a={{target}} --dry-run';
    const before = words(template);
    fc.assert(
      fc.property(value, value, value, (backup, profile, target) => {
        const result = fillCommand(template, { backup, profile, target });
        if (!result.ok) {
          expect(
            [backup, profile].some((v) => v.replace(/[\uE000\uE001]/g, '').startsWith('-')),
          ).toBe(true);
          return;
        }
        const after = tokenize(result.text);
        expect(after.ok).toBe(true);
        if (!after.ok) return;
        expect(after.tokens).toHaveLength(before.length);
        const texts = after.tokens.map((t) => t.text);
        expect(texts[1]).toBe(backup.replace(/[\uE000\uE001]/g, ''));
        expect(texts[3]).toBe(profile.replace(/[\uE000\uE001]/g, ''));
        expect(texts[5]).toBe(`a=${target.replace(/[\uE000\uE001]/g, '')}`);
        const flags = after.tokens.filter((t, i) => i !== 1 && t.text.startsWith('-'));
        expect(flags.map((t) => t.text)).toEqual(['--profile', '--into', '--dry-run']);
        const parsed = parseCommand(result.text, commands);
        if (!parsed.ok) {
          expect(parsed.reason).not.toMatch(/unknown_flag|repeated_flag|extra_argument/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('fills a note with any value as exactly that note', () => {
    fc.assert(
      fc.property(value, (note) => {
        const result = fillCommand('/backup create db --note {{note}}', { note });
        const clean = note.replace(/[\uE000\uE001]/g, '');
        expect(result.ok).toBe(!clean.startsWith('-'));
        if (!result.ok) return;
        const parsed = parseCommand(result.text, commands);
        if (clean === '') {
          expect(parsed).toMatchObject({ ok: false, reason: 'missing_value' });
        } else if (!clean.startsWith('-')) {
          expect(parsed).toMatchObject({ ok: true, args: { profile: 'db' } });
          // The note's own schema may trim it; it is never cut short or extended otherwise.
          expect(parsed.ok && String(parsed.args.note).trim()).toBe(clean.trim());
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('placeholdersIn', () => {
  it('lists each parameter once, in order', () => {
    expect(placeholdersIn('/restore {{b}} --into {{a}}={{b}} {{not valid}} {{ c }}')).toEqual([
      'b',
      'a',
    ]);
  });
});
