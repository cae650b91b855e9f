import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REST } from 'discord.js';
import { vi } from 'vitest';
import { commands } from '../../commands/index.ts';
import type { AuditLog } from '../../src/audit/audit-log.ts';
import type { ChatAdapter, MessageRef } from '../../src/chat/chat-adapter.ts';
import { type DeliveryLedger, memoryDeliveryLedger } from '../../src/chat/delivery-ledger.ts';
import { packCustomId } from '../../src/chat/discord/custom-id.ts';
import { DiscordAdapter, type Suggest } from '../../src/chat/discord/discord-adapter.ts';
import { GatewayReceiver } from '../../src/chat/discord/gateway-receiver.ts';
import { InteractionsEndpoint } from '../../src/chat/discord/interactions-endpoint.ts';
import { discordPublicKey } from '../../src/chat/discord/verify-signature.ts';
import type { Button } from '../../src/chat/message.ts';
import type { Identity } from '../../src/core/identity.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { FakeDiscord, screenText } from './fake-discord.ts';

/** The bot token the tests use; it must never show up anywhere but the Authorization header. */
export const TEST_BOT_TOKEN = 'test-bot-token.NEVER-LOGGED';

export interface DiscordHarnessOptions {
  readonly mode: 'http' | 'gateway';
  readonly ledger?: DeliveryLedger;
  readonly audit?: AuditLog;
  readonly suggest?: Suggest;
  /** @defaultValue 50 (the handlers in tests do not acknowledge) */
  readonly ackDeadlineMs?: number;
  readonly now?: () => number;
  /** Share this fake (a second replica); it is then not closed with the harness. */
  readonly fake?: FakeDiscord;
}

/** A Discord adapter wired to a fake Discord, in HTTP-interactions or gateway mode. */
export interface DiscordHarness {
  readonly fake: FakeDiscord;
  readonly adapter: DiscordAdapter & ChatAdapter;
  /** The bot's interactions endpoint (HTTP mode). */
  readonly url: string;
  identityOf(user: string): Identity;
  /** Delivers an interaction payload as Discord would; HTTP mode: resolves with the response. */
  deliver(payload: unknown): Promise<{ status: number; body: unknown } | undefined>;
  send(user: string, text: string): Promise<void>;
  click(
    user: string,
    on: MessageRef,
    button: Pick<Button, 'actionId' | 'value' | 'confirm'>,
  ): Promise<void>;
  acknowledged(): Promise<void>;
  seen(): Promise<string>;
  seenPrivately(user: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDiscordHarness(options: DiscordHarnessOptions): Promise<DiscordHarness> {
  const fake = options.fake ?? (await FakeDiscord.start());
  const logger = silentLogger();
  const shared = {
    commands,
    ledger: options.ledger ?? memoryDeliveryLedger(),
    logger,
    ackDeadlineMs: options.ackDeadlineMs ?? 50,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.suggest ? { suggest: options.suggest } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  let server: Server | undefined;
  let url = '';
  let adapter: DiscordAdapter;
  let gatewayClient: GatewayReceiver | undefined;
  if (options.mode === 'http') {
    const publicKey = discordPublicKey(fake.publicKeyHex);
    if (!publicKey) throw new Error('the fake made a bad key');
    const endpoint = new InteractionsEndpoint({ publicKey, logger });
    server = createServer(endpoint.listener);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discord/interactions`;
    const rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken(TEST_BOT_TOKEN);
    adapter = new DiscordAdapter({ ...shared, rest, receiver: endpoint });
  } else {
    const client = GatewayReceiver.client(fake.apiUrl, 0);
    gatewayClient = new GatewayReceiver({ client, token: TEST_BOT_TOKEN, logger });
    adapter = new DiscordAdapter({ ...shared, rest: client.rest, receiver: gatewayClient });
  }

  const deliver = async (payload: unknown) => {
    if (options.mode === 'http') return fake.deliver(url, payload);
    fake.dispatch(payload);
    return undefined;
  };
  return {
    fake,
    adapter,
    url,
    identityOf: (user) => ({ platform: 'discord', id: fake.userId(user) }),
    deliver,
    send: async (user, text) => {
      await deliver(fake.commandInteraction(user, text, commands));
    },
    // A button that asks first is clicked, then confirmed, as a person would.
    click: async (user, on, button) => {
      const customId = packCustomId(button, button.confirm ? 'ask' : 'act');
      await deliver(fake.componentInteraction(user, on.messageId, customId));
      if (!button.confirm) return;
      const question = await vi.waitFor(() => {
        const found = fake.privateMessages(user).findLast((m) => m.embeds[0]?.url);
        if (!found) throw new Error('no confirmation was shown');
        return found;
      });
      const confirm = question.components[0]?.components?.[0]?.custom_id ?? '';
      await deliver(fake.componentInteraction(user, question.id, confirm));
    },
    acknowledged: () =>
      vi.waitFor(() => {
        if (!fake.allAnswered()) throw new Error('an interaction is not answered yet');
      }),
    seen: async () => screenText(fake.publicMessages()),
    seenPrivately: async (user) => screenText(fake.privateMessages(user)),
    close: async () => {
      await adapter.stop();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      if (!options.fake) await fake.close();
    },
  };
}
