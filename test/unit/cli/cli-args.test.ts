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

  it('answers the CLI extras of later versions as not available yet', () => {
    expect(parseCliArgs(['audit', 'verify'])).toEqual({
      mode: 'unavailable',
      command: 'audit verify',
    });
  });

  it('exits 0 only on success, 2 on bad input and 3 on refusal or waiting', () => {
    expect(exitCodeFor('ok')).toBe(0);
    expect(exitCodeFor('completed')).toBe(0);
    expect(exitCodeFor('passed')).toBe(0);
    expect(exitCodeFor('failed')).toBe(1);
    expect(exitCodeFor('invalid')).toBe(2);
    expect(exitCodeFor('refused')).toBe(3);
    expect(exitCodeFor('unavailable')).toBe(3);
    expect(exitCodeFor('awaiting_approval')).toBe(3);
  });
});
