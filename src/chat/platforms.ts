import type { RequestListener } from 'node:http';
import type { AuditLog } from '../audit/audit-log.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import type { CommandSpec, SuggestionKind } from '../core/command-grammar.ts';
import type { Logger } from '../logging/logger.ts';
import type { ChatAdapter } from './chat-adapter.ts';
import type { DeliveryLedger } from './delivery-ledger.ts';
import { discordPlatformFromEnv } from './discord/discord-platform.ts';
import { slackPlatform } from './slack/slack-platform.ts';

/** A chat platform the bot serves: its adapter, and the HTTP endpoints the platform calls. */
export interface ChatPlatform {
  readonly adapter: ChatAdapter;
  /**
   * Endpoints mounted on the bot's HTTP server (`LIFEBOAT_HTTP_PORT`) by exact path, every
   * method: `/slack/events`, `/discord/interactions`. Empty in socket or gateway mode.
   */
  readonly routes: ReadonlyMap<string, RequestListener>;
}

export interface ChatPlatformContext {
  /** Where the platforms' variables are read (`SLACK_BOT_TOKEN`, `DISCORD_TOKEN`, …). */
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Deliveries already taken, shared by every bot process: a retried request runs once. */
  readonly ledger: DeliveryLedger;
  /** Where refused requests that name a user (a forged or stale click) are recorded. */
  readonly audit: AuditLog;
  /**
   * The grammar: Slack's manifest and Discord's registered commands are generated from it. Only
   * the declarations: adapters never run a handler, the dispatcher does.
   */
  readonly commands: readonly CommandSpec[];
  readonly config: LifeboatConfig;
  /** Values to offer while an argument is typed (Discord autocomplete); absent, none. */
  readonly suggest?: (kind: SuggestionKind, typed: string) => Promise<readonly string[]>;
}

/**
 * The chat platforms the environment configures. Each platform's module decides from its own
 * variables whether it is configured, and throws a `ConfigError` naming the variable when it is
 * half configured.
 */
export async function chatPlatformsFromEnv(context: ChatPlatformContext): Promise<ChatPlatform[]> {
  const platforms: ChatPlatform[] = [];
  const slack = slackPlatform(context);
  if (slack) platforms.push(slack);
  const discord = discordPlatformFromEnv(context);
  if (discord) platforms.push(discord);
  return platforms;
}
