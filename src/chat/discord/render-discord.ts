import { DISCORD_LIMITS, fitMessage } from '../limits.ts';
import { stripMarkers, textParts } from '../mention.ts';
import type { Block, Button, ButtonConfirm, ChatMessage, Tone } from '../message.ts';
import { CANCEL_CUSTOM_ID, packCustomId } from './custom-id.ts';

/** A Discord embed, as the REST API takes it. */
export interface DiscordEmbed {
  title?: string;
  url?: string;
  description?: string;
  color?: number;
  fields?: { name: string; value: string; inline?: boolean }[];
  image?: { url: string };
}

/** A button component (type 2) in an action row (type 1). */
export interface DiscordButton {
  readonly type: 2;
  readonly style: 1 | 2 | 4;
  readonly label: string;
  readonly custom_id: string;
}

export interface DiscordActionRow {
  readonly type: 1;
  readonly components: readonly DiscordButton[];
}

/** A message body for `POST /channels/{id}/messages`, webhooks and interaction callbacks. */
export interface DiscordMessageBody {
  readonly content: string;
  readonly embeds: readonly DiscordEmbed[];
  readonly components: readonly DiscordActionRow[];
  /** Only the people mentioned on purpose are notified; `@everyone` and roles never. */
  readonly allowed_mentions: { readonly parse: readonly []; readonly users: readonly string[] };
  readonly attachments?: readonly { id: number; filename: string; description?: string }[];
  /** 64: only the person who sent the interaction sees it. */
  readonly flags?: number;
}

/** A file to upload with a message, as multipart `files[n]`. */
export interface DiscordFile {
  readonly name: string;
  readonly data: Uint8Array;
  readonly contentType: string;
}

export interface RenderedDiscordMessage {
  readonly body: DiscordMessageBody;
  readonly files: readonly DiscordFile[];
  /** The buttons that ask first, by custom_id: what to ask when one is clicked. */
  readonly confirms: ReadonlyMap<string, ButtonConfirm>;
}

/** Discord's limits that the neutral ones do not already cover. */
const MAX_CONTENT = 2_000;
const MAX_DESCRIPTION = 4_096;
const MAX_EMBED_FIELDS = 25;
const MAX_EMBEDS = 10;
const MAX_TITLE = 256;
const MAX_FIELD_NAME = 256;
const MAX_FIELD_VALUE = 1_024;
/** All embeds of a message together: titles, descriptions, field names and values. */
const MAX_EMBED_TOTAL = 6_000;
/** Message flag 64: only the person who sent the interaction sees it. */
export const EPHEMERAL = 64;

const TONE_COLOURS: Record<Tone, number> = {
  info: 0x5865f2,
  success: 0x57f287,
  warning: 0xfee75c,
  danger: 0xed4245,
};
const TONE_RANK: Record<Tone, number> = { info: 0, success: 1, warning: 2, danger: 3 };
const TONE_MARK: Record<Tone, string> = {
  info: 'ℹ️',
  success: '✅',
  warning: '⚠️',
  danger: '⛔',
};

/**
 * Plain text made safe for Discord markdown: characters that would format, quote, link or
 * mention are escaped with a backslash (Discord shows the character), and `@everyone`/`@here`
 * get a zero-width space so they read as text. Mentions made with `mention()` stay mentions.
 */
export function escapeDiscord(text: string): string {
  return text
    .replace(/[\\*_~|`>#<[\]()]/g, (c) => `\\${c}`)
    .replace(
      /^(\s*)([-+]|\d+\.)(\s)/gm,
      (_, pad: string, mark: string, space: string) => `${pad}\\${mark}${space}`,
    )
    .replace(/@(everyone|here)/g, '@\u200b$1');
}

/** Collects the users a message mentions on purpose, for `allowed_mentions`. */
class Mentions {
  readonly users = new Set<string>();

  /** Neutral text (plain, with `code` spans and mention markers) as Discord markdown. */
  text(text: string): string {
    return textParts(text)
      .map((part) => {
        if (part.kind === 'text') return withCodeSpans(part.text);
        if (part.identity.platform === 'discord' && /^\d{1,25}$/.test(part.identity.id)) {
          this.users.add(part.identity.id);
          return `<@${part.identity.id}>`;
        }
        return escapeDiscord(`${part.identity.platform}:${part.identity.id}`);
      })
      .join('');
  }
}

/** Escapes everything but the `code` spans, which Discord shows as code as they are. */
function withCodeSpans(text: string): string {
  const pieces = text.split('`');
  // An unpaired backtick leaves an odd count of pieces' separators: escape it as text.
  if (pieces.length % 2 === 0) return escapeDiscord(text);
  return pieces
    .map((piece, i) => (i % 2 === 1 && piece !== '' ? `\`${piece}\`` : escapeDiscord(piece)))
    .join('');
}

function codeBlock(text: string): string {
  return `\`\`\`\n${stripMarkers(text).replace(/```/g, '`\u200b``')}\n\`\`\``;
}

function progressBar(fraction: number | null): string {
  if (fraction === null) return '…';
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * 10);
  return `${'▓'.repeat(filled)}${'░'.repeat(10 - filled)} ${Math.round(clamped * 100)}%`;
}

function buttonComponent(button: Button): DiscordButton {
  return {
    type: 2,
    style: button.style === 'primary' ? 1 : button.style === 'danger' ? 4 : 2,
    label: stripMarkers(button.label),
    custom_id: packCustomId(button, button.confirm ? 'ask' : 'act'),
  };
}

/** Builds embeds, opening a new one where a description would pass Discord's 4,096. */
class EmbedBuilder {
  readonly embeds: DiscordEmbed[] = [];
  private current: DiscordEmbed = {};
  private lines: string[] = [];

  title(text: string): void {
    if (this.current.title === undefined && this.lines.length === 0)
      this.current.title = clip(text, MAX_TITLE);
    else this.add(`**${text}**`);
  }

  add(line: string): void {
    const length = this.lines.reduce((n, l) => n + l.length + 2, 0);
    if (length + line.length > MAX_DESCRIPTION) this.flush();
    this.lines.push(line.slice(0, MAX_DESCRIPTION));
  }

  field(name: string, value: string): void {
    this.current.fields ??= [];
    const fields = this.current.fields;
    if (fields.length >= MAX_EMBED_FIELDS) {
      this.add(`**${name}**: ${value}`);
      return;
    }
    fields.push({
      name: clip(name, MAX_FIELD_NAME) || '\u200b',
      value: clip(value, MAX_FIELD_VALUE) || '\u200b',
      inline: value.length <= 40,
    });
  }

  image(url: string): void {
    this.current.image = { url };
  }

  colour(colour: number): void {
    this.current.color = colour;
  }

  finish(colour: number | undefined): DiscordEmbed[] {
    this.flush();
    const embeds = this.embeds.slice(0, MAX_EMBEDS);
    keepWithinTotal(embeds);
    if (colour !== undefined) for (const embed of embeds) embed.color = colour;
    return embeds;
  }

  private flush(): void {
    if (this.lines.length) this.current.description = this.lines.join('\n\n');
    const e = this.current;
    if (e.title !== undefined || e.description !== undefined || e.fields || e.image) {
      this.embeds.push(e);
    }
    this.current = {};
    this.lines = [];
  }
}

/**
 * `text` within `max` characters. `fitMessage` sizes the neutral text; escapes and markup can
 * make the rendered text longer, so the renderer clips it again to Discord's own limits.
 */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function embedLength(embed: DiscordEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

/** Shortens descriptions, last embed first, until all embeds fit Discord's 6,000 together. */
function keepWithinTotal(embeds: DiscordEmbed[]): void {
  let excess = embeds.reduce((n, e) => n + embedLength(e), 0) - MAX_EMBED_TOTAL;
  for (let i = embeds.length - 1; i >= 0 && excess > 0; i--) {
    const embed = embeds[i] as DiscordEmbed;
    const description = embed.description ?? '';
    if (description.length === 0) continue;
    const keep = Math.max(0, description.length - excess - 1);
    embed.description = keep > 0 ? `${description.slice(0, keep)}…` : '…';
    excess -= description.length - embed.description.length;
  }
  while (excess > 0 && embeds.some((e) => e.fields?.length)) {
    const embed = [...embeds].reverse().find((e) => e.fields?.length) as DiscordEmbed;
    const removed = embed.fields?.pop();
    excess -= (removed?.name.length ?? 0) + (removed?.value.length ?? 0);
  }
}

function strongestTone(blocks: readonly Block[]): Tone | undefined {
  let tone: Tone | undefined;
  for (const block of blocks) {
    if (
      block.type === 'callout' &&
      (tone === undefined || TONE_RANK[block.tone] > TONE_RANK[tone])
    ) {
      tone = block.tone;
    }
  }
  return tone;
}

/**
 * A neutral message as a Discord message: the blocks in one embed (title from the header;
 * sections, callouts, code, progress and context in the description; fields as embed fields;
 * the colour of the strongest callout; an `image` block's file as the embed image) and the
 * buttons in action rows. The message is first cut to Discord's limits with `fitMessage`.
 * Nothing in the text pings: only `mention()`ed Discord users are allowed mentions, and the
 * content names them so they are notified.
 */
export function renderDiscordMessage(message: ChatMessage): RenderedDiscordMessage {
  const fitted = fitMessage(message, DISCORD_LIMITS);
  const mentions = new Mentions();
  const embed = new EmbedBuilder();
  const rows: DiscordActionRow[] = [];
  const confirms = new Map<string, ButtonConfirm>();
  for (const block of fitted.blocks) {
    switch (block.type) {
      case 'header':
        embed.title(mentions.text(block.text));
        break;
      case 'section':
        embed.add(mentions.text(block.text));
        break;
      case 'callout':
        embed.add(`${TONE_MARK[block.tone]} ${mentions.text(block.text)}`);
        break;
      case 'code':
        embed.add(codeBlock(block.text));
        break;
      case 'context':
        embed.add(`*${mentions.text(block.text)}*`);
        break;
      case 'progress':
        embed.add(
          `**${mentions.text(block.label)}** ${progressBar(block.fraction)} — ${mentions.text(block.detail)}`,
        );
        break;
      case 'fields':
        for (const field of block.fields)
          embed.field(mentions.text(field.label), mentions.text(field.value));
        break;
      case 'image':
        embed.image(`attachment://${block.filename}`);
        break;
      case 'buttons':
        rows.push({ type: 1, components: block.buttons.map(buttonComponent) });
        for (const button of block.buttons) {
          if (button.confirm) confirms.set(packCustomId(button, 'ask'), button.confirm);
        }
        break;
    }
  }
  const tone = strongestTone(fitted.blocks);
  const embeds = embed.finish(tone === undefined ? undefined : TONE_COLOURS[tone]);
  const fallback = embeds.length === 0 ? mentions.text(fitted.text) : '';
  const pings = [...mentions.users].map((id) => `<@${id}>`).join(' ');
  const content = [fallback, embeds.length && pings ? pings : ''].filter(Boolean).join('\n');
  const attachments = message.attachments ?? [];
  return {
    body: {
      content: content.slice(0, MAX_CONTENT),
      embeds,
      components: rows.slice(0, 5),
      allowed_mentions: { parse: [], users: [...mentions.users] },
      ...(attachments.length
        ? {
            attachments: attachments.map((a, id) => ({
              id,
              filename: a.filename,
              ...(a.title ? { description: a.title.slice(0, 1024) } : {}),
            })),
          }
        : {}),
    },
    files: attachments.map((a) => ({ name: a.filename, data: a.data, contentType: a.contentType })),
    confirms,
  };
}

/**
 * The private question a button with `confirm` asks the clicker first: the confirmation's title
 * and text, linking to the message the button is on (`messageUrl`), with the real button and
 * Cancel. Only a click on the real button runs the action.
 */
export function renderConfirmation(
  button: Pick<Button, 'actionId' | 'value' | 'style'>,
  confirm: ButtonConfirm,
  messageUrl: string | undefined,
): DiscordMessageBody {
  const mentions = new Mentions();
  return {
    content: '',
    embeds: [
      {
        title: `Are you sure? ${stripMarkers(confirm.title)}`.slice(0, 256),
        ...(messageUrl ? { url: messageUrl } : {}),
        description: mentions.text(confirm.text).slice(0, MAX_DESCRIPTION),
        color: TONE_COLOURS.warning,
      },
    ],
    components: [
      {
        type: 1,
        components: [
          {
            type: 2,
            style: button.style === 'primary' ? 1 : 4,
            label: stripMarkers(confirm.confirm).slice(0, 80),
            custom_id: packCustomId(button, 'act'),
          },
          {
            type: 2,
            style: 2,
            label: (confirm.deny ?? 'Cancel').slice(0, 80),
            custom_id: CANCEL_CUSTOM_ID,
          },
        ],
      },
    ],
    allowed_mentions: { parse: [], users: [] },
    flags: EPHEMERAL,
  };
}
