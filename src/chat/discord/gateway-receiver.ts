import { Client, GatewayIntentBits } from 'discord.js';
import type { Logger } from '../../logging/logger.ts';
import type { InteractionDelivery, InteractionReceiver } from './discord-adapter.ts';
import { loggableError } from './safe-error.ts';

/**
 * Interactions over the gateway, for a bot without a public URL (`DISCORD_TOKEN` alone): the
 * discord.js client keeps the WebSocket, each `INTERACTION_CREATE` goes to the adapter raw, and
 * the first answer goes to the interaction's callback endpoint.
 */
export class GatewayReceiver implements InteractionReceiver {
  readonly client: Client;
  private readonly token: string;
  private readonly logger: Logger;
  private deliver: InteractionDelivery | undefined;

  constructor(options: {
    readonly client: Client;
    readonly token: string;
    readonly logger: Logger;
  }) {
    this.client = options.client;
    this.token = options.token;
    this.logger = options.logger;
    this.client.ws.on('INTERACTION_CREATE' as never, (raw: unknown) => this.take(raw));
  }

  /**
   * A discord.js client for the gateway, its REST calls sent to `apiUrl`.
   * @param retries - how often REST retries a failed request (429s are waited out regardless)
   */
  static client(apiUrl: string, retries?: number): Client {
    return new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: apiUrl, ...(retries !== undefined ? { retries } : {}) },
    });
  }

  async start(deliver: InteractionDelivery): Promise<void> {
    this.deliver = deliver;
    const ready = new Promise<void>((resolve) => this.client.once('clientReady', () => resolve()));
    await this.client.login(this.token);
    await ready;
  }

  async stop(): Promise<void> {
    this.deliver = undefined;
    await this.client.destroy();
  }

  private take(raw: unknown): void {
    const deliver = this.deliver;
    if (!deliver) return;
    const interaction = raw as { id?: unknown; token?: unknown };
    deliver(raw, async (callback) => {
      await this.client.rest.post(
        `/interactions/${String(interaction.id)}/${String(interaction.token)}/callback`,
        {
          body: callback,
          auth: false,
        },
      );
    })
      .then((outcome) => {
        if (!outcome.taken) {
          this.logger.warn(
            { reason: outcome.reason },
            'refused a Discord interaction from the gateway',
          );
        }
      })
      .catch((error: unknown) =>
        this.logger.error({ err: loggableError(error) }, 'Discord interaction failed'),
      );
  }
}
