import type { RequestListener } from 'node:http';
import { App, type RespondFn, type types } from '@slack/bolt';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../logging/logger.ts';
import { createAcknowledgement } from '../acknowledgement.ts';
import type {
  ChannelRef,
  ChatAdapter,
  InboundEvent,
  InboundHandler,
  MessageRef,
} from '../chat-adapter.ts';
import type { DeliveryLedger } from '../delivery-ledger.ts';
import { SLACK_LIMITS } from '../limits.ts';
import { type Attachment, type ChatMessage, calloutMessage } from '../message.ts';
import { auditRefusedRequest } from '../refused-request.ts';
import { type ReplyChannel, replyChannel } from '../reply-channel.ts';
import { boltLogger } from './bolt-logger.ts';
import { withRateLimit } from './rate-limit.ts';
import { renderSlackMessage, type SlackMessage } from './render-blocks.ts';
import type { SlackConfig } from './slack-config.ts';
import { type Admission, RECEIVED_AT, SlackHttpReceiver } from './slack-http-receiver.ts';
import { readSlackPayload, type SlackInbound, type SlackRefusal } from './slack-inbound.ts';
import { UpdateQueue } from './update-queue.ts';

/** How long `stop()` waits for queued updates to reach Slack. */
const STOP_FLUSH_MS = 30_000;

/** Slack reports a command or click not acknowledged within this long as failed. */
const SLACK_WINDOW_MS = 3_000;

/** A delivery with less than this left of Slack's window is not run: its answer would be late. */
const LATE_MARGIN_MS = 200;

/** The path Slack posts slash commands and interactions to in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackAdapterOptions extends SlackConfig {
  /** Deliveries already taken, shared by every bot process. */
  readonly ledger: DeliveryLedger;
  /** Where refused requests that name a user are recorded. */
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The grammar's first words (`backup`, `restore`, …): the slash commands handled. */
  readonly commandWords: readonly string[];
  /** Least time between two `chat.update` calls for one message. @defaultValue 1000 */
  readonly updateIntervalMs?: number;
  /** @defaultValue `SLACK_LIMITS.ackDeadlineMs` */
  readonly ackDeadlineMs?: number;
  /**
   * Slack's window to acknowledge a request in HTTP mode: the receiver answers 404 after it,
   * and a delivery that reaches its listener with less than `LATE_MARGIN_MS` of it left is not
   * run. @defaultValue 3000
   */
  readonly windowMs?: number;
  /**
   * Web API retries on network errors and 5xx (429 is handled here, with `Retry-After`).
   * @defaultValue the Web API client's own policy
   */
  readonly webApiRetries?: number;
  /** The bot's ids; when given, Bolt skips `auth.test`. */
  readonly botId?: string;
  readonly botUserId?: string;
}

type Blocks = (types.KnownBlock | types.Block)[];

/** Bolt's `ack`, whatever the event: empty, or with an ephemeral message (slash commands). */
type Ack = (response?: Readonly<Record<string, unknown>>) => Promise<void>;

/** The renderer's blocks in the Web API client's types (they are Block Kit already). */
function blocksOf(rendered: SlackMessage): Blocks {
  return rendered.blocks as unknown as Blocks;
}

/**
 * Slack through Bolt: slash commands and button clicks in, Block Kit messages out. HTTP mode
 * serves `/slack/events` on the bot's HTTP server (`routes`); Socket Mode (an app token) needs
 * no public URL. Identities are `slack:U…` from the signed payload; a delivery Slack retries,
 * or one two replicas both receive, runs once (the delivery ledger).
 */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly limits = SLACK_LIMITS;
  /** `/slack/events` in HTTP mode; empty in Socket Mode. */
  readonly routes: ReadonlyMap<string, RequestListener>;

  readonly #options: SlackAdapterOptions;
  readonly #app: App;
  readonly #updates: UpdateQueue;
  readonly #words: ReadonlySet<string>;
  #handler: InboundHandler | undefined;
  #stopped = false;

  constructor(options: SlackAdapterOptions) {
    this.#options = options;
    this.#words = new Set(options.commandWords);
    const logger = boltLogger(options.logger);
    const clientOptions = {
      rejectRateLimitedCalls: true,
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      ...(options.webApiRetries !== undefined
        ? { retryConfig: { retries: options.webApiRetries } }
        : {}),
    };
    const ids = {
      ...(options.botId ? { botId: options.botId } : {}),
      ...(options.botUserId ? { botUserId: options.botUserId } : {}),
    };
    if (options.appToken) {
      this.#app = new App({
        token: options.botToken,
        appToken: options.appToken,
        socketMode: true,
        logger,
        clientOptions,
        ...ids,
      });
      // Bolt's socket receiver hands envelopes straight to the app: refuse and skip here.
      this.#app.use(async (args) => {
        const ack = (args as { ack?: Ack }).ack;
        const admission = await this.#admit(args.body as Record<string, unknown>);
        if (!admission.dispatch) {
          await ack?.();
          return;
        }
        await args.next();
      });
      this.routes = new Map();
    } else if (options.signingSecret) {
      const receiver = new SlackHttpReceiver({
        signingSecret: options.signingSecret,
        unhandledMs: options.windowMs ?? SLACK_WINDOW_MS,
        admit: (body) => this.#admit(body),
        failed: (error) => options.logger.error({ err: error }, 'slack: a request failed'),
        refused: (reason, status, claimed) => {
          const reading = readSlackPayload(claimed);
          const named = reading.ok ? refusalOf(reading.inbound, reason) : { ...reading, reason };
          this.#refused(named, status);
        },
      });
      this.#app = new App({ token: options.botToken, receiver, logger, clientOptions, ...ids });
      this.routes = new Map([[SLACK_EVENTS_PATH, receiver.requestListener]]);
    } else {
      throw new Error('SlackAdapter needs a signing secret (HTTP mode) or an app token');
    }
    this.#app.error(async (error) => {
      options.logger.error({ err: error }, 'slack: a listener failed');
    });
    this.#updates = new UpdateQueue({
      intervalMs: options.updateIntervalMs ?? 1000,
      send: (ref, message) => this.#sendUpdate(ref, message),
      onError: (error, ref) =>
        options.logger.warn({ err: error, message: ref.messageId }, 'slack: update not sent'),
    });
    this.#listen();
  }

  async start(handler: InboundHandler): Promise<void> {
    this.#handler = handler;
    this.#stopped = false;
    await this.#app.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#handler = undefined;
    // The final versions go out first, unless Slack keeps refusing them for too long.
    await Promise.race([
      this.#updates.flush(),
      new Promise((resolve) => setTimeout(resolve, STOP_FLUSH_MS).unref()),
    ]);
    await this.#app.stop();
  }

  async post(to: ChannelRef, message: ChatMessage): Promise<MessageRef> {
    const rendered = renderSlackMessage(message);
    const result = await withRateLimit(() =>
      this.#app.client.chat.postMessage({
        channel: to.channel,
        text: rendered.text,
        blocks: blocksOf(rendered),
        ...(to.thread ? { thread_ts: to.thread } : {}),
      }),
    );
    if (!result.ts) throw new Error('Slack did not say which message it posted (no ts)');
    const channel = result.channel ?? to.channel;
    if (message.attachments?.length) await this.#upload(to, message.attachments);
    return { channel, ...(to.thread ? { thread: to.thread } : {}), messageId: result.ts };
  }

  /** Queues the newest version; sent coalesced and throttled (see `UpdateQueue`). */
  async update(ref: MessageRef, message: ChatMessage): Promise<void> {
    this.#updates.update(ref, message);
  }

  /** Slack threads hang off a message's ts and have no name. */
  async startThread(parent: MessageRef, _title: string): Promise<ChannelRef> {
    return { channel: parent.channel, thread: parent.thread ?? parent.messageId };
  }

  replyTo(event: InboundEvent): ReplyChannel {
    return replyChannel(this, event);
  }

  async #sendUpdate(ref: MessageRef, message: ChatMessage): Promise<void> {
    const rendered = renderSlackMessage(message);
    await this.#app.client.chat.update({
      channel: ref.channel,
      ts: ref.messageId,
      text: rendered.text,
      blocks: blocksOf(rendered),
    });
  }

  async #upload(to: ChannelRef, attachments: readonly Attachment[]): Promise<void> {
    await withRateLimit(() =>
      this.#app.client.files.uploadV2({
        channel_id: to.channel,
        ...(to.thread ? { thread_ts: to.thread } : {}),
        file_uploads: attachments.map((a) => ({
          file: Buffer.from(a.data),
          filename: a.filename,
          title: a.title ?? a.filename,
        })),
      }),
    );
  }

  /** Decides on a delivery before anything runs: refused, already taken, or dispatched. */
  async #admit(body: Record<string, unknown>): Promise<Admission> {
    if (this.#stopped || !this.#handler) {
      return { dispatch: false, status: 503, reason: 'Lifeboat is not taking Slack requests now' };
    }
    const reading = readSlackPayload(body);
    if (!reading.ok) {
      this.#refused(reading, 400);
      return { dispatch: false, status: 400, reason: reading.reason };
    }
    const { inbound } = reading;
    const team = this.#options.teamId;
    if (team && inbound.teamId !== team) {
      const reason = 'the request comes from another Slack workspace than SLACK_TEAM_ID';
      this.#refused(refusalOf(inbound, reason), 401);
      return { dispatch: false, status: 401, reason };
    }
    if (!(await this.#options.ledger.claim(inbound.deliveryKey))) {
      const reason = 'the delivery was taken before (a retry or a replay)';
      this.#refused(refusalOf(inbound, reason), 200);
      return { dispatch: false, status: 200, reason };
    }
    return { dispatch: true };
  }

  /** Logs a refused request, and audits it when it names a user. */
  #refused(refusal: SlackRefusal, status: number): void {
    const { logger, audit } = this.#options;
    logger.warn(
      { status, reason: refusal.reason, user: refusal.userId, team: refusal.teamId },
      'slack: request refused',
    );
    if (!refusal.userId) return;
    void auditRefusedRequest(
      audit,
      {
        platform: 'slack',
        userId: refusal.userId,
        channel: refusal.channel ?? null,
        command: refusal.text ?? null,
        detail: {
          reason: refusal.reason,
          status,
          ...(refusal.teamId ? { team: refusal.teamId } : {}),
        },
      },
      logger,
    );
  }

  #listen(): void {
    this.#app.command(/.*/, async ({ body, ack, respond, context }) => {
      const reading = readSlackPayload(body as unknown as Record<string, unknown>);
      if (!reading.ok) {
        await ack({ response_type: 'ephemeral', text: reading.reason });
        return;
      }
      const word = body.command.replace(/^\//, '');
      if (!this.#words.has(word)) {
        const known = [...this.#words].map((w) => `/${w}`).join(', ');
        await ack({
          response_type: 'ephemeral',
          text: `/${word} is not a Lifeboat command; the commands are ${known}.`,
        });
        return;
      }
      this.#deliver(reading.inbound, ack as Ack, respond, receivedAtOf(context));
    });
    this.#app.action(/.*/, async ({ body, ack, respond, context }) => {
      const reading = readSlackPayload(body as unknown as Record<string, unknown>);
      if (!reading.ok) {
        await ack();
        return;
      }
      this.#deliver(reading.inbound, ack as Ack, respond, receivedAtOf(context));
    });
  }

  /**
   * Hands one delivery to the handler, acknowledging it by the deadline whatever happens. One
   * that arrives with Slack's window (nearly) gone is not run — Slack has told its sender it
   * failed — and the sender is told privately that nothing ran.
   */
  #deliver(
    inbound: SlackInbound,
    ack: Ack,
    respond: RespondFn | undefined,
    receivedAt: number | undefined,
  ): void {
    const handler = this.#handler;
    if (!handler) return;
    const { logger } = this.#options;
    const windowMs = this.#options.windowMs ?? SLACK_WINDOW_MS;
    const left = receivedAt === undefined ? windowMs : receivedAt + windowMs - Date.now();
    if (left < LATE_MARGIN_MS) {
      this.#tooLate(inbound, respond, windowMs - left);
      return;
    }
    const ackDeadlineMs = Math.min(
      this.#options.ackDeadlineMs ?? SLACK_LIMITS.ackDeadlineMs,
      Math.max(0, left - LATE_MARGIN_MS),
    );
    const acknowledgement = createAcknowledgement(
      {
        accept: () => ack(),
        replyPrivately: async (message, first) => {
          const rendered = renderSlackMessage(message);
          if (first && inbound.kind === 'command') {
            await ack({ response_type: 'ephemeral', text: rendered.text, blocks: rendered.blocks });
            return;
          }
          if (first) await ack();
          await this.#replyPrivately(inbound, rendered, respond);
        },
        onDeadline: () =>
          logger.info({ kind: inbound.kind }, 'slack: acknowledged at the deadline'),
        onError: (error) => logger.warn({ err: error }, 'slack: acknowledgement failed'),
      },
      { deadlineMs: ackDeadlineMs },
    );
    const identity = { platform: 'slack' as const, id: inbound.userId };
    const event: InboundEvent =
      inbound.kind === 'command'
        ? {
            kind: 'command',
            identity,
            channel: inbound.channel,
            text: inbound.text,
            ack: acknowledgement,
          }
        : {
            kind: 'action',
            identity,
            channel: inbound.channel,
            actionId: inbound.actionId,
            ...(inbound.value !== undefined ? { value: inbound.value } : {}),
            ...(inbound.message ? { message: inbound.message } : {}),
            ack: acknowledgement,
          };
    // Not awaited: the handler resolves when the command's work is done (a whole backup).
    void (async () => {
      try {
        await handler(event);
      } catch (error) {
        logger.error({ err: error }, 'slack: the handler failed');
      } finally {
        acknowledgement.dispose();
        // The handler is done; nothing else will answer Slack.
        if (!acknowledgement.acknowledged) {
          await acknowledgement.accept().catch((error: unknown) => {
            logger.warn({ err: error }, 'slack: acknowledgement failed');
          });
        }
      }
    })();
  }

  /** Tells the sender of a delivery that came too late that it did not run. Never throws. */
  #tooLate(inbound: SlackInbound, respond: RespondFn | undefined, elapsedMs: number): void {
    const { logger } = this.#options;
    logger.warn(
      { kind: inbound.kind, user: inbound.userId, elapsedMs: Math.round(elapsedMs) },
      'slack: a request reached its listener after Slack’s 3-second window; not run',
    );
    const what = inbound.kind === 'command' ? `\`${inbound.text}\`` : 'your click';
    const text = `Lifeboat could not take ${what} within Slack's 3-second window (it was busy or could not reach Slack), so it did not run it and nothing changed. Send it again.`;
    this.#replyPrivately(
      inbound,
      renderSlackMessage(calloutMessage('warning', text)),
      respond,
    ).catch((error: unknown) =>
      logger.warn({ err: error }, 'slack: could not say a request came too late'),
    );
  }

  /** A private follow-up: through the response URL, else `chat.postEphemeral`. */
  async #replyPrivately(
    inbound: SlackInbound,
    rendered: SlackMessage,
    respond: RespondFn | undefined,
  ): Promise<void> {
    if (respond) {
      try {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: rendered.text,
          blocks: blocksOf(rendered),
        });
        return;
      } catch (error) {
        this.#options.logger.info({ err: error }, 'slack: response URL failed; posting ephemeral');
      }
    }
    await withRateLimit(() =>
      this.#app.client.chat.postEphemeral({
        channel: inbound.channel.channel,
        user: inbound.userId,
        text: rendered.text,
        blocks: blocksOf(rendered),
        ...(inbound.channel.thread ? { thread_ts: inbound.channel.thread } : {}),
      }),
    );
  }
}

/** When the HTTP receiver took the request; undefined in Socket Mode. */
function receivedAtOf(context: Readonly<Record<string, unknown>>): number | undefined {
  const at = context[RECEIVED_AT];
  return typeof at === 'number' ? at : undefined;
}

function refusalOf(inbound: SlackInbound, reason: string): SlackRefusal {
  return {
    reason,
    userId: inbound.userId,
    channel: inbound.channel.channel,
    ...(inbound.teamId ? { teamId: inbound.teamId } : {}),
    ...(inbound.kind === 'command' ? { text: inbound.text } : {}),
  };
}
