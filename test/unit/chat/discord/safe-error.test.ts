import { REST } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loggableError } from '../../../../src/chat/discord/safe-error.ts';
import { FakeDiscord } from '../../../support/fake-discord.ts';

describe('loggableError', () => {
  let fake: FakeDiscord;
  beforeEach(async () => {
    fake = await FakeDiscord.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('keeps an interaction token in a failed request’s URL out of the logs', async () => {
    const rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken('bot');
    const token = 'itok_this_is_the_interaction_token';
    const error = await rest
      .post(`/webhooks/${fake.applicationId}/${token}`, { body: {}, auth: false })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Error);
    expect(JSON.stringify({ ...(error as object), stack: (error as Error).stack })).toContain(
      token,
    );

    const safe = loggableError(error) as Error & { url?: string; status?: number };

    expect(JSON.stringify({ ...safe, message: safe.message, stack: safe.stack })).not.toContain(
      token,
    );
    expect(safe.url).toContain(`/webhooks/${fake.applicationId}/[redacted]`);
    expect(safe.status).toBe(404);
    expect(safe.message).toContain('Unknown Webhook');
  });
});
