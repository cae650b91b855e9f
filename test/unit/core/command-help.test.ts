import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { commandName } from '../../../src/core/command-grammar.ts';
import { commandHelpText, commandListText, usageLine } from '../../../src/core/command-help.ts';

const find = (name: string) => {
  const command = commands.find((c) => commandName(c) === name);
  if (!command) throw new Error(name);
  return command;
};

describe('help generated from the grammar', () => {
  it('lists every command with its usage and summary, grouped', () => {
    const text = commandListText(commands);
    for (const command of commands) {
      expect(text).toContain(usageLine(command));
      expect(text).toContain(command.summary);
    }
    expect(text.indexOf('backup:')).toBeLessThan(text.indexOf('restore:'));
  });

  it('shows one command with its arguments, flags with bounds and defaults, and examples', () => {
    const text = commandHelpText(find('/backup list'));
    expect(text.split('\n')[0]).toBe('/backup list [--profile P] [--limit N]');
    expect(text).toContain('--limit N');
    expect(text).toContain('How many to show. (1..1000, default 20)');
    expect(text).toContain('/backup list --profile db --limit 5');
  });

  it('describes positionals', () => {
    expect(commandHelpText(find('/backup show'))).toMatch(/Arguments:\n {2}ID {2}The backup id/);
  });
});
