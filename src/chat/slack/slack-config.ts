import { ConfigError } from '../../core/errors.ts';

/** What the Slack adapter reads from the environment. */
export interface SlackConfig {
  /** `SLACK_BOT_TOKEN` (`xoxb-…`): every Web API call. */
  readonly botToken: string;
  /** `SLACK_SIGNING_SECRET`: checks requests to `/slack/events` (HTTP mode). */
  readonly signingSecret?: string;
  /** `SLACK_APP_TOKEN` (`xapp-…`): Socket Mode, no public URL needed. */
  readonly appToken?: string;
  /** `SLACK_API_URL`: the Web API base URL, e.g. a local server in tests. */
  readonly apiUrl?: string;
  /** `SLACK_TEAM_ID`: requests from any other workspace are refused. */
  readonly teamId?: string;
}

const NAMES = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_API_URL',
  'SLACK_TEAM_ID',
] as const;

/**
 * Slack's settings, or undefined when no Slack variable is set. A half configuration (a
 * signing secret without a bot token, a bot token with neither a signing secret nor an app
 * token) is a `ConfigError` naming the missing variable; values never appear in it.
 */
export function slackConfigFromEnv(env: NodeJS.ProcessEnv): SlackConfig | undefined {
  const value = (name: (typeof NAMES)[number]) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const set = NAMES.filter((name) => value(name) !== undefined);
  if (set.length === 0) return undefined;
  const botToken = value('SLACK_BOT_TOKEN');
  if (!botToken) {
    throw new ConfigError(
      `Slack is half configured: ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but SLACK_BOT_TOKEN is missing`,
      ['SLACK_BOT_TOKEN'],
    );
  }
  const signingSecret = value('SLACK_SIGNING_SECRET');
  const appToken = value('SLACK_APP_TOKEN');
  if (!signingSecret && !appToken) {
    throw new ConfigError(
      'Slack is half configured: SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP mode, /slack/events) nor SLACK_APP_TOKEN (Socket Mode) is',
      ['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'],
    );
  }
  const apiUrl = value('SLACK_API_URL');
  if (apiUrl && !/^https?:\/\/[^\s]+$/.test(apiUrl)) {
    throw new ConfigError('SLACK_API_URL is not an http(s) URL', ['SLACK_API_URL']);
  }
  const teamId = value('SLACK_TEAM_ID');
  return {
    botToken,
    ...(signingSecret ? { signingSecret } : {}),
    ...(appToken ? { appToken } : {}),
    ...(apiUrl ? { apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    ...(teamId ? { teamId } : {}),
  };
}

/**
 * The values of Slack's secret variables that are set (`SLACK_BOT_TOKEN`,
 * `SLACK_SIGNING_SECRET`, `SLACK_APP_TOKEN`), for the logger to redact wherever they appear.
 * Reads the environment without judging it, so even a half configuration is redacted.
 */
export function slackEnvSecrets(env: NodeJS.ProcessEnv): string[] {
  return ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']
    .map((name) => env[name]?.trim() ?? '')
    .filter((value) => value.length >= 8);
}
