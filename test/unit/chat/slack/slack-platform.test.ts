import { describe, expect, it } from 'vitest';
import { commands } from '../../../../commands/index.ts';
import { memoryDeliveryLedger } from '../../../../src/chat/delivery-ledger.ts';
import { chatPlatformsFromEnv } from '../../../../src/chat/platforms.ts';
import { ConfigError } from '../../../../src/core/errors.ts';
import { silentLogger } from '../../../../src/logging/logger.ts';
import { InMemoryAudit } from '../../../doubles/in-memory-audit.ts';
import { testConfig } from '../../../doubles/test-config.ts';

const context = (env: NodeJS.ProcessEnv) => ({
  env,
  logger: silentLogger(),
  ledger: memoryDeliveryLedger(),
  audit: new InMemoryAudit(),
  commands,
  config: testConfig(),
});

describe('Slack among the chat platforms', () => {
  it('is not served when no Slack variable is set', async () => {
    expect(await chatPlatformsFromEnv(context({}))).toEqual([]);
  });

  it('mounts /slack/events in HTTP mode', async () => {
    const [slack] = await chatPlatformsFromEnv(
      context({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'signing-secret' }),
    );
    expect(slack?.adapter.platform).toBe('slack');
    expect([...(slack?.routes.keys() ?? [])]).toEqual(['/slack/events']);
  });

  it('mounts nothing in Socket Mode', async () => {
    const [slack] = await chatPlatformsFromEnv(
      context({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-abc' }),
    );
    expect(slack?.adapter.platform).toBe('slack');
    expect(slack?.routes.size).toBe(0);
  });

  it('refuses a half configuration, naming the variable', async () => {
    await expect(
      chatPlatformsFromEnv(context({ SLACK_SIGNING_SECRET: 'signing-secret' })),
    ).rejects.toThrow(ConfigError);
    await expect(
      chatPlatformsFromEnv(context({ SLACK_SIGNING_SECRET: 'signing-secret' })),
    ).rejects.toThrow(/SLACK_BOT_TOKEN/);
  });
});
