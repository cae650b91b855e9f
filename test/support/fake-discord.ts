import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { OptionType, optionNames } from '../../src/chat/discord/slash-commands.ts';
import type { CommandSpec } from '../../src/core/command-grammar.ts';
import { tokenize } from '../../src/core/tokenize.ts';

/**
 * A local server that plays Discord for tests: the REST API (interaction callbacks, webhook
 * edits and follow-ups, channel messages, threads, command registration, `GET /gateway/bot`),
 * recording every call and keeping the messages as a Discord client would show them, and the
 * gateway WebSocket (hello, heartbeat acks, READY, then `INTERACTION_CREATE` dispatches). It
 * signs interactions with an Ed25519 key pair of its own, as Discord does.
 */

/** One REST call as it arrived. */
export interface RecordedCall {
  readonly method: string;
  /** Without `/api/v10`: `/channels/1/messages`. */
  readonly path: string;
  readonly body: unknown;
  /** Files of a multipart request: their form field (`files[0]`), name and size. */
  readonly files: readonly { field: string; name: string; size: number; contentType: string }[];
  /** The `Authorization` header (`Bot …`), or undefined for interaction-token routes. */
  readonly authorization: string | undefined;
}

/** A message as the fake keeps it. */
export interface FakeMessage {
  readonly id: string;
  readonly channelId: string;
  content: string;
  embeds: Record<string, unknown>[];
  components: { components?: { label?: string; custom_id?: string; style?: number }[] }[];
  flags: number;
  attachments: { filename: string; size: number }[];
  allowedMentions: unknown;
  /** Who sees it, when only one person does (an ephemeral answer). */
  readonly privateTo?: string;
  /** The interaction whose answer it is. */
  readonly interactionToken?: string;
  /** A deferred answer nothing has replaced yet ("thinking…"). */
  pending: boolean;
  deleted: boolean;
  /** How many times it was edited. */
  edits: number;
}

export interface FakeThread {
  readonly id: string;
  readonly parentId: string;
  readonly messageId: string;
  readonly name: string;
}

interface SentInteraction {
  readonly id: string;
  readonly userId: string;
  readonly channelId: string;
  readonly type: number;
  /** The message a clicked button was on. */
  readonly messageId?: string;
  original?: string;
  answered: boolean;
}

const API_PREFIX = '/api/v10';
let nextSnowflake = 1_300_000_000_000_000_000n;

/** A new unique snowflake. */
export function snowflake(): string {
  nextSnowflake += 1n;
  return String(nextSnowflake);
}

export interface SignOptions {
  /** Seconds since the epoch. @defaultValue now */
  readonly timestamp?: number;
  /** Sign with this key instead of the application's (a forgery). */
  readonly key?: KeyObject;
}

export class FakeDiscord {
  readonly applicationId = snowflake();
  readonly botUserId = snowflake();
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly threads: FakeThread[] = [];
  /** Commands as the last `PUT` of each scope left them: `global` or the guild id. */
  readonly registered = new Map<string, unknown>();
  /** The public key as Discord shows it: 64 hex digits. */
  readonly publicKeyHex: string;
  private readonly privateKey: KeyObject;
  private readonly interactions = new Map<string, SentInteraction>();
  private readonly server: Server;
  private readonly gateway: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private identified: WebSocket | undefined;
  private readyWaiters: (() => void)[] = [];
  private sequence = 0;
  private throttled: { count: number; match: (method: string, path: string) => boolean } = {
    count: 0,
    match: () => false,
  };
  private readonly users = new Map<string, string>();

  private constructor(server: Server) {
    const keys = generateKeyPairSync('ed25519');
    this.privateKey = keys.privateKey;
    this.publicKeyHex = keys.publicKey
      .export({ format: 'der', type: 'spki' })
      .subarray(12)
      .toString('hex');
    this.server = server;
    this.gateway = new WebSocketServer({ server, path: '/gateway' });
    this.gateway.on('connection', (socket) => this.onSocket(socket));
    server.on('request', (req, res) => {
      void this.onRequest(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(error) }));
      });
    });
  }

  static async start(): Promise<FakeDiscord> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeDiscord(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `DISCORD_API_URL` for the bot: REST calls come here. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** The snowflake of a test user (`alice`), the same every time within this fake. */
  userId(name: string): string {
    let id = this.users.get(name);
    if (!id) {
      id = snowflake();
      this.users.set(name, id);
    }
    return id;
  }

  /** The next `count` REST calls that `match` answer 429 with a short `retry_after`. */
  rateLimit(count: number, match: (method: string, path: string) => boolean): void {
    this.throttled = { count, match };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.gateway.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- interactions ------------------------------------------------------------------------

  private base(type: number, user: string, channelId: string, data: unknown, extra: object = {}) {
    const id = snowflake();
    const token = `itok_${randomBytes(24).toString('hex')}`;
    const userId = this.userId(user);
    this.interactions.set(token, {
      id,
      userId,
      channelId,
      type,
      answered: false,
      ...('message' in extra
        ? { messageId: (extra as { message: { id: string } }).message.id }
        : {}),
    });
    return {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      data,
      guild_id: this.guildId,
      guild: { id: this.guildId, locale: 'en-US', features: [] },
      guild_locale: 'en-US',
      channel_id: channelId,
      channel: {
        id: channelId,
        type: 0,
        guild_id: this.guildId,
        name: 'ops',
        flags: 0,
        permissions: '0',
      },
      member: {
        user: { id: userId, username: user, discriminator: '0', global_name: user, avatar: null },
        roles: [],
        permissions: '2248473465835073',
        joined_at: '2026-01-01T00:00:00.000Z',
        deaf: false,
        mute: false,
        flags: 0,
        pending: false,
        nick: null,
        avatar: null,
      },
      app_permissions: '2248473465835073',
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: 10_485_760,
      ...extra,
    };
  }

  /** A slash command interaction for `text` as typed, its options built from the grammar. */
  commandInteraction(
    user: string,
    text: string,
    commands: readonly CommandSpec[],
    channelId = this.channelId,
  ) {
    return this.base(2, user, channelId, {
      id: snowflake(),
      type: 1,
      ...interactionData(text, commands),
    });
  }

  /** A click on the button with `customId` of the message `messageId`. */
  componentInteraction(user: string, messageId: string, customId: string) {
    const message = this.messages.get(messageId);
    if (!message) throw new Error(`no message ${messageId}`);
    return this.base(
      3,
      user,
      message.channelId,
      { custom_id: customId, component_type: 2 },
      { message: this.messageJson(message) },
    );
  }

  /** An autocomplete interaction: `option` of the command typed as `text` is being typed. */
  autocompleteInteraction(
    user: string,
    text: string,
    option: string,
    typed: string,
    commands: readonly CommandSpec[],
  ) {
    const data = interactionData(text, commands);
    const focus = (options: Opt[]): Opt[] => {
      const [only] = options;
      if (options.length === 1 && only && only.type === OptionType.Subcommand) {
        return [{ ...only, options: focus(only.options ?? []) }];
      }
      return [
        ...options.filter((o) => o.name !== option),
        { name: option, type: OptionType.String, value: typed, focused: true },
      ];
    };
    return this.base(4, user, this.channelId, {
      id: snowflake(),
      type: 1,
      name: data.name,
      options: focus(data.options),
    });
  }

  /** The headers and body of a correctly signed (or, with options, forged or stale) request. */
  signed(
    payload: unknown,
    options: SignOptions = {},
  ): { headers: Record<string, string>; body: string } {
    const body = JSON.stringify(payload);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(timestamp + body), options.key ?? this.privateKey);
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-signature-ed25519': signature.toString('hex'),
        'x-signature-timestamp': timestamp,
      },
    };
  }

  /** Signature headers for exactly `body` at `timestamp` (seconds), for bodies that are not JSON. */
  signRaw(timestamp: string, body: string): Record<string, string> {
    const signature = sign(null, Buffer.from(timestamp + body), this.privateKey);
    return {
      'content-type': 'application/json',
      'x-signature-ed25519': signature.toString('hex'),
      'x-signature-timestamp': timestamp,
    };
  }

  /** POSTs `payload` signed to the bot's interactions endpoint, as Discord does. */
  async deliver(
    url: string,
    payload: unknown,
    options: SignOptions = {},
  ): Promise<{ status: number; body: unknown }> {
    const { headers, body } = this.signed(payload, options);
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    const answer = text ? (JSON.parse(text) as unknown) : undefined;
    const token = (payload as { token?: string }).token;
    if (res.ok && token && answer && typeof answer === 'object' && 'type' in answer) {
      this.answer(token, answer as { type: number; data?: Record<string, unknown> });
    }
    return { status: res.status, body: answer };
  }

  /** Sends an interaction over the gateway to the identified client. */
  dispatch(payload: unknown): void {
    const socket = this.identified;
    if (!socket) return;
    socket.send(JSON.stringify({ op: 0, t: 'INTERACTION_CREATE', s: ++this.sequence, d: payload }));
  }

  /** Resolves once a client has identified on the gateway. */
  async gatewayReady(): Promise<void> {
    if (this.identified) return;
    await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
  }

  /** Whether every interaction sent so far has had its first answer. */
  allAnswered(): boolean {
    return [...this.interactions.values()].every((i) => i.answered);
  }

  answered(interaction: { token: string }): boolean {
    return this.interactions.get(interaction.token)?.answered ?? false;
  }

  // ---- the screen --------------------------------------------------------------------------

  /** The messages everyone in the channels sees, oldest first. */
  publicMessages(): FakeMessage[] {
    return [...this.messages.values()].filter((m) => !m.deleted && !m.privateTo && !m.pending);
  }

  /** The messages only `user` was shown. */
  privateMessages(user: string): FakeMessage[] {
    const id = this.userId(user);
    return [...this.messages.values()].filter((m) => !m.deleted && m.privateTo === id);
  }

  /** The message a REST call created or edited last. */
  lastMessage(): FakeMessage | undefined {
    return [...this.messages.values()].at(-1);
  }

  // ---- REST --------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (!url.pathname.startsWith(API_PREFIX))
      return send(res, 404, { message: 'Not Found', code: 0 });
    const path = url.pathname.slice(API_PREFIX.length);
    const { body, files } = await readRequest(req);
    const authorization = req.headers.authorization;
    this.calls.push({ method, path, body, files, authorization });

    if (this.throttled.count > 0 && this.throttled.match(method, path)) {
      this.throttled.count--;
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '0.05',
        'x-ratelimit-scope': 'user',
      });
      res.end(
        JSON.stringify({
          message: 'You are being rate limited.',
          retry_after: 0.05,
          global: false,
        }),
      );
      return;
    }

    const route = (pattern: string): string[] | undefined => {
      const re = new RegExp(`^${pattern.replace(/:\w+/g, '([^/]+)')}$`);
      const m = re.exec(path);
      return m ? m.slice(1).map(decodeURIComponent) : undefined;
    };
    const at = (verb: string | undefined, pattern: string): string[] | undefined =>
      verb === undefined || verb === method ? route(pattern) : undefined;
    const b = (body ?? {}) as Record<string, unknown>;

    if (method === 'GET' && path === '/gateway/bot') {
      return send(res, 200, {
        url: `ws://127.0.0.1:${this.port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
      });
    }
    const callback = at('POST', '/interactions/:id/:token/callback');
    if (callback) {
      const [, token] = callback as [string, string];
      if (!this.interactions.has(token))
        return send(res, 404, { message: 'Unknown interaction', code: 10062 });
      if (this.interactions.get(token)?.answered) {
        return send(res, 400, {
          message: 'Interaction has already been acknowledged.',
          code: 40060,
        });
      }
      this.answer(token, b as { type: number; data?: Record<string, unknown> });
      res.writeHead(204).end();
      return;
    }
    const webhookMessage = at(undefined, '/webhooks/:app/:token/messages/:mid');
    if (webhookMessage) {
      const [, token, mid] = webhookMessage as [string, string, string];
      const interaction = await this.answeredInteraction(token);
      if (!interaction) return send(res, 404, { message: 'Unknown Webhook', code: 10015 });
      const id = mid === '@original' ? interaction.original : mid;
      const message = id ? this.messages.get(id) : undefined;
      if (!message) return send(res, 404, { message: 'Unknown Message', code: 10008 });
      if (method === 'DELETE') {
        message.deleted = true;
        res.writeHead(204).end();
        return;
      }
      if (method === 'PATCH') {
        this.edit(message, b, files);
        return send(res, 200, this.messageJson(message));
      }
    }
    const followUp = at('POST', '/webhooks/:app/:token');
    if (followUp) {
      const [, token] = followUp as [string, string];
      const interaction = await this.answeredInteraction(token);
      if (!interaction) return send(res, 404, { message: 'Unknown Webhook', code: 10015 });
      const message = this.create(interaction.channelId, b, files, {
        interactionToken: token,
        ...(((b.flags as number) ?? 0) & 64 ? { privateTo: interaction.userId } : {}),
      });
      return send(res, 200, this.messageJson(message));
    }
    const threads = at('POST', '/channels/:cid/messages/:mid/threads');
    if (threads) {
      const [cid, mid] = threads as [string, string];
      const thread = { id: snowflake(), parentId: cid, messageId: mid, name: String(b.name ?? '') };
      this.threads.push(thread);
      return send(res, 201, {
        id: thread.id,
        type: 11,
        parent_id: cid,
        name: thread.name,
        guild_id: this.guildId,
      });
    }
    const channelPost = at('POST', '/channels/:cid/messages');
    if (channelPost) {
      const [cid] = channelPost as [string];
      return send(res, 200, this.messageJson(this.create(cid, b, files, {})));
    }
    const channelEdit = at('PATCH', '/channels/:cid/messages/:mid');
    if (channelEdit) {
      const [, mid] = channelEdit as [string, string];
      const message = this.messages.get(mid);
      if (!message) return send(res, 404, { message: 'Unknown Message', code: 10008 });
      this.edit(message, b, files);
      return send(res, 200, this.messageJson(message));
    }
    const guildCommands = at('PUT', '/applications/:app/guilds/:guild/commands');
    if (guildCommands) {
      this.registered.set((guildCommands as [string, string])[1], body);
      return send(res, 200, withIds(body));
    }
    if (at('PUT', '/applications/:app/commands')) {
      this.registered.set('global', body);
      return send(res, 200, withIds(body));
    }
    send(res, 404, { message: `no route ${method} ${path}`, code: 0 });
  }

  /**
   * The interaction of a webhook call, once it has its first answer: Discord refuses edits and
   * follow-ups before (Unknown Webhook). An HTTP answer reaches the fake through the test that
   * delivered the interaction, so a call that overtakes it waits for it a little.
   */
  private async answeredInteraction(token: string): Promise<SentInteraction | undefined> {
    for (let i = 0; i < 40; i++) {
      const interaction = this.interactions.get(token);
      if (!interaction) return undefined;
      if (interaction.answered) return interaction;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  }

  /** The first answer to an interaction (a callback call or an HTTP response). */
  private answer(token: string, answer: { type: number; data?: Record<string, unknown> }): void {
    const interaction = this.interactions.get(token);
    if (!interaction) return;
    interaction.answered = true;
    const data = answer.data ?? {};
    if (answer.type === 4 || answer.type === 5) {
      const flags = (data.flags as number | undefined) ?? 0;
      const message = this.create(
        interaction.channelId,
        answer.type === 4 ? data : { content: '' },
        [],
        {
          interactionToken: token,
          pending: answer.type === 5,
          ...(flags & 64 ? { privateTo: interaction.userId } : {}),
        },
      );
      interaction.original = message.id;
    }
    if (answer.type === 7 && interaction.messageId) {
      const message = this.messages.get(interaction.messageId);
      if (message) this.edit(message, data, []);
    }
  }

  private create(
    channelId: string,
    body: Record<string, unknown>,
    files: RecordedCall['files'],
    extra: Partial<Pick<FakeMessage, 'privateTo' | 'interactionToken' | 'pending'>>,
  ): FakeMessage {
    const message: FakeMessage = {
      id: snowflake(),
      channelId,
      content: String(body.content ?? ''),
      embeds: (body.embeds as Record<string, unknown>[] | undefined) ?? [],
      components: (body.components as FakeMessage['components'] | undefined) ?? [],
      flags: (body.flags as number | undefined) ?? 0,
      attachments: files.map((f) => ({ filename: f.name, size: f.size })),
      allowedMentions: body.allowed_mentions,
      pending: false,
      deleted: false,
      edits: 0,
      ...extra,
    };
    this.messages.set(message.id, message);
    return message;
  }

  private edit(
    message: FakeMessage,
    body: Record<string, unknown>,
    files: RecordedCall['files'],
  ): void {
    if ('content' in body) message.content = String(body.content ?? '');
    if ('embeds' in body) message.embeds = (body.embeds as Record<string, unknown>[]) ?? [];
    if ('components' in body)
      message.components = (body.components as FakeMessage['components']) ?? [];
    if ('allowed_mentions' in body) message.allowedMentions = body.allowed_mentions;
    if (files.length) message.attachments = files.map((f) => ({ filename: f.name, size: f.size }));
    message.pending = false;
    message.edits++;
  }

  /** A message as Discord returns it (and as discord.js builds it from an interaction). */
  messageJson(message: FakeMessage): Record<string, unknown> {
    return {
      id: message.id,
      type: 0,
      channel_id: message.channelId,
      author: {
        id: this.botUserId,
        username: 'lifeboat',
        discriminator: '0',
        bot: true,
        avatar: null,
        global_name: null,
      },
      content: message.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: message.attachments.map((a) => ({
        id: snowflake(),
        filename: a.filename,
        size: a.size,
        url: 'http://x/',
        proxy_url: 'http://x/',
      })),
      embeds: message.embeds,
      components: message.components,
      pinned: false,
      flags: message.flags,
      application_id: this.applicationId,
    };
  }

  // ---- gateway -----------------------------------------------------------------------------

  private onSocket(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.identified === socket) this.identified = undefined;
    });
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 } }));
    socket.on('message', (data) => {
      const packet = JSON.parse(String(data)) as { op: number; d: unknown };
      if (packet.op === 1) socket.send(JSON.stringify({ op: 11 }));
      if (packet.op === 2) {
        this.identified = socket;
        socket.send(
          JSON.stringify({
            op: 0,
            t: 'READY',
            s: ++this.sequence,
            d: {
              v: 10,
              user: {
                id: this.botUserId,
                username: 'lifeboat',
                discriminator: '0',
                bot: true,
                avatar: null,
                global_name: null,
                flags: 0,
              },
              guilds: [],
              session_id: randomBytes(8).toString('hex'),
              resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
              application: { id: this.applicationId, flags: 0 },
              shard: [0, 1],
            },
          }),
        );
        for (const resolve of this.readyWaiters.splice(0)) resolve();
      }
    });
  }
}

interface Opt {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: Opt[];
  focused?: boolean;
}

/**
 * The `data` of a slash command interaction for `text` as a person would fill in Discord's
 * form: the command's words as command and subcommand, each positional and flag as an option
 * (booleans true, integers as numbers). A command the grammar does not know gets no options.
 */
export function interactionData(
  text: string,
  commands: readonly CommandSpec[],
): { name: string; options: Opt[] } {
  const tokens = tokenize(text.trim().replace(/^\//, ''));
  if (!tokens.ok) throw new Error(tokens.error);
  const words = tokens.tokens.map((t) => t.text);
  const spec = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((w, i) => words[i] === w));
  if (!spec) return { name: words[0] ?? '', options: [] };
  const names = optionNames(spec);
  const options: Opt[] = [];
  const rest = tokens.tokens.slice(spec.path.length);
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] as { text: string; quoted: boolean };
    const flagMatch = !token.quoted ? /^--([a-z0-9-]+)(?:=(.*))?$/.exec(token.text) : null;
    const f = flagMatch ? spec.flags.findIndex((x) => x.name === flagMatch[1]) : -1;
    const flag = spec.flags[f];
    if (!flagMatch || !flag) {
      positionals.push(token.text);
      continue;
    }
    const name = names.flags[f] as string;
    if (flag.kind === 'boolean') {
      options.push({ name, type: OptionType.Boolean, value: true });
      continue;
    }
    const value = flagMatch[2] ?? rest[++i]?.text ?? '';
    options.push(
      flag.kind === 'int'
        ? { name, type: OptionType.Integer, value: Number(value) }
        : { name, type: OptionType.String, value },
    );
  }
  spec.positionals.forEach((p, i) => {
    const name = names.positionals[i] as string;
    if (p.arity === 'one') {
      const value = positionals.shift();
      if (value !== undefined) options.unshift({ name, type: OptionType.String, value });
    } else if (positionals.length) {
      options.unshift({ name, type: OptionType.String, value: positionals.splice(0).join(' ') });
    }
  });
  if (spec.path.length === 1) return { name: spec.path[0] as string, options };
  return {
    name: spec.path[0] as string,
    options: [{ name: spec.path[1] as string, type: OptionType.Subcommand, options }],
  };
}

/** What a person sees of `messages`, as plain text (markdown escapes removed), oldest first. */
export function screenText(messages: readonly FakeMessage[]): string {
  const lines: string[] = [];
  for (const message of messages) {
    if (message.content) lines.push(message.content);
    for (const embed of message.embeds) {
      if (embed.title) lines.push(String(embed.title));
      if (embed.description) lines.push(String(embed.description));
      for (const field of (embed.fields as { name: string; value: string }[] | undefined) ?? []) {
        lines.push(`${field.name}: ${field.value}`);
      }
    }
    for (const file of message.attachments) lines.push(`📎 ${file.filename}`);
    for (const row of message.components) {
      lines.push((row.components ?? []).map((c) => `[${c.label}]`).join(' '));
    }
    lines.push('');
  }
  return lines.join('\n').replace(/\\([^A-Za-z0-9\s])/g, '$1');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function withIds(body: unknown): unknown {
  return Array.isArray(body) ? body.map((c) => ({ id: snowflake(), ...(c as object) })) : body;
}

async function readRequest(
  req: IncomingMessage,
): Promise<{ body: unknown; files: RecordedCall['files'] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
    const files: { field: string; name: string; size: number; contentType: string }[] = [];
    let body: unknown;
    for (const [field, value] of form) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = JSON.parse(value);
      } else {
        files.push({ field, name: value.name, size: value.size, contentType: value.type });
      }
    }
    return { body, files };
  }
  return { body: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
}
