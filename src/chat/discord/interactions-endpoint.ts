import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../../logging/logger.ts';
import type {
  DeliveryOutcome,
  InteractionDelivery,
  InteractionReceiver,
} from './discord-adapter.ts';
import type { InteractionCallback } from './interaction.ts';
import { loggableError } from './safe-error.ts';
import { checkDiscordSignature } from './verify-signature.ts';

/** The path Discord's "Interactions endpoint URL" points at. */
export const DISCORD_INTERACTIONS_PATH = '/discord/interactions';
/** Interactions are small; a larger body is refused before it is read whole. */
const MAX_BODY_BYTES = 256 * 1024;

export interface InteractionsEndpointOptions {
  /** The application's public key (`DISCORD_PUBLIC_KEY`). */
  readonly publicKey: KeyObject;
  readonly logger: Logger;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

/**
 * Interactions over HTTP: Discord POSTs each one, signed with Ed25519, to
 * `/discord/interactions` and takes the first answer as the HTTP response. A request whose
 * signature is missing, forged or stale gets 401; a malformed, replayed or anonymous one 400;
 * none of them reaches the handler.
 */
export class InteractionsEndpoint implements InteractionReceiver {
  private deliver: InteractionDelivery | undefined;
  private readonly options: InteractionsEndpointOptions;

  constructor(options: InteractionsEndpointOptions) {
    this.options = options;
  }

  async start(deliver: InteractionDelivery): Promise<void> {
    this.deliver = deliver;
  }

  async stop(): Promise<void> {
    this.deliver = undefined;
  }

  /** The request listener to mount at `DISCORD_INTERACTIONS_PATH`. */
  readonly listener: RequestListener = (req, res) => {
    void this.handle(req, res).catch((error: unknown) => {
      this.options.logger.error({ err: loggableError(error) }, 'Discord interaction failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal error' });
    });
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST interactions here' });
    const body = await readBody(req);
    if (!body) return reply(res, 413, { error: 'body too large' });
    const check = checkDiscordSignature(
      this.options.publicKey,
      {
        signature: header(req, 'x-signature-ed25519'),
        timestamp: header(req, 'x-signature-timestamp'),
      },
      body,
      (this.options.now ?? Date.now)(),
    );
    if (!check.ok) {
      this.options.logger.warn(
        { reason: check.reason },
        'refused a Discord request: bad signature',
      );
      return reply(res, 401, { error: `invalid request signature (${check.reason})` });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(res, 400, { error: 'the body is not JSON' });
    }
    const deliver = this.deliver;
    if (!deliver) return reply(res, 503, { error: 'not taking interactions now' });
    let answered = false;
    const outcome: DeliveryOutcome = await deliver(raw, async (callback: InteractionCallback) => {
      if (answered) return;
      answered = true;
      await new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
        reply(res, 200, callback);
      });
    });
    if (!outcome.taken && !answered) {
      answered = true;
      reply(res, 400, { error: `interaction refused: ${outcome.reason}` });
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
