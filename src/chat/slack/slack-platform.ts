import type { ChatPlatform, ChatPlatformContext } from '../platforms.ts';
import { SlackAdapter } from './slack-adapter.ts';
import { slackConfigFromEnv } from './slack-config.ts';

/**
 * Slack as the environment configures it (`SLACK_BOT_TOKEN` with `SLACK_SIGNING_SECRET` for
 * HTTP mode or `SLACK_APP_TOKEN` for Socket Mode), or undefined when no Slack variable is set.
 * Throws a `ConfigError` naming the missing variable when Slack is half configured.
 */
export function slackPlatform(context: ChatPlatformContext): ChatPlatform | undefined {
  const config = slackConfigFromEnv(context.env);
  if (!config) return undefined;
  const adapter = new SlackAdapter({
    ...config,
    ledger: context.ledger,
    audit: context.audit,
    logger: context.logger.child({ platform: 'slack' }),
    commandWords: [...new Set(context.commands.map((c) => c.path[0] ?? '').filter(Boolean))],
  });
  return { adapter, routes: adapter.routes };
}
