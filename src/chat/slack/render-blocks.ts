import type { Identity } from '../../core/identity.ts';
import { fitMessage, SLACK_LIMITS } from '../limits.ts';
import { textParts } from '../mention.ts';
import type { Block, Button, ChatMessage, Tone } from '../message.ts';

/** A Block Kit block as `chat.postMessage` takes it. */
export type SlackBlock = Readonly<Record<string, unknown>>;

/** What `chat.postMessage`, `chat.update` and an ephemeral answer carry. */
export interface SlackMessage {
  /** The notification and screen-reader text (mrkdwn, escaped). */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/**
 * Slack's mrkdwn escaping: `&`, `<` and `>` become entities, so `<!channel>`, `<@U…>` and
 * `<https://…|…>` typed into a runbook or a note show as text and never ping or link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** How a person is shown in plain text (headers, buttons): never a ping. */
function plainName(identity: Identity): string {
  return identity.platform === 'slack' ? `@${identity.id}` : `${identity.platform}:${identity.id}`;
}

/**
 * Neutral text as mrkdwn: everything escaped, mentions of Slack users as `<@U…>` (the one way
 * text pings), people of other platforms as their plain identity.
 */
export function mrkdwn(text: string): string {
  return textParts(text)
    .map((part) => {
      if (part.kind === 'text') return escapeMrkdwn(part.text);
      return part.identity.platform === 'slack' && /^[A-Z0-9]+$/.test(part.identity.id)
        ? `<@${part.identity.id}>`
        : escapeMrkdwn(plainName(part.identity));
    })
    .join('');
}

/** Neutral text as Slack `plain_text` (headers, buttons, dialogs): no markup at all. */
export function plainText(text: string): { type: 'plain_text'; text: string; emoji: true } {
  const joined = textParts(text)
    .map((part) => (part.kind === 'text' ? part.text : plainName(part.identity)))
    .join('');
  return { type: 'plain_text', text: joined, emoji: true };
}

const TONE: Record<Tone, string> = {
  info: ':information_source: *Note:*',
  success: ':white_check_mark: *Done:*',
  warning: ':warning: *Warning:*',
  danger: ':rotating_light: *Danger:*',
};

const BAR_WIDTH = 20;

/** `▓▓▓▓▓░░░░░░░░░░░░░░░ 25 %`, or `in progress` when the total is unknown. */
export function progressBar(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return 'in progress';
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * BAR_WIDTH);
  return `${'▓'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${Math.round(clamped * 100)} %`;
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function button(b: Button): SlackBlock {
  return {
    type: 'button',
    action_id: b.actionId,
    text: plainText(b.label),
    ...(b.value !== undefined ? { value: b.value } : {}),
    ...(b.style ? { style: b.style } : {}),
    ...(b.confirm
      ? {
          confirm: {
            title: plainText(b.confirm.title),
            text: plainText(b.confirm.text),
            confirm: plainText(b.confirm.confirm),
            deny: plainText(b.confirm.deny ?? 'Cancel'),
            ...(b.style === 'danger' ? { style: 'danger' } : {}),
          },
        }
      : {}),
  };
}

function renderBlock(block: Block): SlackBlock {
  switch (block.type) {
    case 'header':
      return { type: 'header', text: plainText(block.text) };
    case 'section':
      return section(mrkdwn(block.text));
    case 'fields':
      return {
        type: 'section',
        fields: block.fields.map((f) => ({
          type: 'mrkdwn',
          text: `*${mrkdwn(f.label)}*\n${mrkdwn(f.value)}`,
        })),
      };
    case 'progress':
      return section(
        `*${mrkdwn(block.label)}*\n\`${progressBar(block.fraction)}\` ${mrkdwn(block.detail)}`,
      );
    case 'callout':
      return section(`${TONE[block.tone]} ${mrkdwn(block.text)}`);
    case 'code':
      // Inside a code block nothing is formatted; the entities still have to be escaped.
      return section(`\`\`\`\n${escapeMrkdwn(block.text)}\n\`\`\``);
    case 'context':
      return { type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn(block.text) }] };
    case 'buttons':
      return { type: 'actions', elements: block.buttons.map(button) };
    case 'image':
      // The file itself is uploaded beside the message (files.uploadV2); the block names it.
      return {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `:frame_with_picture: ${mrkdwn(block.alt)} (\`${escapeMrkdwn(block.filename)}\`, attached)`,
          },
        ],
      };
  }
}

/** `message` as Slack blocks, cut to Slack's limits first (`fitMessage`). */
export function renderSlackMessage(message: ChatMessage): SlackMessage {
  const fitted = fitMessage(message, SLACK_LIMITS);
  return { text: mrkdwn(fitted.text), blocks: fitted.blocks.map(renderBlock) };
}
