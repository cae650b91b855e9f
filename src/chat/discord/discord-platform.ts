import { REST } from 'discord.js';
import { ConfigError } from '../../core/errors.ts';
import type { ChatPlatform, ChatPlatformContext } from '../platforms.ts';
import { DiscordAdapter } from './discord-adapter.ts';
import { discordSettingsFromEnv } from './discord-env.ts';
import { GatewayReceiver } from './gateway-receiver.ts';
import { DISCORD_INTERACTIONS_PATH, InteractionsEndpoint } from './interactions-endpoint.ts';
import { discordPublicKey } from './verify-signature.ts';

/**
 * Discord when the environment configures it: interactions over HTTP at
 * `/discord/interactions` with `DISCORD_PUBLIC_KEY`, over the gateway with `DISCORD_TOKEN`
 * alone. Undefined when no Discord variable is set.
 */
export function discordPlatformFromEnv(context: ChatPlatformContext): ChatPlatform | undefined {
  const suggest = context.suggest;
  const settings = discordSettingsFromEnv(context.env);
  if (!settings) return undefined;
  const shared = {
    commands: context.commands,
    ledger: context.ledger,
    logger: context.logger,
    audit: context.audit,
    ...(suggest ? { suggest } : {}),
  };
  if (settings.publicKey) {
    const publicKey = discordPublicKey(settings.publicKey);
    if (!publicKey) throw new ConfigError('DISCORD_PUBLIC_KEY is not an Ed25519 public key');
    const endpoint = new InteractionsEndpoint({ publicKey, logger: context.logger });
    const rest = new REST({ api: settings.apiUrl }).setToken(settings.token);
    return {
      adapter: new DiscordAdapter({ ...shared, rest, receiver: endpoint }),
      routes: new Map([[DISCORD_INTERACTIONS_PATH, endpoint.listener]]),
    };
  }
  const client = GatewayReceiver.client(settings.apiUrl);
  const receiver = new GatewayReceiver({ client, token: settings.token, logger: context.logger });
  return {
    adapter: new DiscordAdapter({ ...shared, rest: client.rest, receiver }),
    routes: new Map(),
  };
}
