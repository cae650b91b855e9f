/**
 * The neutral message model. Slack, Discord and the console render it; features build it once.
 *
 * Text in blocks is plain text with one piece of markup, `code` in backticks, which every
 * platform shows as code. Renderers escape everything else, so text from a runbook, a parameter
 * or a file name never pings anyone or turns into a link (`<!channel>`, `@everyone`, `<@U…>`).
 * The one way to mention a person is `mention(identity)`.
 */
export type Tone = 'info' | 'success' | 'warning' | 'danger';

export interface Field {
  readonly label: string;
  readonly value: string;
}

/** A dialog the platform shows before a dangerous click goes through (Restore, Reject, Abort). */
export interface ButtonConfirm {
  readonly title: string;
  readonly text: string;
  /** The label of the button that goes ahead, e.g. `Restore`. */
  readonly confirm: string;
  /** @defaultValue `Cancel` */
  readonly deny?: string;
}

export interface Button {
  /**
   * The action id the platform sends back on a click. It and `value` together fit in 100
   * characters (`MAX_ACTION_ID_LENGTH`): Discord carries both in one custom_id.
   */
  readonly actionId: string;
  readonly label: string;
  readonly style?: 'primary' | 'danger';
  /** The typed command that does the same thing, shown by text renderers. */
  readonly command?: string;
  /** Sent back with the click (`InboundEvent` of kind `action`). Never trusted for who clicked. */
  readonly value?: string;
  /** Asks before the click counts. */
  readonly confirm?: ButtonConfirm;
}

/**
 * A file sent with a message: a drill's chart, an exported timeline. Slack uploads it, Discord
 * attaches it, the console writes it to a file and prints the path.
 */
export interface Attachment {
  /** A plain file name (no directories): `weekly-db-rto.png`. */
  readonly filename: string;
  /** `image/png`, `text/markdown`, … */
  readonly contentType: string;
  readonly data: Uint8Array;
  /** Shown with the file; images also use it as their alternative text. */
  readonly title?: string;
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
  | { readonly type: 'buttons'; readonly buttons: readonly Button[] }
  /** An image among the blocks: the attachment of the message with this file name. */
  | { readonly type: 'image'; readonly filename: string; readonly alt: string };

export interface ChatMessage {
  /** Plain-text fallback, used for notifications and by screen readers. */
  readonly text: string;
  readonly blocks: readonly Block[];
  /** Files sent with the message; `image` blocks refer to them by file name. */
  readonly attachments?: readonly Attachment[];
  /**
   * The typed command that shows the whole result (`/backup show bk_…`). When a platform's
   * limits cut the message, the cut says to run it, so nothing is lost.
   */
  readonly fullResult?: string;
}

/** A message with just one section of text. */
export function textMessage(text: string): ChatMessage {
  return { text, blocks: [{ type: 'section', text }] };
}

/** A message with one callout, e.g. an error. */
export function calloutMessage(tone: Tone, text: string): ChatMessage {
  return { text, blocks: [{ type: 'callout', tone, text }] };
}
