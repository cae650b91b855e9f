/**
 * The neutral message model. Slack, Discord and the console render it; features build it once.
 */
export type Tone = 'info' | 'success' | 'warning' | 'danger';

export interface Field {
  readonly label: string;
  readonly value: string;
}

export interface Button {
  /** The action id the platform sends back on a click (≤ 100 chars: Discord's custom_id limit). */
  readonly actionId: string;
  readonly label: string;
  readonly style?: 'primary' | 'danger';
  /** The typed command that does the same thing, shown by text renderers. */
  readonly command?: string;
}

export type Block =
  | { readonly type: 'header'; readonly text: string }
  | { readonly type: 'section'; readonly text: string }
  | { readonly type: 'fields'; readonly fields: readonly Field[] }
  | {
      readonly type: 'progress';
      readonly label: string;
      /** 0..1, or null when the total is unknown. */
      readonly fraction: number | null;
      readonly detail: string;
    }
  | { readonly type: 'callout'; readonly tone: Tone; readonly text: string }
  | { readonly type: 'code'; readonly text: string }
  | { readonly type: 'context'; readonly text: string }
  | { readonly type: 'buttons'; readonly buttons: readonly Button[] };

export interface ChatMessage {
  /** Plain-text fallback, used for notifications and by screen readers. */
  readonly text: string;
  readonly blocks: readonly Block[];
}

/** A message with just one section of text. */
export function textMessage(text: string): ChatMessage {
  return { text, blocks: [{ type: 'section', text }] };
}

/** A message with one callout, e.g. an error. */
export function calloutMessage(tone: Tone, text: string): ChatMessage {
  return { text, blocks: [{ type: 'callout', tone, text }] };
}
