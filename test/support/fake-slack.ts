import { createHmac, randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** One Web API call the fake received, in order, with when it arrived and how it was answered. */
export interface RecordedCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** `Date.now()` when the request arrived. */
  readonly at: number;
  /** The HTTP status the fake answered. */
  readonly status: number;
}

/** A message as the fake keeps it: every version, newest last. */
export interface FakeMessage {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  readonly versions: Record<string, unknown>[];
}

/** A file uploaded through the files.uploadV2 flow. */
export interface FakeFile {
  readonly id: string;
  readonly filename: string;
  bytes?: Buffer;
  channel?: string;
  threadTs?: string;
  title?: string;
}

/**
 * A local server that plays Slack for Bolt: the Web API under `/api/` (recording every call),
 * response URLs, the files upload flow and a Socket Mode WebSocket. It also sends what Slack
 * sends: signed slash commands and clicks over HTTP, or envelopes over the socket.
 */
export class FakeSlack {
  /** `http://127.0.0.1:PORT/api/`: give it to Bolt as `slackApiUrl` (`SLACK_API_URL`). */
  apiUrl = '';
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly files: FakeFile[] = [];
  /** Ephemeral answers by Slack user id, oldest first: acks, response URLs, postEphemeral. */
  readonly privately = new Map<string, Record<string, unknown>[]>();
  readonly teamId: string;
  /** Response URLs answer 404, as Slack's do after 30 minutes or 5 uses. */
  responseUrlsExpired = false;

  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #socket: WebSocket | undefined;
  #socketWaiters: ((socket: WebSocket) => void)[] = [];
  readonly #acks = new Map<string, (payload: Record<string, unknown>) => void>();
  #tsCounter = 0;
  #counter = 0;
  readonly #rateLimits: { method: string; retryAfterS: number }[] = [];
  readonly #delays = new Map<string, number>();

  constructor(teamId = 'T0LIFEBOAT') {
    this.teamId = teamId;
  }

  /** Listens on a free port of 127.0.0.1. */
  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
    const wss = new WebSocketServer({ server, path: '/socket' });
    wss.on('connection', (socket) => {
      this.#socket = socket;
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (!frame.envelope_id) return;
        this.#acks.get(frame.envelope_id)?.((frame.payload ?? {}) as Record<string, unknown>);
        this.#acks.delete(frame.envelope_id);
      });
      socket.on('close', () => {
        if (this.#socket === socket) this.#socket = undefined;
      });
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: {} }));
      for (const waiter of this.#socketWaiters.splice(0)) waiter(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.#wss = wss;
    this.apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    for (const client of this.#wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => this.#wss?.close(() => resolve()) ?? resolve());
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  /** Every call of `method` is answered `ms` late (Slack slow to answer `auth.test`). */
  delay(method: string, ms: number): void {
    this.#delays.set(method, ms);
  }

  /** The next `count` calls of `method` are answered 429 with `Retry-After: retryAfterS`. */
  rateLimit(method: string, retryAfterS: number, count = 1): void {
    for (let i = 0; i < count; i++) this.#rateLimits.push({ method, retryAfterS });
  }

  /** The calls of one Web API method, in order. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The Slack user id the fake gives a test user name: `alice` → `UALICE`. */
  static userId(name: string): string {
    return `U${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
  }

  /** What the channel shows: every message's newest version as text, oldest message first. */
  screen(): string {
    const messages = this.messages.map((m) => messageText(m.versions[m.versions.length - 1] ?? {}));
    // Files shared into a channel show as their names, as Slack shows them.
    const files = this.files
      .filter((f) => f.channel !== undefined)
      .map((f) => `[file ${f.filename}${f.title ? `: ${f.title}` : ''}]`);
    return [...messages, ...files].join('\n---\n');
  }

  /** What only `userId` was shown, as text. */
  privateScreen(userId: string): string {
    return (this.privately.get(userId) ?? []).map(messageText).join('\n---\n');
  }

  /** Records an ephemeral answer (an HTTP ack body, a socket ack payload). */
  recordPrivate(userId: string, message: Record<string, unknown>): void {
    const list = this.privately.get(userId) ?? [];
    list.push(message);
    this.privately.set(userId, list);
  }

  /** The fields Slack posts for a slash command typed as `text` (`/backup create full`). */
  slashCommand(
    userId: string,
    text: string,
    options: { channel?: string; teamId?: string } = {},
  ): Record<string, string> {
    const command = text.trim().split(/\s+/)[0] ?? '';
    const args = text.trim().slice(command.length).trim();

    return {
      token: 'deprecated-verification-token',
      team_id: options.teamId ?? this.teamId,
      team_domain: 'lifeboat',
      channel_id: options.channel ?? 'C0OPS',
      channel_name: 'ops',
      user_id: userId,
      user_name: `display-${userId.toLowerCase()}`,
      command,
      text: args,
      api_app_id: 'A0LIFEBOAT',
      response_url: this.#responseUrl(userId),
      trigger_id: `${++this.#counter}.${Date.now()}.${randomBytes(6).toString('hex')}`,
    };
  }

  /** The `block_actions` payload Slack sends when `userId` clicks `actionId` on a message. */
  blockAction(
    userId: string,
    on: { channel: string; messageId: string; thread?: string },
    button: { actionId: string; value?: string },
    options: { teamId?: string } = {},
  ): Record<string, unknown> {
    const team = options.teamId ?? this.teamId;
    return {
      type: 'block_actions',
      team: { id: team, domain: 'lifeboat' },
      user: { id: userId, username: `display-${userId.toLowerCase()}`, team_id: team },
      api_app_id: 'A0LIFEBOAT',
      container: { type: 'message', message_ts: on.messageId, channel_id: on.channel },
      trigger_id: `${++this.#counter}.${Date.now()}.${randomBytes(6).toString('hex')}`,
      channel: { id: on.channel, name: 'ops' },
      message: {
        type: 'message',
        ts: on.messageId,
        ...(on.thread ? { thread_ts: on.thread } : {}),
      },
      response_url: this.#responseUrl(userId),
      actions: [
        {
          type: 'button',
          action_id: button.actionId,
          block_id: 'b1',
          text: { type: 'plain_text', text: 'button' },
          ...(button.value !== undefined ? { value: button.value } : {}),
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
  }

  /** Resolves once a Socket Mode client is connected. */
  connected(): Promise<WebSocket> {
    if (this.#socket) return Promise.resolve(this.#socket);
    return new Promise((resolve) => this.#socketWaiters.push(resolve));
  }

  /**
   * Sends an envelope over the socket and resolves with the ack's payload, or undefined at
   * once when no client is connected (a stopped app receives nothing).
   */
  async sendEnvelope(
    type: 'slash_commands' | 'interactive',
    payload: Record<string, unknown>,
    retryAttempt = 0,
    envelopeId = `env-${++this.#counter}`,
  ): Promise<Record<string, unknown> | undefined> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== socket.OPEN) return undefined;
    // A socket that closes (the app stopped) never acks: resolve with nothing then.
    const acked = new Promise<Record<string, unknown> | undefined>((resolve) => {
      this.#acks.set(envelopeId, resolve);
      socket.once('close', () => resolve(undefined));
    });
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        accepts_response_payload: type === 'slash_commands',
        retry_attempt: retryAttempt,
        retry_reason: retryAttempt ? 'timeout' : '',
        payload,
      }),
    );
    return acked;
  }

  #responseUrl(userId: string): string {
    return `${this.apiUrl.replace(/api\/$/, '')}respond/${userId}/${++this.#counter}`;
  }

  #nextTs(): string {
    this.#tsCounter += 1;
    return `1765000000.${String(this.#tsCounter).padStart(6, '0')}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const raw = await readAll(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    const respond = /^\/respond\/([^/]+)\/\d+$/.exec(path);
    if (respond?.[1] && this.responseUrlsExpired) {
      this.calls.push({ method: 'response_url', params: {}, at, status: 404 });
      res.writeHead(404, { 'content-type': 'text/plain' }).end('expired_url');
      return;
    }
    if (respond?.[1]) {
      this.calls.push({
        method: 'response_url',
        params: JSON.parse(raw.toString()),
        at,
        status: 200,
      });
      const body = JSON.parse(raw.toString()) as Record<string, unknown>;
      if (body.response_type === 'ephemeral' || body.response_type === undefined) {
        this.recordPrivate(respond[1], body);
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const upload = /^\/upload\/([^/]+)$/.exec(path);
    if (upload?.[1]) {
      const file = this.files.find((f) => f.id === upload[1]);
      if (file) file.bytes = multipartFile(raw, req.headers['content-type']) ?? raw;
      this.calls.push({
        method: 'upload',
        params: { id: upload[1], bytes: raw.length },
        at,
        status: 200,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${raw.length}`);
      return;
    }
    const api = /^\/api\/([a-zA-Z.]+)$/.exec(path);
    if (!api?.[1]) {
      res.writeHead(404).end('not found');
      return;
    }
    const method = api[1];
    const params = parseParams(raw, req.headers['content-type']);
    const limitAt = this.#rateLimits.findIndex((r) => r.method === method);
    if (limitAt >= 0) {
      const [limit] = this.#rateLimits.splice(limitAt, 1);
      this.calls.push({ method, params, at, status: 429 });
      json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit?.retryAfterS) });
      return;
    }
    this.calls.push({ method, params, at, status: 200 });
    const answer = this.#answer(method, params);
    const late = this.#delays.get(method);
    if (late) setTimeout(() => json(200, answer), late);
    else json(200, answer);
  }

  #answer(method: string, params: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          user_id: 'U0BOT',
          bot_id: 'B0BOT',
          team_id: this.teamId,
          team: 'Lifeboat',
          user: 'lifeboat',
        };
      case 'apps.connections.open':
        return {
          ok: true,
          url: `${this.apiUrl.replace(/^http/, 'ws').replace(/api\/$/, '')}socket`,
        };
      case 'chat.postMessage': {
        const ts = this.#nextTs();
        const channel = String(params.channel);
        const threadTs = typeof params.thread_ts === 'string' ? params.thread_ts : undefined;
        this.messages.push({ channel, ts, ...(threadTs ? { threadTs } : {}), versions: [params] });
        return { ok: true, channel, ts, message: { ts, text: params.text } };
      }
      case 'chat.update': {
        const message = this.messages.find(
          (m) => m.channel === params.channel && m.ts === params.ts,
        );
        if (!message) return { ok: false, error: 'message_not_found' };
        message.versions.push(params);
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral':
        this.recordPrivate(String(params.user), params);
        return { ok: true, message_ts: this.#nextTs() };
      case 'files.getUploadURLExternal': {
        const id = `F${++this.#counter}`;
        this.files.push({ id, filename: String(params.filename) });
        return {
          ok: true,
          file_id: id,
          upload_url: `${this.apiUrl.replace(/api\/$/, '')}upload/${id}`,
        };
      }
      case 'files.completeUploadExternal': {
        const list = JSON.parse(String(params.files)) as { id: string; title?: string }[];
        for (const item of list) {
          const file = this.files.find((f) => f.id === item.id);
          if (!file) continue;
          if (typeof params.channel_id === 'string') file.channel = params.channel_id;
          if (typeof params.thread_ts === 'string') file.threadTs = params.thread_ts;
          if (item.title) file.title = item.title;
        }
        return { ok: true, files: list.map((f) => ({ id: f.id, title: f.title })) };
      }
      default:
        return { ok: true };
    }
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The Web API's form fields; `blocks` and friends arrive as JSON strings and are parsed. */
function parseParams(raw: Buffer, type: string | undefined): Record<string, unknown> {
  if (type?.includes('application/json')) return JSON.parse(raw.toString() || '{}');
  const params: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw.toString()));
  for (const key of ['blocks', 'attachments']) {
    if (typeof params[key] === 'string') params[key] = JSON.parse(params[key] as string);
  }
  return params;
}

/** The content of the file part of a multipart/form-data body, or undefined when it is not one. */
function multipartFile(raw: Buffer, type: string | undefined): Buffer | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return undefined;
  const delimiter = Buffer.from(`--${marker}`);
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const next = raw.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = raw.subarray(at + delimiter.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0 && part.subarray(0, headerEnd).toString().includes('filename=')) {
      // The part's content ends before the CRLF that precedes the next delimiter.
      return part.subarray(headerEnd + 4, part.length - 2);
    }
    at = next;
  }
  return undefined;
}

const unescapeEntities = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function textOf(value: unknown): string {
  if (value && typeof value === 'object' && 'text' in value) {
    return String((value as { text: unknown }).text);
  }
  return '';
}

/** A Slack message (blocks, else its text) as the plain text a reader sees. */
export function messageText(message: Record<string, unknown>): string {
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Record<string, unknown>[]) : [];
  if (blocks.length === 0) return unescapeEntities(String(message.text ?? ''));
  const lines: string[] = [];
  for (const block of blocks) {
    if (block.text) lines.push(textOf(block.text));
    for (const field of (block.fields as unknown[] | undefined) ?? []) lines.push(textOf(field));
    for (const element of (block.elements as Record<string, unknown>[] | undefined) ?? []) {
      lines.push(element.type === 'button' ? `[${textOf(element.text)}]` : textOf(element));
    }
  }
  return unescapeEntities(lines.join('\n'));
}

/** Slack's request signature: `v0=` + HMAC-SHA256(secret, `v0:{timestamp}:{body}`). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedRequestOptions {
  readonly signingSecret: string;
  /** Seconds since the epoch. @defaultValue now */
  readonly timestamp?: number;
  /** Sent as `X-Slack-Retry-Num` (with a retry reason). */
  readonly retryNum?: number;
  /** Replaces the computed signature (a forged request). */
  readonly signature?: string;
  /** @defaultValue `application/x-www-form-urlencoded` */
  readonly contentType?: string;
}

/** A form-encoded body: fields as they are, or an interaction's `payload=` JSON. */
export function formBody(fields: Record<string, unknown>, asPayload = false): string {
  if (asPayload) return new URLSearchParams({ payload: JSON.stringify(fields) }).toString();
  return new URLSearchParams(fields as Record<string, string>).toString();
}

/** POSTs `body` to `url` signed as Slack signs it; resolves with the answer. */
export async function postSigned(
  url: string,
  body: string,
  options: SignedRequestOptions,
): Promise<{ status: number; text: string; json?: Record<string, unknown> }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature':
        options.signature ?? slackSignature(options.signingSecret, timestamp, body),
      ...(options.retryNum !== undefined
        ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
    },
    body,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  if (response.headers.get('content-type')?.includes('application/json')) json = JSON.parse(text);
  return { status: response.status, text, ...(json ? { json } : {}) };
}

/** Serves `routes` (the adapter's `/slack/events`) on a free port; resolves with its base URL. */
export async function serveRoutes(
  routes: ReadonlyMap<string, RequestListener>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const route = routes.get((req.url ?? '/').split('?')[0] ?? '/');
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
