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

/** Slack's own limits on one text object, which escaping and decoration count against. */
const SLACK_TEXT_CHARS = 3_000;
const SLACK_FIELD_CHARS = 2_000;

/** How far the longest text of `rendered` is over Slack's limits (1 or less: within them). */
function overflow(rendered: readonly SlackBlock[]): number {
  let worst = 0;
  for (const block of rendered) {
    const text = (block.text as { text?: string } | undefined)?.text;
    if (text) worst = Math.max(worst, text.length / SLACK_TEXT_CHARS);
    for (const field of (block.fields as { text: string }[] | undefined) ?? []) {
      worst = Math.max(worst, field.text.length / SLACK_FIELD_CHARS);
    }
    for (const element of (block.elements as { text?: unknown }[] | undefined) ?? []) {
      if (typeof element.text === 'string') {
        worst = Math.max(worst, element.text.length / SLACK_TEXT_CHARS);
      }
    }
  }
  return worst;
}

/**
 * `message` as Slack blocks, cut to Slack's limits first (`fitMessage`). Escaping (`&` becomes
 * `&amp;`) and decoration (code fences, bold labels) make text longer than the neutral text
 * `fitMessage` measured; when that pushes a text over Slack's own limit, the message is fitted
 * again to proportionally smaller limits, so Slack never refuses it.
 */
export function renderSlackMessage(message: ChatMessage): SlackMessage {
  let limits = SLACK_LIMITS;
  for (let attempt = 0; ; attempt++) {
    const fitted = fitMessage(message, limits);
    const blocks = fitted.blocks.map(renderBlock);
    const over = overflow(blocks);
    if (over <= 1 || attempt >= 4) return { text: mrkdwn(fitted.text), blocks };
    const shrink = (n: number) => Math.max(50, Math.floor(n / over) - 20);
    limits = {
      ...limits,
      maxTextChars: shrink(limits.maxTextChars),
      maxFieldLabelChars: shrink(limits.maxFieldLabelChars),
      maxFieldValueChars: shrink(limits.maxFieldValueChars),
    };
  }
}
