import { describe, expect, it } from 'vitest';
import { exitCodeFor, parseCliArgs } from '../../../src/cli/cli-args.ts';

describe('the lifeboat command line arguments', () => {
  it('prints usage with no arguments, --help or -h', () => {
    expect(parseCliArgs([])).toEqual({ mode: 'usage' });
    expect(parseCliArgs(['--help'])).toEqual({ mode: 'usage' });
    expect(parseCliArgs(['-h'])).toEqual({ mode: 'usage' });
  });

  it('knows the service words and where the config is', () => {
    expect(parseCliArgs(['start'])).toEqual({ mode: 'start', configPath: undefined });
    expect(parseCliArgs(['worker', '--config', 'x.yaml'])).toEqual({
      mode: 'worker',
      configPath: 'x.yaml',
    });
    expect(parseCliArgs(['--config=y.yaml', 'bot'])).toEqual({ mode: 'bot', configPath: 'y.yaml' });
    expect(parseCliArgs(['migrate'])).toEqual({ mode: 'migrate' });
  });

  it('refuses an --as that is not a user name, as /as does', () => {
    for (const name of ['', ' ', 'bob smith', '\u001b[2Jroot', '-x', 'a:b', 'x'.repeat(65)]) {
      const parsed = parseCliArgs(['console', `--as=${name}`]);
      expect(parsed, JSON.stringify(name)).toMatchObject({ mode: 'error' });
      expect(parsed.mode === 'error' && parsed.message).toContain('is not a user name');
    }
    expect(parseCliArgs(['console', '--as', 'bob.smith@example-1'])).toMatchObject({
      mode: 'console',
      user: 'bob.smith@example-1',
    });
  });

  it('takes --as only for the console', () => {
    expect(parseCliArgs(['console', '--as', 'alice'])).toMatchObject({
      mode: 'console',
      user: 'alice',
    });
    expect(parseCliArgs(['backup', 'list', '--as', 'alice'])).toMatchObject({ mode: 'error' });
    expect(parseCliArgs(['console', '--as'])).toMatchObject({
      mode: 'error',
      message: '--as needs a value',
    });
  });

  it('refuses arguments after a service word', () => {
    expect(parseCliArgs(['start', 'now'])).toMatchObject({ mode: 'error' });
  });

  it('passes everything else on as chat command words, without --json', () => {
    expect(parseCliArgs(['backup', 'create', 'full', '--note', 'two words', '--json'])).toEqual({
      mode: 'command',
      configPath: undefined,
      words: ['backup', 'create', 'full', '--note', 'two words'],
      json: true,
    });
  });

  it('turns `COMMAND --help` into `help COMMAND`', () => {
    expect(parseCliArgs(['backup', 'create', '--help'])).toMatchObject({
      mode: 'command',
      words: ['help', 'backup', 'create'],
    });
  });

  it('knows `catalog rebuild` and its one flag, and nothing else under `catalog`', () => {
    expect(parseCliArgs(['catalog', 'rebuild'])).toEqual({
      mode: 'catalog-rebuild',
      configPath: undefined,
      cleanIncomplete: false,
    });
    expect(
      parseCliArgs(['catalog', 'rebuild', '--clean-incomplete', '--config', 'x.yaml']),
    ).toEqual({ mode: 'catalog-rebuild', configPath: 'x.yaml', cleanIncomplete: true });
    expect(parseCliArgs(['catalog', 'rebuild', '--force'])).toMatchObject({ mode: 'error' });
    expect(parseCliArgs(['catalog', 'drop'])).toEqual({
      mode: 'error',
      message: '`lifeboat catalog` takes: catalog rebuild [--clean-incomplete]',
    });
  });

  it('knows `runbook lint` with paths or none, and refuses options it does not have', () => {
    expect(parseCliArgs(['runbook', 'lint'])).toEqual({ mode: 'runbook-lint', paths: [] });
    expect(
      parseCliArgs(['runbook', 'lint', 'runbooks', 'x.md', '--config', 'c.yaml', '--json']),
    ).toEqual({ mode: 'runbook-lint', configPath: 'c.yaml', paths: ['runbooks', 'x.md'] });
    expect(parseCliArgs(['runbook', 'lint', '--fix'])).toMatchObject({
      mode: 'error',
      message: expect.stringContaining('unknown option --fix'),
    });
  });

  it('knows `audit verify`, `audit checkpoint` (with --config) and `audit export` with --since', () => {
    const now = new Date('2026-11-22T12:00:00.000Z');
    expect(parseCliArgs(['audit', 'verify'], now)).toEqual({
      mode: 'audit-verify',
      configPath: undefined,
    });
    expect(parseCliArgs(['audit', 'verify', '--json', '--config', 'x.yaml'], now)).toEqual({
      mode: 'audit-verify',
      configPath: 'x.yaml',
    });
    expect(parseCliArgs(['audit', 'checkpoint', '--json'], now)).toEqual({
      mode: 'audit-checkpoint',
      configPath: undefined,
    });
    expect(parseCliArgs(['audit', 'export'], now)).toEqual({ mode: 'audit-export', since: null });
    expect(parseCliArgs(['audit', 'export', '--since', '24h'], now)).toEqual({
      mode: 'audit-export',
      since: new Date('2026-11-21T12:00:00.000Z'),
    });
    expect(parseCliArgs(['audit', 'export', '--since=2026-11-20'], now)).toEqual({
      mode: 'audit-export',
      since: new Date('2026-11-20T00:00:00.000Z'),
    });
  });

  it('refuses a bad --since TIME and anything else under `audit`, saying what is valid', () => {
    const bad = parseCliArgs(['audit', 'export', '--since', 'yesterday']);
    expect(bad).toMatchObject({ mode: 'error' });
    expect(bad.mode === 'error' && bad.message).toMatch(/--since "yesterday" .*24h, 7d/);
    expect(parseCliArgs(['audit', 'export', '--since'])).toEqual({
      mode: 'error',
      message: '--since needs a TIME',
    });
    const usage =
      '`lifeboat audit` takes: audit verify [--json] | audit checkpoint [--json] | audit export [--since TIME]';
    expect(parseCliArgs(['audit', 'export', '--until', '1d'])).toEqual({
      mode: 'error',
      message: usage,
    });
    expect(parseCliArgs(['audit', 'verify', 'now'])).toEqual({ mode: 'error', message: usage });
    expect(parseCliArgs(['audit', 'checkpoint', 'now'])).toEqual({ mode: 'error', message: usage });
    expect(parseCliArgs(['audit'])).toEqual({ mode: 'error', message: usage });
  });

  it('exits 0 only on success, 2 on bad input, 3 on refusal or waiting, 4 when complete but incomplete', () => {
    expect(exitCodeFor({ status: 'ok' })).toBe(0);
    expect(exitCodeFor({ status: 'completed' })).toBe(0);
    expect(exitCodeFor({ status: 'passed' })).toBe(0);
    expect(exitCodeFor({ status: 'failed' })).toBe(1);
    expect(exitCodeFor({ status: 'invalid' })).toBe(2);
    expect(exitCodeFor({ status: 'refused' })).toBe(3);
    expect(exitCodeFor({ status: 'unavailable' })).toBe(3);
    expect(exitCodeFor({ status: 'awaiting_approval' })).toBe(3);
    expect(exitCodeFor({ status: 'completed', incomplete: true })).toBe(4);
    expect(exitCodeFor({ status: 'completed', incomplete: false })).toBe(0);
    expect(exitCodeFor({ status: 'failed', incomplete: true })).toBe(1);
  });
});
