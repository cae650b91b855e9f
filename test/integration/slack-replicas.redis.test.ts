import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../src/chat/chat-adapter.ts';
import { redisDeliveryLedger } from '../../src/chat/delivery-ledger.ts';
import { FakeSlack, formBody, postSigned } from '../support/fake-slack.ts';
import {
  type SlackHarness,
  slackHarness,
  TEST_SIGNING_SECRET,
} from '../support/fake-slack-harness.ts';
import { uniqueQueuePrefix } from '../support/queues.ts';

describe('two bot replicas behind one Slack URL', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const prefix = uniqueQueuePrefix();
  const harnesses: SlackHarness[] = [];

  afterEach(async () => {
    for (const harness of harnesses.splice(0)) await harness.close();
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:delivery:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('run a command both receive once, through the ledger in Redis', async () => {
    const events: InboundEvent[] = [];
    for (let i = 0; i < 2; i++) {
      const harness = await slackHarness('http', {
        ledger: redisDeliveryLedger(redis, { prefix }),
      });
      harnesses.push(harness);
      await harness.adapter.start(async (event) => {
        events.push(event);
      });
    }
    const [one, two] = harnesses;
    if (!one || !two) throw new Error('two replicas expected');
    const body = formBody(one.fake.slashCommand(FakeSlack.userId('alice'), '/backup create'));

    const answers = await Promise.all([
      postSigned(one.eventsUrl, body, { signingSecret: TEST_SIGNING_SECRET }),
      postSigned(two.eventsUrl, body, { signingSecret: TEST_SIGNING_SECRET, retryNum: 1 }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(events).toHaveLength(1);
    expect(await redis.keys(`${prefix}:delivery:slack:trigger:*`)).toHaveLength(1);
  });
});
