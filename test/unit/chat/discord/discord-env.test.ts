import { describe, expect, it } from 'vitest';
import { commands } from '../../../../commands/index.ts';
import { memoryDeliveryLedger } from '../../../../src/chat/delivery-ledger.ts';
import { discordSettingsFromEnv } from '../../../../src/chat/discord/discord-env.ts';
import { chatPlatformsFromEnv } from '../../../../src/chat/platforms.ts';
import { ConfigError } from '../../../../src/core/errors.ts';
import { silentLogger } from '../../../../src/logging/logger.ts';
import { InMemoryAudit } from '../../../doubles/in-memory-audit.ts';
import { testConfig } from '../../../doubles/test-config.ts';

const KEY = 'a'.repeat(64);
const TOKEN = 'secret-bot-token-value';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    discordSettingsFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('Discord settings from the environment', () => {
  it('is not configured when no Discord variable is set', () => {
    expect(discordSettingsFromEnv({ SLACK_BOT_TOKEN: 'x' })).toBeUndefined();
  });

  it('uses HTTP interactions with a public key, the gateway without one', () => {
    expect(discordSettingsFromEnv({ DISCORD_TOKEN: TOKEN, DISCORD_PUBLIC_KEY: KEY })).toEqual({
      token: TOKEN,
      publicKey: KEY,
      apiUrl: 'https://discord.com/api',
    });
    expect(
      discordSettingsFromEnv({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: 'http://127.0.0.1:9/api/' }),
    ).toEqual({
      token: TOKEN,
      apiUrl: 'http://127.0.0.1:9/api',
    });
  });

  it('names DISCORD_TOKEN when another Discord variable is set without it', () => {
    const error = configError({ DISCORD_PUBLIC_KEY: KEY, DISCORD_APPLICATION_ID: '123456789' });
    expect(error.message).toContain('DISCORD_TOKEN');
    expect(error.message).toContain('DISCORD_PUBLIC_KEY');
    expect(error.message).not.toContain(KEY);
    expect(error.message).not.toContain('123456789');
  });

  it.each([
    ['DISCORD_PUBLIC_KEY', 'not-hex-at-all'],
    ['DISCORD_APPLICATION_ID', 'my-app'],
    ['DISCORD_API_URL', 'ftp://discord'],
  ])('names a malformed %s without echoing its value or the token', (name, value) => {
    const error = configError({ DISCORD_TOKEN: TOKEN, [name]: value });
    expect(error.message).toContain(name);
    expect(error.message).not.toContain(value);
    expect(error.message).not.toContain(TOKEN);
  });
});

describe('chatPlatformsFromEnv with Discord', () => {
  const context = (env: NodeJS.ProcessEnv) => ({
    env,
    logger: silentLogger(),
    ledger: memoryDeliveryLedger(),
    audit: new InMemoryAudit(),
    commands,
    config: testConfig(),
  });

  it('mounts /discord/interactions in HTTP mode', async () => {
    const platforms = await chatPlatformsFromEnv(
      context({ DISCORD_TOKEN: TOKEN, DISCORD_PUBLIC_KEY: KEY }),
    );
    const discord = platforms.find((p) => p.adapter.platform === 'discord');
    expect([...(discord?.routes.keys() ?? [])]).toEqual(['/discord/interactions']);
  });

  it('mounts nothing in gateway mode', async () => {
    const platforms = await chatPlatformsFromEnv(context({ DISCORD_TOKEN: TOKEN }));
    const discord = platforms.find((p) => p.adapter.platform === 'discord');
    expect(discord?.routes.size).toBe(0);
    await discord?.adapter.stop();
  });

  it('adds no Discord platform when Discord is not configured', async () => {
    const platforms = await chatPlatformsFromEnv(context({}));
    expect(platforms.some((p) => p.adapter.platform === 'discord')).toBe(false);
  });
});
