import { describe, expect, it } from 'vitest';
import { commands } from '../../../../commands/index.ts';
import { slackManifest } from '../../../../src/chat/slack/slack-manifest.ts';
import { parseCliArgs } from '../../../../src/cli/cli-args.ts';

interface SlashCommand {
  command: string;
  url?: string;
  description: string;
  usage_hint?: string;
}

const slashCommands = (manifest: Record<string, unknown>) =>
  (manifest.features as { slash_commands: SlashCommand[] }).slash_commands;

describe('lifeboat slack manifest', () => {
  it('has a slash command for every command word of the grammar, and no other', () => {
    const words = [...new Set(commands.map((c) => c.path[0]))].map((w) => `/${w}`).sort();
    const listed = slashCommands(slackManifest(commands))
      .map((c) => c.command)
      .sort();

    expect(listed).toEqual(words);
    for (const word of [
      '/backup',
      '/restore',
      '/approve',
      '/reject',
      '/approvals',
      '/drill',
      '/runbook',
      '/status',
      '/help',
    ]) {
      expect(listed).toContain(word);
    }
  });

  it('describes each command within Slack’s limits and hints at its usage', () => {
    for (const command of slashCommands(slackManifest(commands))) {
      expect(command.description.length).toBeGreaterThan(0);
      expect(command.description.length).toBeLessThanOrEqual(100);
      expect((command.usage_hint ?? '').length).toBeLessThanOrEqual(1_000);
    }
    const backup = slashCommands(slackManifest(commands)).find((c) => c.command === '/backup');
    expect(backup?.usage_hint).toContain('create');
    expect(backup?.usage_hint).toContain('--note');
  });

  it('points commands and buttons at /slack/events of the given URL, with the scopes', () => {
    const manifest = slackManifest(commands, { url: 'https://lifeboat.example.com/' });

    for (const command of slashCommands(manifest)) {
      expect(command.url).toBe('https://lifeboat.example.com/slack/events');
    }
    expect(manifest.settings).toMatchObject({
      interactivity: { is_enabled: true, request_url: 'https://lifeboat.example.com/slack/events' },
      socket_mode_enabled: false,
    });
    expect((manifest.oauth_config as { scopes: { bot: string[] } }).scopes.bot).toEqual(
      expect.arrayContaining(['commands', 'chat:write', 'files:write']),
    );
  });

  it('has no request URLs in Socket Mode', () => {
    const manifest = slackManifest(commands, { socket: true, url: 'https://ignored.example' });

    expect(JSON.stringify(manifest)).not.toContain('https://ignored.example');
    expect(manifest.settings).toMatchObject({ socket_mode_enabled: true });
  });

  it('is reached from the command line, with --url and --socket', () => {
    expect(parseCliArgs(['slack', 'manifest'])).toEqual({ mode: 'slack-manifest', socket: false });
    expect(parseCliArgs(['slack', 'manifest', '--url', 'https://h.example', '--socket'])).toEqual({
      mode: 'slack-manifest',
      url: 'https://h.example',
      socket: true,
    });
    expect(parseCliArgs(['slack', 'manifest', '--url', 'not a url'])).toMatchObject({
      mode: 'error',
    });
    expect(parseCliArgs(['slack', 'install'])).toMatchObject({ mode: 'error' });
  });
});
