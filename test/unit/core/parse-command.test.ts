import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { commandName } from '../../../src/core/command-grammar.ts';
import { parseCommand } from '../../../src/core/parse-command.ts';

const ID = 'bk_20261122T020000Z_full_7q3k';

function parse(line: string) {
  const result = parseCommand(line, commands);
  return result.ok ? { command: commandName(result.command), args: result.args } : result;
}

function failure(line: string) {
  const result = parseCommand(line, commands);
  if (result.ok) throw new Error(`${line} parsed as ${commandName(result.command)}`);
  return result;
}

describe('parseCommand: every command of the spec', () => {
  it.each([
    [
      '/backup create',
      '/backup create',
      { profile: undefined, note: undefined, noReplicate: false },
    ],
    [
      '/backup create full',
      '/backup create',
      { profile: 'full', note: undefined, noReplicate: false },
    ],
    [
      '/backup create db --note "before the 2.4 migration" --no-replicate',
      '/backup create',
      { profile: 'db', note: 'before the 2.4 migration', noReplicate: true },
    ],
    ['/backup list', '/backup list', { profile: undefined, limit: 20 }],
    ['/backup list --profile db --limit 5', '/backup list', { profile: 'db', limit: 5 }],
    [`/backup show ${ID}`, '/backup show', { id: ID }],
    [
      '/backup verify latest',
      '/backup verify',
      { backup: 'latest', profile: undefined, restoreTest: false },
    ],
    [
      `/backup verify ${ID} --profile full --restore-test`,
      '/backup verify',
      { backup: ID, profile: 'full', restoreTest: true },
    ],
    ['/backup prune', '/backup prune', { profile: undefined, dryRun: false }],
    ['/backup prune --profile full --dry-run', '/backup prune', { profile: 'full', dryRun: true }],
    [
      '/restore latest --profile db',
      '/restore',
      {
        backup: 'latest',
        profile: 'db',
        components: undefined,
        into: undefined,
        dryRun: false,
        breakGlass: undefined,
      },
    ],
    [
      `/restore ${ID} --components app-db,uploads --into app-db=staging-db --dry-run`,
      '/restore',
      {
        backup: ID,
        profile: undefined,
        components: ['app-db', 'uploads'],
        into: { 'app-db': 'staging-db' },
        dryRun: true,
        breakGlass: undefined,
      },
    ],
    [
      '/restore latest --break-glass "primary is gone"',
      '/restore',
      {
        backup: 'latest',
        profile: undefined,
        components: undefined,
        into: undefined,
        dryRun: false,
        breakGlass: 'primary is gone',
      },
    ],
    ['/approve apr_7q3k', '/approve', { request: 'apr_7q3k' }],
    ['/reject apr_7q3k', '/reject', { request: 'apr_7q3k', reason: undefined }],
    [
      '/reject apr_7q3k wrong backup, use the 02:00 one',
      '/reject',
      { request: 'apr_7q3k', reason: 'wrong backup, use the 02:00 one' },
    ],
    ['/approvals', '/approvals', {}],
    ['/drill run weekly-db', '/drill run', { drill: 'weekly-db' }],
    ['/drill list', '/drill list', {}],
    ['/drill history', '/drill history', { drill: undefined, limit: 10 }],
    ['/drill history weekly-db --limit 3', '/drill history', { drill: 'weekly-db', limit: 3 }],
    ['/runbook list', '/runbook list', {}],
    [
      '/runbook start database-corruption',
      '/runbook start',
      { runbook: 'database-corruption', params: [] },
    ],
    [
      '/runbook start database-corruption backup=latest note="a b"',
      '/runbook start',
      {
        runbook: 'database-corruption',
        params: [
          { key: 'backup', value: 'latest' },
          { key: 'note', value: 'a b' },
        ],
      },
    ],
    ['/runbook status', '/runbook status', { run: undefined }],
    ['/runbook status run_x1', '/runbook status', { run: 'run_x1' }],
    ['/runbook done run_x1', '/runbook done', { run: 'run_x1' }],
    ['/runbook skip run_x1', '/runbook skip', { run: 'run_x1' }],
    ['/runbook run run_x1', '/runbook run', { run: 'run_x1' }],
    ['/runbook abort run_x1', '/runbook abort', { run: 'run_x1' }],
    ['/runbook check run_x1 2', '/runbook check', { run: 'run_x1', item: 2 }],
    ['/status', '/status', {}],
    ['/help', '/help', { command: undefined }],
    ['/help backup create', '/help', { command: 'backup create' }],
  ])('parses %s', (line, command, args) => {
    expect(parse(line)).toEqual({ command, args });
  });
});

describe('parseCommand: forms people type', () => {
  it('takes the words without the slash, as the CLI passes them', () => {
    expect(parse('backup create full')).toEqual(parse('/backup create full'));
  });

  it('takes --flag=value as well as --flag value', () => {
    expect(parse('/backup list --limit=5 --profile=db')).toEqual(
      parse('/backup list --limit 5 --profile db'),
    );
  });

  it('takes flags before positionals', () => {
    expect(parse('/backup create --no-replicate db')).toMatchObject({
      args: { profile: 'db', noReplicate: true },
    });
  });

  it('reads command words in any case', () => {
    expect(parse('/Backup LIST')).toMatchObject({ command: '/backup list' });
  });

  it('takes single quotes and keeps an apostrophe inside a word', () => {
    expect(parse("/backup create --note 'Bob''s test'")).toMatchObject({
      args: { note: 'Bobs test' },
    });
    expect(parse("/reject apr_1 it's the wrong one")).toMatchObject({
      args: { reason: "it's the wrong one" },
    });
  });

  it('takes a quoted value that starts with dashes', () => {
    expect(parse('/backup create --note "--force was needed"')).toMatchObject({
      args: { note: '--force was needed' },
    });
  });

  it('reads everything after -- as positionals', () => {
    expect(parse('/reject apr_1 -- --no-replicate was wrong')).toMatchObject({
      args: { reason: '--no-replicate was wrong' },
    });
  });
});

describe('parseCommand: malformed input', () => {
  it('answers an unknown command with the closest one and a pointer to /help', () => {
    const result = failure('/bakup');
    expect(result.reason).toBe('unknown_command');
    expect(result.error).toBe(
      'Unknown command `/bakup`; did you mean `/backup`? Type `/help` for the list of commands.',
    );
  });

  it('suggests the whole command when only the group was mistyped', () => {
    expect(failure('/bakup create full').error).toContain('did you mean `/backup create`?');
  });

  it('answers a mistyped subcommand with the closest one and the group’s subcommands', () => {
    const result = failure('/backup crate');
    expect(result.reason).toBe('unknown_command');
    expect(result.error).toContain('did you mean `/backup create`?');
    expect(result.error).toContain('create, list, show, verify, prune');
  });

  it('offers no guess for a word close to nothing', () => {
    const result = failure('/frobnicate');
    expect(result.error).toBe(
      'Unknown command `/frobnicate`. Type `/help` for the list of commands.',
    );
  });

  it('lists the subcommands of a group typed alone', () => {
    const result = failure('/backup');
    expect(result.reason).toBe('incomplete_command');
    for (const sub of ['create', 'list', 'show', 'verify', 'prune']) {
      expect(result.error).toContain(`/backup ${sub}`);
    }
  });

  it('rejects an unknown flag, suggesting the closest and listing the valid ones', () => {
    const result = failure('/backup list --limt 3');
    expect(result.reason).toBe('unknown_flag');
    expect(result.error).toContain('has no flag `--limt`; did you mean `--limit`?');
    expect(result.error).toContain('Its flags: `--profile P`, `--limit N`.');
    expect(result.error).toContain('Usage: `/backup list [--profile P] [--limit N]`');
  });

  it('rejects a flag of another command', () => {
    expect(failure('/backup create --dry-run').reason).toBe('unknown_flag');
  });

  it('rejects a flag on a command that takes none', () => {
    expect(failure('/status --verbose').error).toContain('`/status` takes no flags');
  });

  it('rejects single-dash flags', () => {
    expect(failure('/backup list -n 4').reason).toBe('unknown_flag');
  });

  it('rejects a repeated flag', () => {
    const result = failure('/backup create --note a --note b');
    expect(result.reason).toBe('repeated_flag');
    expect(result.error).toContain('`--note` is given twice');
  });

  it('rejects a flag without its value, at the end or before another flag', () => {
    expect(failure('/backup create --note').reason).toBe('missing_value');
    expect(failure('/backup create --note --no-replicate').reason).toBe('missing_value');
    expect(failure('/backup create --note=').error).toContain(
      '`--note` needs a value: `--note TEXT`',
    );
  });

  it('rejects a value given to a boolean flag', () => {
    expect(failure('/backup create --no-replicate=yes').reason).toBe('unexpected_value');
  });

  it.each(['abc', '0', '1001', '-3', '2.5'])('rejects --limit %s', (value) => {
    const result = failure(`/backup list --limit=${value}`);
    expect(result.reason).toBe('invalid_value');
    expect(result.error).toContain('`--limit` needs a whole number from 1 to 1000');
  });

  it('rejects a malformed backup id, and latest where the spec wants an id', () => {
    expect(failure('/backup show bk_nope').error).toContain('`bk_nope` is not a valid ID');
    expect(failure('/backup show latest').reason).toBe('invalid_value');
    expect(failure('/restore yesterday').error).toContain('or `latest`');
  });

  it('rejects malformed request and run ids', () => {
    expect(failure('/approve 42').error).toContain('apr_');
    expect(failure('/runbook done step-2').error).toContain('run_');
  });

  it('rejects --into entries that are not COMPONENT=TARGET', () => {
    expect(failure('/restore latest --into app-db').error).toContain('`app-db` is not one');
    expect(failure('/restore latest --into app-db=').reason).toBe('invalid_value');
    expect(failure('/restore latest --into a=b,a=c').error).toContain('names `a` twice');
  });

  it('rejects an empty item in --components', () => {
    expect(failure('/restore latest --components app-db,,cache').reason).toBe('invalid_value');
  });

  it('rejects a runbook parameter that is not KEY=VALUE, and checklist item 0', () => {
    expect(failure('/runbook start db-corruption latest').reason).toBe('invalid_value');
    expect(failure('/runbook check run_1 0').error).toContain('counted from 1');
  });

  it('rejects a missing positional with the usage', () => {
    const result = failure('/backup show');
    expect(result.reason).toBe('missing_argument');
    expect(result.error).toContain('`/backup show` needs ID');
    expect(result.error).toContain('Usage: `/backup show ID`');
  });

  it('rejects an extra positional with the usage, hinting at quotes', () => {
    const result = failure(`/backup show ${ID} please`);
    expect(result.reason).toBe('extra_argument');
    expect(result.error).toContain('`please` is one too many');
    const create = failure('/backup create full before migration');
    expect(create.error).toContain('Put a value with spaces in quotes: `--note "two words"`');
  });

  it('rejects an unterminated quote', () => {
    for (const line of ['/backup create --note "oops', "/backup create --note 'oops"]) {
      const result = failure(line);
      expect(result.reason).toBe('unterminated_quote');
      expect(result.error).toContain('unterminated');
    }
  });

  it('rejects an invisible control character, naming it and where it is', () => {
    const nul = failure('/backup create full --note "a\u0000b"');
    expect(nul.reason).toBe('control_character');
    expect(nul.error).toBe(
      'Could not read that: it holds the invisible control character U+0000 at position 30. Commands are plain text: type it again without it.',
    );
    expect(failure('/backup list\u001b[2J').error).toContain('U+001B at position 13');
    expect(failure('/reject apr_1 wrong\u007f').reason).toBe('control_character');
  });

  it('reads tabs and line breaks as spaces, not as control characters', () => {
    const parsed = parseCommand('/backup\tcreate\r\nfull', commands);
    expect(parsed.ok && parsed.args).toMatchObject({ profile: 'full' });
  });

  it('rejects an empty line', () => {
    expect(failure('   ').reason).toBe('empty');
    expect(failure('/').reason).toBe('empty');
  });

  it('names the command it failed on, so callers can show its help', () => {
    expect(failure('/backup show').command?.path).toEqual(['backup', 'show']);
    expect(failure('/bakup').command).toBeUndefined();
  });
});

describe('free text is bounded by the grammar', () => {
  const long = 'x'.repeat(17 * 1024 * 1024);

  it('refuses a --note longer than 1,000 characters, saying the limit and the length', () => {
    expect(failure(`/backup create --note "${long}"`)).toMatchObject({
      error: expect.stringContaining(
        '`--note` is 17,825,792 characters long; it may be at most 1,000',
      ),
    });
    expect(parse(`/backup create --note "${'y'.repeat(1000)}"`)).toMatchObject({
      command: '/backup create',
    });
  });

  it('bounds every free-text flag and positional: reasons, break-glass reasons', () => {
    for (const line of [
      `/reject apr_1 ${'r'.repeat(1001)}`,
      `/restore latest --break-glass ${'b'.repeat(1001)}`,
      `/runbook start db-restore note=${'n'.repeat(1001)}`,
      `/backup show ${'b'.repeat(1001)}`,
    ]) {
      expect(failure(line), line.slice(0, 40)).toMatchObject({
        error: expect.stringContaining('it may be at most 1,000'),
      });
    }
  });
});

describe('key=value maps', () => {
  it('keeps __proto__, constructor and prototype as ordinary keys, never dropping one', () => {
    const result = parseCommand(
      '/restore latest --into __proto__=a,constructor=b,prototype=c',
      commands,
    );
    if (!result.ok) throw new Error(result.error);
    const into = (result.args as { into: Record<string, string> }).into;
    expect(Object.keys(into)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getPrototypeOf(into)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(into, '__proto__')?.value).toBe('a');
  });
});
