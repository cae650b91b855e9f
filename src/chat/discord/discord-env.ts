import { ConfigError } from '../../core/errors.ts';

/** The default REST base URL; `DISCORD_API_URL` overrides it (a local server in tests). */
export const DISCORD_API_URL = 'https://discord.com/api';

/** How the bot reaches Discord, from the environment. */
export interface DiscordSettings {
  /** `DISCORD_TOKEN`: the bot token, for REST and the gateway. */
  readonly token: string;
  /** `DISCORD_PUBLIC_KEY`: present, interactions arrive over HTTP; absent, over the gateway. */
  readonly publicKey?: string;
  /** `DISCORD_APPLICATION_ID`: needed to register commands. */
  readonly applicationId?: string;
  /** `DISCORD_API_URL`. */
  readonly apiUrl: string;
}

const RELATED = ['DISCORD_PUBLIC_KEY', 'DISCORD_APPLICATION_ID', 'DISCORD_API_URL'] as const;

/**
 * Discord's settings, or undefined when none of its variables is set. A variable that needs
 * `DISCORD_TOKEN` without it, or a malformed one, is a `ConfigError` naming the variable (never
 * its value).
 */
export function discordSettingsFromEnv(env: NodeJS.ProcessEnv): DiscordSettings | undefined {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const token = read('DISCORD_TOKEN');
  if (!token) {
    const set = RELATED.filter((name) => read(name) !== undefined);
    if (set.length === 0) return undefined;
    throw new ConfigError(
      `DISCORD_TOKEN is not set, but ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'}: set DISCORD_TOKEN to the bot token, or unset the other Discord variables`,
    );
  }
  const publicKey = read('DISCORD_PUBLIC_KEY');
  if (publicKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(publicKey)) {
    throw new ConfigError(
      'DISCORD_PUBLIC_KEY is not a public key: give the 64 hex digits Discord shows as the application’s public key',
    );
  }
  const applicationId = read('DISCORD_APPLICATION_ID');
  if (applicationId !== undefined && !/^\d{5,25}$/.test(applicationId)) {
    throw new ConfigError(
      'DISCORD_APPLICATION_ID is not an application id: give the number (a snowflake) Discord shows',
    );
  }
  const apiUrl = read('DISCORD_API_URL') ?? DISCORD_API_URL;
  if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) {
    throw new ConfigError('DISCORD_API_URL is not an http(s) URL');
  }
  return {
    token,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    ...(publicKey ? { publicKey } : {}),
    ...(applicationId ? { applicationId } : {}),
  };
}

/** The Discord secrets set in `env`, for the logger to redact wherever they appear. */
export function discordSecrets(env: NodeJS.ProcessEnv): string[] {
  const token = env.DISCORD_TOKEN?.trim();
  return token ? [token] : [];
}
