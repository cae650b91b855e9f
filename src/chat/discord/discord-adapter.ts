import type { RawFile, REST } from 'discord.js';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { CommandSpec, SuggestionKind } from '../../core/command-grammar.ts';
import type { Logger } from '../../logging/logger.ts';
import { type AdapterAcknowledgement, createAcknowledgement } from '../acknowledgement.ts';
import type {
  ChannelRef,
  ChatAdapter,
  InboundEvent,
  InboundHandler,
  MessageRef,
} from '../chat-adapter.ts';
import type { DeliveryLedger } from '../delivery-ledger.ts';
import { DISCORD_LIMITS } from '../limits.ts';
import type { ButtonConfirm, ChatMessage } from '../message.ts';
import { auditRefusedRequest } from '../refused-request.ts';
import type { ReplyChannel } from '../reply-channel.ts';
import { unpackCustomId } from './custom-id.ts';
import {
  CallbackType,
  type Interaction,
  type InteractionCallback,
  InteractionType,
  interactionSchema,
} from './interaction.ts';
import {
  type DiscordMessageBody,
  EPHEMERAL,
  type RenderedDiscordMessage,
  renderConfirmation,
  renderDiscordMessage,
} from './render-discord.ts';
import { loggableError } from './safe-error.ts';
import { commandText, focusedOption } from './slash-commands.ts';
import { UpdateCoalescer } from './update-coalescer.ts';

/** How long Discord lets an interaction's token edit and follow up. */
export const INTERACTION_TOKEN_MS = 15 * 60 * 1000;
/** Answers switch to the bot token this long before the interaction token expires. */
const TOKEN_MARGIN_MS = 60 * 1000;
const MAX_CHOICES = 25;
const MAX_REMEMBERED = 2_000;

/** How interactions reach the adapter: the HTTP endpoint, or the gateway connection. */
export interface InteractionReceiver {
  /** Starts taking interactions; each goes to `deliver`. */
  start(deliver: InteractionDelivery): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Hands one interaction to the adapter. `respond` sends the first answer (the HTTP response, or
 * the callback endpoint on the gateway); it is called at most once.
 */
export type InteractionDelivery = (
  raw: unknown,
  respond: (callback: InteractionCallback) => Promise<void>,
) => Promise<DeliveryOutcome>;

/** What became of a delivered interaction: taken, or refused and why (nothing ran). */
export type DeliveryOutcome =
  | { readonly taken: true }
  | {
      readonly taken: false;
      readonly reason: 'malformed' | 'no_user' | 'replayed' | 'unsupported' | 'stopped';
    };

/** Suggestions for a value being typed (autocomplete), matching its prefix. */
export type Suggest = (kind: SuggestionKind, typed: string) => Promise<readonly string[]>;

export interface DiscordAdapterOptions {
  /** REST client with the bot token (discord.js's own in gateway mode). */
  readonly rest: REST;
  readonly receiver: InteractionReceiver;
  /** The grammar, to turn slash command options back into the command as typed. */
  readonly commands: readonly CommandSpec[];
  /** Interactions already taken (shared by replicas): one delivered twice runs once. */
  readonly ledger: DeliveryLedger;
  readonly logger: Logger;
  /** Where refused interactions that name a user are recorded. */
  readonly audit?: AuditLog;
  readonly suggest?: Suggest;
  /** @defaultValue `DISCORD_LIMITS.ackDeadlineMs` */
  readonly ackDeadlineMs?: number;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** One interaction's token and what its first answer was. */
interface InteractionSession {
  readonly applicationId: string;
  readonly token: string;
  readonly expiresAt: number;
  readonly isCommand: boolean;
  /** A click on a confirmation's button: accepting it closes the confirmation. */
  readonly confirmed: boolean;
  /** The deferred reply ("thinking…") that the first post replaces. */
  deferred: boolean;
  /** Set once the event's acknowledgement exists: answers wait for it. */
  ack?: AdapterAcknowledgement;
  originalUsed: boolean;
}

/** A message posted through an interaction token: edited through it while the token lives. */
interface WebhookMessage {
  readonly applicationId: string;
  readonly token: string;
  readonly expiresAt: number;
}

const MESSAGE_URL = /\/channels\/(?:\d+|@me)\/(\d+)\/(\d+)$/;

/**
 * Discord, through discord.js's REST client: interactions (slash commands, button clicks,
 * autocomplete) in, neutral events out; neutral messages rendered as embeds and buttons.
 * Answers within the interaction token's 15 minutes go through the interaction; after that,
 * and for messages not tied to one, through the bot token.
 */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  readonly limits = DISCORD_LIMITS;
  private readonly options: DiscordAdapterOptions;
  private readonly now: () => number;
  private handler: InboundHandler | undefined;
  private readonly sessions = new WeakMap<InboundEvent, InteractionSession>();
  private readonly webhookMessages = new Map<string, WebhookMessage>();
  private readonly confirms = new Map<string, ButtonConfirm>();
  private readonly updates = new UpdateCoalescer();
  private readonly running = new Set<Promise<void>>();

  constructor(options: DiscordAdapterOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async start(handler: InboundHandler): Promise<void> {
    this.handler = handler;
    await this.options.receiver.start((raw, respond) => this.deliver(raw, respond));
  }

  async stop(): Promise<void> {
    this.handler = undefined;
    await this.options.receiver.stop();
    await Promise.allSettled([...this.running]);
  }

  async post(to: ChannelRef, message: ChatMessage): Promise<MessageRef> {
    const rendered = this.render(message);
    const posted = (await this.options.rest.post(`/channels/${target(to)}/messages`, {
      body: rendered.body,
      files: rawFiles(rendered),
    })) as { id: string };
    return { ...to, messageId: posted.id };
  }

  update(ref: MessageRef, message: ChatMessage): Promise<void> {
    return this.updates.run(ref.messageId, async () => {
      const rendered = this.render(message);
      const webhook = this.webhookMessages.get(ref.messageId);
      const files = rawFiles(rendered);
      if (webhook && webhook.expiresAt > this.now()) {
        await this.options.rest.patch(
          `/webhooks/${webhook.applicationId}/${webhook.token}/messages/${ref.messageId}`,
          { body: rendered.body, files, auth: false },
        );
        return;
      }
      await this.options.rest.patch(`/channels/${target(ref)}/messages/${ref.messageId}`, {
        body: rendered.body,
        files,
      });
    });
  }

  async startThread(parent: MessageRef, title: string): Promise<ChannelRef> {
    const thread = (await this.options.rest.post(
      `/channels/${target(parent)}/messages/${parent.messageId}/threads`,
      { body: { name: title.slice(0, 100) || 'thread', auto_archive_duration: 1440 } },
    )) as { id: string };
    return { channel: parent.channel, thread: thread.id };
  }

  replyTo(event: InboundEvent): ReplyChannel {
    const session = this.sessions.get(event);
    return {
      post: (message) => this.answer(event.channel, session, message),
      update: (ref, message) => this.update(ref, message),
      postPrivately: (message) => event.ack.replyPrivately(message),
      postTo: (other, message) => this.post(other, message),
      startThread: (parent, title) => this.startThread(parent, title),
    };
  }

  /** Posts an answer to an interaction: through its token while it lives, else as the bot. */
  private async answer(
    channel: ChannelRef,
    session: InteractionSession | undefined,
    message: ChatMessage,
  ): Promise<MessageRef> {
    if (!session || session.expiresAt <= this.now()) return this.post(channel, message);
    // Discord takes edits and follow-ups only once the interaction has its first answer.
    await session.ack?.accept().catch(() => undefined);
    const rendered = this.render(message);
    const files = rawFiles(rendered);
    const { applicationId, token } = session;
    let posted: { id: string };
    if (session.isCommand && session.deferred && !session.originalUsed) {
      session.originalUsed = true;
      posted = (await this.options.rest.patch(
        `/webhooks/${applicationId}/${token}/messages/@original`,
        { body: rendered.body, files, auth: false },
      )) as { id: string };
    } else {
      posted = (await this.options.rest.post(`/webhooks/${applicationId}/${token}`, {
        body: rendered.body,
        files,
        auth: false,
      })) as { id: string };
    }
    this.remember(posted.id, { applicationId, token, expiresAt: session.expiresAt });
    return { ...channel, messageId: posted.id };
  }

  private remember(messageId: string, webhook: WebhookMessage): void {
    const now = this.now();
    if (this.webhookMessages.size >= MAX_REMEMBERED) {
      for (const [id, w] of this.webhookMessages)
        if (w.expiresAt <= now) this.webhookMessages.delete(id);
    }
    this.webhookMessages.set(messageId, webhook);
  }

  private render(message: ChatMessage): RenderedDiscordMessage {
    const rendered = renderDiscordMessage(message);
    for (const [customId, confirm] of rendered.confirms) {
      if (this.confirms.size >= MAX_REMEMBERED) this.confirms.clear();
      this.confirms.set(customId, confirm);
    }
    return rendered;
  }

  /** One interaction from the receiver: checked, claimed once, then translated. */
  private async deliver(
    raw: unknown,
    respond: (callback: InteractionCallback) => Promise<void>,
  ): Promise<DeliveryOutcome> {
    const parsed = interactionSchema.safeParse(raw);
    if (!parsed.success) return { taken: false, reason: 'malformed' };
    const interaction = parsed.data;
    if (interaction.type === InteractionType.Ping) {
      await respond({ type: CallbackType.Pong });
      return { taken: true };
    }
    const userId = interaction.member?.user.id ?? interaction.user?.id;
    if (!userId) return { taken: false, reason: 'no_user' };
    const handler = this.handler;
    if (!handler) return { taken: false, reason: 'stopped' };
    if (interaction.type === InteractionType.Autocomplete) {
      // Suggestions run nothing: no claim needed, and Discord asks again as the user types.
      await respond({
        type: CallbackType.AutocompleteResult,
        data: { choices: await this.choices(interaction) },
      });
      return { taken: true };
    }
    if (
      interaction.type !== InteractionType.ApplicationCommand &&
      interaction.type !== InteractionType.MessageComponent
    ) {
      return this.refuse(interaction, userId, 'unsupported');
    }
    if (!(await this.options.ledger.claim(`discord:interaction:${interaction.id}`))) {
      return this.refuse(interaction, userId, 'replayed');
    }
    const channel = channelOf(interaction);
    if (!channel) return this.refuse(interaction, userId, 'malformed');
    const identity = { platform: 'discord' as const, id: userId };
    // What the interaction asks for is settled before anything answers it: a refused one
    // gets its 400 and nothing else.
    let text: string | undefined;
    let action: { readonly actionId: string; readonly value?: string } | undefined;
    if (interaction.type === InteractionType.ApplicationCommand) {
      if (!interaction.data?.name) return this.refuse(interaction, userId, 'malformed');
      const data = { name: interaction.data.name, options: interaction.data.options ?? [] };
      text = commandText(data, this.options.commands);
    } else {
      const intent = unpackCustomId(interaction.data?.custom_id ?? '');
      if (!intent) return this.refuse(interaction, userId, 'malformed');
      if (intent.kind === 'cancel') {
        await respond({
          type: CallbackType.UpdateMessage,
          data: { content: 'Cancelled: nothing was done.', embeds: [], components: [] },
        });
        return { taken: true };
      }
      if (intent.kind === 'ask') {
        await respond({
          type: CallbackType.ChannelMessage,
          data: this.confirmation(interaction, intent),
        });
        return { taken: true };
      }
      action = intent;
    }

    const session: InteractionSession = {
      applicationId: interaction.application_id,
      token: interaction.token,
      expiresAt: this.now() + INTERACTION_TOKEN_MS - TOKEN_MARGIN_MS,
      isCommand: interaction.type === InteractionType.ApplicationCommand,
      confirmed: isConfirmation(interaction),
      deferred: false,
      originalUsed: false,
    };
    const ack = this.acknowledgement(session, respond);
    session.ack = ack;
    let event: InboundEvent;
    if (text !== undefined || !action) {
      event = { kind: 'command', identity, channel, text: text ?? '', ack };
    } else {
      const message = messageOf(interaction, channel);
      event = {
        kind: 'action',
        identity,
        channel,
        actionId: action.actionId,
        ...(action.value !== undefined ? { value: action.value } : {}),
        ...(message ? { message } : {}),
        ack,
      };
    }
    this.sessions.set(event, session);
    const run = this.run(handler, event, ack, session);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return { taken: true };
  }

  private async run(
    handler: InboundHandler,
    event: InboundEvent,
    ack: AdapterAcknowledgement,
    session: InteractionSession,
  ): Promise<void> {
    try {
      await handler(event);
    } catch (error) {
      this.options.logger.error(
        { err: loggableError(error), platform: 'discord' },
        'chat handler failed',
      );
    }
    ack.dispose();
    // A handler that said nothing still owes Discord an answer.
    if (!ack.acknowledged) {
      await ack
        .accept()
        .catch((error: unknown) =>
          this.options.logger.warn(
            { err: loggableError(error), platform: 'discord' },
            'could not answer an interaction',
          ),
        );
    }
    await ack.settled;
    // A deferred reply nothing replaced would say "thinking…" for ever.
    if (session.deferred && !session.originalUsed && session.expiresAt > this.now()) {
      session.originalUsed = true;
      await this.options.rest
        .delete(`/webhooks/${session.applicationId}/${session.token}/messages/@original`, {
          auth: false,
        })
        .catch((error: unknown) =>
          this.options.logger.warn(
            { err: loggableError(error) },
            'could not remove a deferred Discord reply',
          ),
        );
    }
  }

  private acknowledgement(
    session: InteractionSession,
    respond: (callback: InteractionCallback) => Promise<void>,
  ): AdapterAcknowledgement {
    return createAcknowledgement(
      {
        accept: async () => {
          if (session.isCommand) session.deferred = true;
          if (session.confirmed) {
            // The question goes, so its button cannot be clicked a second time.
            await respond({
              type: CallbackType.UpdateMessage,
              data: { content: 'Confirmed.', embeds: [], components: [] },
            });
            return;
          }
          await respond({
            type: session.isCommand
              ? CallbackType.DeferredChannelMessage
              : CallbackType.DeferredUpdateMessage,
          });
        },
        replyPrivately: async (message, first) => {
          const body: DiscordMessageBody = {
            ...renderDiscordMessage(message).body,
            flags: EPHEMERAL,
          };
          if (first) {
            await respond({ type: CallbackType.ChannelMessage, data: withoutAttachments(body) });
            return;
          }
          if (session.expiresAt <= this.now()) {
            this.options.logger.warn(
              { platform: 'discord' },
              'a private answer came after the interaction expired; not sent',
            );
            return;
          }
          await this.options.rest.post(`/webhooks/${session.applicationId}/${session.token}`, {
            body: withoutAttachments(body),
            auth: false,
          });
        },
        onDeadline: () =>
          this.options.logger.debug(
            { platform: 'discord' },
            'interaction deferred at the deadline',
          ),
        onError: (error) =>
          this.options.logger.warn(
            { err: loggableError(error), platform: 'discord' },
            'could not answer an interaction',
          ),
      },
      { deadlineMs: this.options.ackDeadlineMs ?? DISCORD_LIMITS.ackDeadlineMs },
    );
  }

  private confirmation(
    interaction: Interaction,
    intent: { readonly actionId: string; readonly value?: string },
  ): DiscordMessageBody {
    const customId = interaction.data?.custom_id ?? '';
    const clicked = interaction.message?.components
      ?.flatMap((row) => row.components ?? [])
      .find((c) => c.custom_id === customId);
    const label = typeof clicked?.label === 'string' ? clicked.label : 'Go ahead';
    const confirm = this.confirms.get(customId) ?? {
      title: label,
      text: `Click ${label} to go ahead, or Cancel.`,
      confirm: label,
    };
    const url = interaction.message
      ? `https://discord.com/channels/${interaction.guild_id ?? '@me'}/${interaction.channel_id ?? interaction.message.channel_id}/${interaction.message.id}`
      : undefined;
    return renderConfirmation(
      { ...intent, style: clicked?.style === 1 ? 'primary' : 'danger' },
      confirm,
      url,
    );
  }

  private async choices(interaction: Interaction): Promise<{ name: string; value: string }[]> {
    const data = interaction.data;
    if (!data?.name || !this.options.suggest) return [];
    const focused = focusedOption(
      { name: data.name, options: data.options ?? [] },
      this.options.commands,
    );
    if (!focused?.kind) return [];
    try {
      const names = await this.options.suggest(focused.kind, focused.typed);
      return names
        .filter((n) => n.length >= 1 && n.length <= 100)
        .slice(0, MAX_CHOICES)
        .map((n) => ({ name: n, value: n }));
    } catch (error) {
      this.options.logger.warn({ err: loggableError(error) }, 'could not list suggestions');
      return [];
    }
  }

  private async refuse(
    interaction: Interaction,
    userId: string,
    reason: 'malformed' | 'replayed' | 'unsupported',
  ): Promise<DeliveryOutcome> {
    this.options.logger.warn(
      { platform: 'discord', interaction: interaction.id, reason },
      'refused a Discord interaction',
    );
    if (this.options.audit) {
      await auditRefusedRequest(
        this.options.audit,
        {
          platform: 'discord',
          userId,
          channel: interaction.channel_id ?? null,
          detail: { reason, interaction: interaction.id, type: interaction.type },
        },
        this.options.logger,
      );
    }
    return { taken: false, reason };
  }
}

/** Where to send to a channel reference: its thread when it has one. */
function target(ref: ChannelRef): string {
  return ref.thread ?? ref.channel;
}

function rawFiles(rendered: RenderedDiscordMessage): RawFile[] | undefined {
  if (rendered.files.length === 0) return undefined;
  return rendered.files.map((f) => ({ name: f.name, data: f.data, contentType: f.contentType }));
}

function withoutAttachments(body: DiscordMessageBody): DiscordMessageBody {
  const { attachments: _attachments, ...rest } = body;
  return rest;
}

/** The channel of an interaction; a thread is reported with its parent channel. */
function channelOf(interaction: Interaction): ChannelRef | undefined {
  const id = interaction.channel_id ?? interaction.channel?.id;
  if (!id) return undefined;
  const parent = interaction.channel?.parent_id;
  const isThread = interaction.channel && [10, 11, 12].includes(interaction.channel.type);
  return isThread && parent ? { channel: parent, thread: id } : { channel: id };
}

/** Whether a click came from a confirmation (a private message linking to the one it asks about). */
function isConfirmation(interaction: Interaction): boolean {
  const message = interaction.message;
  return (
    message !== undefined &&
    ((message.flags ?? 0) & EPHEMERAL) !== 0 &&
    MESSAGE_URL.test(message.embeds?.[0]?.url ?? '')
  );
}

/**
 * The message a clicked button was on. A confirmation is a private message of its own; its
 * title links to the message whose button asked for it, and that message is the one reported.
 */
function messageOf(interaction: Interaction, channel: ChannelRef): MessageRef | undefined {
  const message = interaction.message;
  if (!message) return undefined;
  if (isConfirmation(interaction)) {
    const match = MESSAGE_URL.exec(message.embeds?.[0]?.url ?? '');
    return match?.[2] ? { ...channel, messageId: match[2] } : undefined;
  }
  return { ...channel, messageId: message.id };
}
