import { createHash } from 'node:crypto';
import type { ChannelRef, MessageRef } from '../chat-adapter.ts';

/** A command or click as Slack's (already verified) payload states it. */
export type SlackInbound =
  | {
      readonly kind: 'command';
      readonly userId: string;
      readonly teamId: string | undefined;
      readonly channel: ChannelRef;
      /** `/backup create full` */
      readonly text: string;
      /** Unique per delivery; a retry carries the same. */
      readonly deliveryKey: string;
    }
  | {
      readonly kind: 'action';
      readonly userId: string;
      readonly teamId: string | undefined;
      readonly channel: ChannelRef;
      readonly actionId: string;
      readonly value?: string;
      readonly message?: MessageRef;
      readonly deliveryKey: string;
    };

/** Why a payload is refused, and who it names (for the audit log), when anyone. */
export interface SlackRefusal {
  readonly reason: string;
  readonly userId?: string;
  readonly teamId?: string;
  readonly channel?: string;
  readonly text?: string;
}

export type SlackReading =
  | { readonly ok: true; readonly inbound: SlackInbound }
  | ({ readonly ok: false } & SlackRefusal);

const ID = /^[A-Z0-9][A-Z0-9_-]{0,63}$/i;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A slash command's text as the person typed it: Slack sends `&`, `<` and `>` as entities, and
 * clients may turn `"` into typographic quotes, which the grammar's quoting would not see.
 */
export function typedText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\u201C\u201D\u201E\u201F]/g, '"')
    .trim();
}

/** The delivery's key for the ledger: its trigger id, else a hash of what it says. */
function deliveryKey(body: Record<string, unknown>): string {
  const trigger = str(body.trigger_id);
  if (trigger) return `slack:trigger:${trigger}`;
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
  return `slack:body:${digest}`;
}

/**
 * Reads a slash command (form fields) or a `block_actions` interaction (the parsed `payload`)
 * into what the adapter needs; anything else, or a payload that does not say who sent it, is a
 * refusal with the reason. The identity is the payload's user id, never a display name, and
 * for a click never anything the button carries.
 */
export function readSlackPayload(body: Record<string, unknown>): SlackReading {
  if (typeof body.command === 'string') {
    const userId = str(body.user_id);
    const teamId = str(body.team_id);
    const command = body.command.trim();
    const args = typeof body.text === 'string' ? typedText(body.text) : '';
    const text = args ? `${command} ${args}` : command;
    const channel = str(body.channel_id);
    const named = { ...(teamId ? { teamId } : {}), ...(channel ? { channel } : {}), text };
    if (!userId || !ID.test(userId)) {
      return { ok: false, reason: 'the command names no user (user_id)', ...named };
    }
    if (!/^\/[a-z][a-z0-9_-]*$/i.test(command)) {
      return { ok: false, reason: 'the command is not a /word', userId, ...named };
    }
    if (!channel) return { ok: false, reason: 'the command names no channel', userId, ...named };
    return {
      ok: true,
      inbound: {
        kind: 'command',
        userId,
        teamId,
        channel: { channel },
        text,
        deliveryKey: deliveryKey(body),
      },
    };
  }
  const type = str(body.type);
  if (type !== 'block_actions') {
    return { ok: false, reason: `${type ?? 'an untyped payload'} is not a command or a click` };
  }
  const user = record(body.user);
  const userId = str(user?.id);
  const teamId = str(record(body.team)?.id) ?? str(user?.team_id);
  const channelId = str(record(body.channel)?.id) ?? str(record(body.container)?.channel_id);
  const named = { ...(teamId ? { teamId } : {}), ...(channelId ? { channel: channelId } : {}) };
  if (!userId || !ID.test(userId)) {
    return { ok: false, reason: 'the click names no user (user.id)', ...named };
  }
  const actions = Array.isArray(body.actions) ? body.actions.map(record) : [];
  const action = actions[0];
  const actionId = str(action?.action_id);
  if (!actionId) return { ok: false, reason: 'the click names no action', userId, ...named };
  if (!channelId) return { ok: false, reason: 'the click names no channel', userId, ...named };
  const message = record(body.message);
  const messageTs = str(record(body.container)?.message_ts) ?? str(message?.ts);
  const thread = str(message?.thread_ts);
  const channel: ChannelRef = thread ? { channel: channelId, thread } : { channel: channelId };
  const value = str(action?.value);
  return {
    ok: true,
    inbound: {
      kind: 'action',
      userId,
      teamId,
      channel,
      actionId,
      ...(value !== undefined ? { value } : {}),
      ...(messageTs ? { message: { ...channel, messageId: messageTs } } : {}),
      deliveryKey: deliveryKey({ ...body, trigger_id: body.trigger_id ?? action?.action_ts }),
    },
  };
}
