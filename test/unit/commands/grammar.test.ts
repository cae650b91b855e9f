import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { commandName } from '../../../src/core/command-grammar.ts';
import { usageLine } from '../../../src/core/command-help.ts';

/** SPEC §2, one line per command, exactly as the contract writes them. */
const SPEC_USAGE = [
  '/backup create [PROFILE] [--note TEXT] [--no-replicate]',
  '/backup list [--profile P] [--limit N]',
  '/backup show ID',
  '/backup verify ID|latest [--profile P] [--restore-test]',
  '/backup prune [--profile P] [--dry-run]',
  '/restore ID|latest [--profile P] [--components A,B] [--into COMPONENT=TARGET,...] [--dry-run]',
  '/approve REQUEST-ID',
  '/reject REQUEST-ID [REASON]',
  '/approvals',
  '/drill run NAME',
  '/drill list',
  '/drill history [NAME] [--limit N]',
  '/runbook list',
  '/runbook start NAME [KEY=VALUE...]',
  '/runbook status [RUN-ID]',
  '/runbook done RUN-ID',
  // Skip and abort take the reason the spec asks for (§1 journey 3, issue 12).
  '/runbook skip RUN-ID [REASON]',
  '/runbook run RUN-ID',
  '/runbook abort RUN-ID [REASON]',
  '/runbook check RUN-ID N',
  '/status',
  '/help [COMMAND]',
];

const nameOf = (usage: string) =>
  usage
    .split(' ')
    .filter((word) => /^\/?[a-z]+$/.test(word))
    .join(' ');

describe('the command grammar', () => {
  it('holds exactly the commands of the spec', () => {
    expect(commands.map(commandName).sort()).toEqual(SPEC_USAGE.map(nameOf).sort());
  });

  it.each(SPEC_USAGE)('generates the usage line the spec writes for %s', (usage) => {
    const command = commands.find((c) => commandName(c) === nameOf(usage));
    // /restore also documents --break-glass and /backup verify --level, which the spec
    // describes below the grammar; a runbook step's commands take the --step its buttons carry.
    expect(command && usageLine(command).startsWith(usage)).toBe(true);
    expect(
      command &&
        usageLine(command)
          .replace(' [--break-glass REASON]', '')
          .replace(' [--level 1|2|3]', '')
          .replace(' [--step N]', ''),
    ).toBe(usage);
  });

  it('names an action for every command, and gates every command that changes something', () => {
    const gated = commands.filter((c) => c.gated).map(commandName);
    expect(gated).toEqual(
      expect.arrayContaining([
        '/backup create',
        '/backup prune',
        '/restore',
        '/drill run',
        '/approve',
      ]),
    );
    expect(gated).not.toContain('/backup list');
    expect(gated).not.toContain('/status');
    for (const command of commands) expect(command.action).toMatch(/^[a-z]+(\.[a-z]+)?$/);
  });

  it('keeps the policy action names the config uses', () => {
    const actionOf = (name: string) => commands.find((c) => commandName(c) === name)?.action;
    expect(actionOf('/restore')).toBe('restore');
    expect(actionOf('/backup prune')).toBe('backup.prune');
    expect(actionOf('/drill run')).toBe('drill.run');
  });

  it('marks the commands that put work on the queue', () => {
    const enqueuing = commands.filter((c) => c.enqueues).map(commandName);
    expect(enqueuing).toEqual(
      expect.arrayContaining([
        '/backup create',
        '/backup verify',
        '/backup prune',
        '/restore',
        '/drill run',
      ]),
    );
    expect(enqueuing).not.toContain('/backup list');
  });

  it('describes every argument and flag, for /help and the platform manifests', () => {
    for (const command of commands) {
      expect(command.summary.length).toBeGreaterThan(0);
      for (const p of command.positionals) expect(p.description.length).toBeGreaterThan(0);
      for (const f of command.flags) expect(f.description.length).toBeGreaterThan(0);
    }
  });
});
