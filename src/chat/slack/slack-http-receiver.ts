import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type App, type Receiver, verifySlackRequest } from '@slack/bolt';

/** What the adapter decides about a verified, parsed request before Bolt sees it. */
export type Admission =
  | { readonly dispatch: true }
  | { readonly dispatch: false; readonly status: 200 | 400 | 401 | 503; readonly reason: string };

export interface SlackHttpReceiverOptions {
  readonly signingSecret: string;
  /**
   * Judges a request whose signature is good: refused (400/401), already taken (200, nothing
   * runs) or dispatched to Bolt.
   */
  readonly admit: (body: Record<string, unknown>) => Promise<Admission>;
  /** A request refused before it could be read or trusted (bad signature, stale, malformed). */
  readonly refused: (reason: string, status: number, claimed: Record<string, unknown>) => void;
  /** An unexpected failure while handling a request (answered 500 when nothing was sent yet). */
  readonly failed: (error: unknown) => void;
  /** @defaultValue 1 MiB */
  readonly maxBodyBytes?: number;
  /**
   * Answers a request nobody acknowledged (an event type the bot does not handle) with 404 after
   * this long, as Bolt's own receiver does. @defaultValue 3001
   */
  readonly unhandledMs?: number;
}

/**
 * When the receiver took a request (epoch ms), handed to listeners through Bolt's context: a
 * listener that starts after Slack's window has passed (Bolt waited on `auth.test`, the event
 * loop was blocked) must not run what Slack has already reported as failed.
 */
export const RECEIVED_AT = 'lifeboatReceivedAt';

class Refused extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Refused(413, `the body is larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The form fields of a command, or the JSON `payload` field of an interaction. */
function parseForm(raw: string): Record<string, unknown> {
  const form = Object.fromEntries(new URLSearchParams(raw));
  if (typeof form.payload !== 'string') return form;
  let payload: unknown;
  try {
    payload = JSON.parse(form.payload);
  } catch {
    throw new Refused(400, 'the payload field is not JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new Refused(400, 'the payload field is not a JSON object');
  }
  return payload as Record<string, unknown>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Bolt's receiver for `/slack/events` on Lifeboat's own HTTP server: reads the raw body, checks
 * Slack's signature and timestamp with Bolt's `verifySlackRequest` (401), reads the form (400),
 * lets the adapter refuse or skip it, and only then hands it to Bolt. The HTTP answer is the
 * acknowledgement: 200 with the ephemeral message when `ack` carries one.
 */
export class SlackHttpReceiver implements Receiver {
  readonly requestListener: RequestListener;
  #app: App | undefined;
  readonly #options: SlackHttpReceiverOptions;

  constructor(options: SlackHttpReceiverOptions) {
    this.#options = options;
    this.requestListener = (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!(error instanceof Refused)) options.failed(error);
        const status = error instanceof Refused ? error.status : 500;
        const why = error instanceof Refused ? error.message : 'internal error';
        if (!res.headersSent) {
          res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`${why}\n`);
        }
      });
    };
  }

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new Refused(405, 'Slack sends POST requests here');
    const raw = await readBody(req, this.#options.maxBodyBytes ?? 1024 * 1024);
    const signature = header(req, 'x-slack-signature');
    const timestamp = Number(header(req, 'x-slack-request-timestamp'));
    const claimed = () => {
      try {
        return parseForm(raw);
      } catch {
        return {};
      }
    };
    if (!signature || !Number.isFinite(timestamp)) {
      const why = 'the request is not signed (X-Slack-Signature, X-Slack-Request-Timestamp)';
      this.#options.refused(why, 401, claimed());
      throw new Refused(401, why);
    }
    try {
      verifySlackRequest({
        signingSecret: this.#options.signingSecret,
        body: raw,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      });
    } catch (error) {
      const stale = /stale/i.test(error instanceof Error ? error.message : '');
      const why = stale
        ? 'the request timestamp is more than 5 minutes old'
        : 'the request signature does not match';
      this.#options.refused(why, 401, claimed());
      throw new Refused(401, why);
    }
    const type = (header(req, 'content-type') ?? '').split(';')[0]?.trim();
    if (type !== 'application/x-www-form-urlencoded') {
      const why = 'only slash commands and interactions (form-encoded) are handled here';
      this.#options.refused(why, 400, {});
      throw new Refused(400, why);
    }
    let body: Record<string, unknown>;
    try {
      body = parseForm(raw);
    } catch (error) {
      const why = error instanceof Refused ? error.message : 'the body is not a form';
      this.#options.refused(why, 400, {});
      throw new Refused(400, why);
    }

    // Slack checks the certificate of a slash command's URL now and then; it wants a 200.
    if (body.ssl_check === '1') {
      res.writeHead(200).end();
      return;
    }
    const admission = await this.#options.admit(body);
    if (!admission.dispatch) {
      res.writeHead(admission.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(admission.status === 200 ? '' : `${admission.reason}\n`);
      return;
    }
    const app = this.#app;
    if (!app) throw new Refused(503, 'Slack is not started');

    const receivedAt = Date.now();
    let answered = false;
    const unhandled = setTimeout(() => {
      if (answered) return;
      answered = true;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not handled\n');
    }, this.#options.unhandledMs ?? 3001);
    unhandled.unref();
    const retry = header(req, 'x-slack-retry-num');
    const retryReason = header(req, 'x-slack-retry-reason');
    await app.processEvent({
      body,
      customProperties: { [RECEIVED_AT]: receivedAt },
      ...(retry !== undefined ? { retryNum: Number(retry) } : {}),
      ...(retryReason !== undefined ? { retryReason } : {}),
      ack: async (response?: unknown) => {
        if (answered) return;
        answered = true;
        clearTimeout(unhandled);
        if (response !== undefined && response !== null && typeof response === 'object') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(response));
        } else {
          res.writeHead(200).end();
        }
      },
    });
  }
}
