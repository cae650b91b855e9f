import { describe, expect, it } from 'vitest';
import { commandButton, commandFromActionId } from '../../../src/bot/command-buttons.ts';

describe('command buttons', () => {
  it('carry the typed command in the action id and back', () => {
    const button = commandButton('Retry', '/backup create full', 'primary');
    expect(button).toEqual({
      actionId: 'cmd:backup create full',
      label: 'Retry',
      command: '/backup create full',
      style: 'primary',
    });
    expect(commandFromActionId(button?.actionId ?? '')).toBe('/backup create full');
  });

  it('take the command with or without its slash', () => {
    expect(commandButton('Retry', 'backup create db')?.command).toBe('/backup create db');
  });

  it('are left out when the command does not fit in 100 characters', () => {
    expect(commandButton('Retry', `/backup create ${'p'.repeat(90)}`)).toBeUndefined();
    expect(
      commandButton('Retry', `/backup create ${'p'.repeat(60)}`)?.actionId.length,
    ).toBeLessThanOrEqual(100);
  });

  it('ignore action ids that are not commands', () => {
    expect(commandFromActionId('apr:approve:apr_1')).toBeUndefined();
  });
});
