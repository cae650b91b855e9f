import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { CLI_USAGE } from '../../../src/cli/cli-args.ts';
import { groupCommands, usageLine } from '../../../src/core/command-help.ts';

describe('lifeboat --help', () => {
  it('shows every command of the grammar with its usage, as the CLI takes it', () => {
    const words = CLI_USAGE.replace(/\s+/g, ' ');
    for (const command of commands) {
      expect(CLI_USAGE).toContain(`\n  ${usageLine(command).slice(1)}\n`);
      expect(words).toContain(command.summary);
    }
  });

  it('names every command group, restore and the approvals among them', () => {
    for (const { group } of groupCommands(commands)) expect(CLI_USAGE).toContain(`${group}:`);
    for (const word of [
      'restore ID|latest',
      'approve REQUEST-ID',
      'reject REQUEST-ID',
      'approvals',
      'audit verify [--json]',
      'audit checkpoint [--json]',
      'audit.checkpointEvery',
    ]) {
      expect(CLI_USAGE).toContain(word);
    }
  });
});
