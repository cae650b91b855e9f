import { type DeliveryLedger, memoryDeliveryLedger } from '../../src/chat/delivery-ledger.ts';
import {
  SLACK_EVENTS_PATH,
  SlackAdapter,
  type SlackAdapterOptions,
} from '../../src/chat/slack/slack-adapter.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { ChatAdapterHarness } from '../contract/chat-adapter.contract.ts';
import { InMemoryAudit } from '../doubles/in-memory-audit.ts';
import { FakeSlack, formBody, postSigned, serveRoutes } from './fake-slack.ts';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789';

export interface SlackHarness extends ChatAdapterHarness {
  readonly adapter: SlackAdapter;
  readonly fake: FakeSlack;
  readonly audit: InMemoryAudit;
  /** `http://127.0.0.1:PORT/slack/events` in HTTP mode. */
  readonly eventsUrl: string;
  /** HTTP answers (or socket acks) of the requests `send` and `click` made, in order. */
  readonly answers: { status: number; body?: Record<string, unknown> }[];
}

/**
 * The Slack adapter against a `FakeSlack`, over HTTP (`/slack/events` served on a free port,
 * requests signed) or Socket Mode (envelopes on the fake's WebSocket). `send` and `click` resolve
 * once Slack would have its answer (the HTTP response, the socket ack).
 */
export async function slackHarness(
  mode: 'http' | 'socket',
  overrides: Partial<SlackAdapterOptions> & { ledger?: DeliveryLedger } = {},
  /** Sets the fake up before the adapter is made (Bolt calls `auth.test` at once). */
  prepare: (fake: FakeSlack) => void = () => undefined,
): Promise<SlackHarness> {
  const fake = await new FakeSlack().start();
  prepare(fake);
  const audit = new InMemoryAudit();
  const adapter = new SlackAdapter({
    botToken: 'xoxb-test-bot-token',
    ...(mode === 'http'
      ? { signingSecret: TEST_SIGNING_SECRET }
      : { appToken: 'xapp-test-app-token' }),
    apiUrl: fake.apiUrl,
    ledger: memoryDeliveryLedger(),
    audit,
    logger: silentLogger(),
    commandWords: [
      'backup',
      'restore',
      'approve',
      'reject',
      'approvals',
      'status',
      'explode',
      'block',
      'whisper',
      'help',
    ],
    updateIntervalMs: 100,
    webApiRetries: 0,
    ...overrides,
  });
  const served = mode === 'http' ? await serveRoutes(adapter.routes) : undefined;
  const eventsUrl = served ? `${served.url}${SLACK_EVENTS_PATH}` : '';
  const answers: SlackHarness['answers'] = [];
  const userOf = (name: string) => FakeSlack.userId(name);

  const deliver = async (userId: string, fields: Record<string, unknown>, interactive: boolean) => {
    if (mode === 'http') {
      const answer = await postSigned(eventsUrl, formBody(fields, interactive), {
        signingSecret: TEST_SIGNING_SECRET,
      });
      answers.push({ status: answer.status, ...(answer.json ? { body: answer.json } : {}) });
      if (answer.json?.response_type === 'ephemeral') fake.recordPrivate(userId, answer.json);
      return;
    }
    if (!adapter.routes.size) await Promise.race([fake.connected(), delay(2000)]);
    const ack = await fake.sendEnvelope(interactive ? 'interactive' : 'slash_commands', fields);
    if (!ack) return;
    answers.push({ status: 200, body: ack });
    if (ack.response_type === 'ephemeral') fake.recordPrivate(userId, ack);
  };

  return {
    adapter,
    fake,
    audit,
    eventsUrl,
    answers,
    channel: { channel: 'C0OPS' },
    identityOf: (user) => ({ platform: 'slack', id: userOf(user) }),
    send: (user, text) => deliver(userOf(user), fake.slashCommand(userOf(user), text), false),
    click: (user, on, button) =>
      deliver(
        userOf(user),
        fake.blockAction(userOf(user), on, {
          actionId: button.actionId,
          ...(button.value !== undefined ? { value: button.value } : {}),
        }),
        true,
      ),
    // `send` and `click` return once Slack has its answer.
    acknowledged: async () => undefined,
    seen: async () => fake.screen(),
    seenPrivately: async (user) => fake.privateScreen(userOf(user)),
    close: async () => {
      await adapter.stop().catch(() => undefined);
      await served?.close();
      await fake.stop();
    },
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
