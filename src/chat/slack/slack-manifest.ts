import type { CommandSpec } from '../../core/command-grammar.ts';
import { usageLine } from '../../core/command-help.ts';
import { cut } from '../limits.ts';
import { SLACK_EVENTS_PATH } from './slack-adapter.ts';

export interface SlackManifestOptions {
  /**
   * The public base URL of the bot's HTTP server (`https://lifeboat.example.com`); slash
   * commands and interactivity post to its `/slack/events`. Ignored with `socket`.
   * @defaultValue `https://YOUR-HOST`
   */
  readonly url?: string;
  /** Socket Mode: no request URLs, `socket_mode_enabled`. */
  readonly socket?: boolean;
}

/**
 * The bot scopes Lifeboat uses: slash commands, posting and updating messages (also in
 * public channels it was not invited to, for alerts), and uploading drill charts.
 */
export const SLACK_BOT_SCOPES = ['commands', 'chat:write', 'chat:write.public', 'files:write'];

/** Slack's limits on a slash command's description and usage hint. */
const DESCRIPTION_CHARS = 100;
const USAGE_HINT_CHARS = 1_000;

/**
 * A Slack app manifest (JSON, as "Create an app → From a manifest" accepts it) generated from
 * the grammar: one slash command per first word, its description from the summaries and its
 * usage hint from the usage lines, the bot scopes, and interactivity for the buttons.
 */
export function slackManifest(
  commands: readonly CommandSpec[],
  options: SlackManifestOptions = {},
): Record<string, unknown> {
  const base = (options.url ?? 'https://YOUR-HOST').replace(/\/+$/, '');
  const requestUrl = `${base}${SLACK_EVENTS_PATH}`;
  const byWord = new Map<string, CommandSpec[]>();
  for (const command of commands) {
    const word = command.path[0];
    if (!word) continue;
    byWord.set(word, [...(byWord.get(word) ?? []), command]);
  }
  const slashCommands = [...byWord].map(([word, members]) => {
    const hints = members.map((c) => usageLine(c).replace(/^\/\S+\s?/, '')).filter(Boolean);
    const description =
      members.length === 1
        ? (members[0]?.summary ?? word)
        : `Subcommands: ${members.map((c) => c.path.slice(1).join(' ')).join(', ')}`;
    return {
      command: `/${word}`,
      ...(options.socket ? {} : { url: requestUrl }),
      description: cut(description, DESCRIPTION_CHARS),
      ...(hints.length ? { usage_hint: cut(hints.join(' | '), USAGE_HINT_CHARS) } : {}),
      should_escape: false,
    };
  });
  return {
    display_information: {
      name: 'Lifeboat',
      description: 'Backups, restores and disaster-recovery drills from chat',
      background_color: '#1d3557',
    },
    features: {
      bot_user: { display_name: 'Lifeboat', always_online: true },
      slash_commands: slashCommands,
    },
    oauth_config: { scopes: { bot: SLACK_BOT_SCOPES } },
    settings: {
      interactivity: options.socket
        ? { is_enabled: true }
        : { is_enabled: true, request_url: requestUrl },
      org_deploy_enabled: false,
      socket_mode_enabled: options.socket === true,
      token_rotation_enabled: false,
    },
  };
}
