import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from 'node:readline';
import { describeForUser } from '../../core/errors.ts';
import { userNameProblem } from '../../core/identity.ts';
import { compactTimestamp, randomSuffix } from '../../core/ids.ts';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../../core/private-modes.ts';
import { silentAcknowledgement } from '../acknowledgement.ts';
import type {
  ChannelRef,
  ChatAdapter,
  InboundEvent,
  InboundHandler,
  MessageRef,
} from '../chat-adapter.ts';
import { CONSOLE_LIMITS, fitMessage } from '../limits.ts';
import { type Attachment, type ChatMessage, calloutMessage } from '../message.ts';
import { type ReplyChannel, replyChannel } from '../reply-channel.ts';
import { renderMessage, visibleLength } from './render-text.ts';

export interface ConsoleAdapterOptions {
  /** Where commands are read from, one a line: a terminal or a pipe. */
  readonly input: NodeJS.ReadableStream;
  /** Where the bot's messages are printed. */
  readonly output: NodeJS.WritableStream;
  /** The acting user at the start; their identity is `PLATFORM:USER`. `/as NAME` switches it. */
  readonly user: string;
  /**
   * The platform of the identities given to commands. `cli` is for running one command from the
   * `lifeboat` command line as the OS user: there, `/as` is not special and nothing is echoed.
   * @defaultValue `'console'`
   */
  readonly platform?: 'console' | 'cli';
  /**
   * Why `/as NAME` is refused, when the configuration turned impersonation off; `/as` then says
   * so and the acting user stays as started. @defaultValue undefined (`/as` switches)
   */
  readonly impersonationOff?: string;
  /**
   * The channel commands arrive from.
   * @defaultValue `'console'`
   */
  readonly channel?: string;
  /**
   * Terminal mode: a prompt, commands running side by side, messages redrawn in place.
   * Otherwise lines are handled one after another, so a script gives the same output each run.
   * @defaultValue true when both `input` and `output` are terminals
   */
  readonly interactive?: boolean;
  /**
   * ANSI colour and emphasis.
   * @defaultValue `interactive`, unless the `NO_COLOR` environment variable is set
   */
  readonly color?: boolean;
  /**
   * Print each command after the acting user's prompt before its output, so the output of a
   * script reads like a terminal session. (A terminal echoes what is typed by itself.)
   * @defaultValue `!interactive` on the `console` platform, false on `cli`
   */
  readonly echo?: boolean;
  /**
   * Columns to wrap at.
   * @defaultValue the terminal's width, or 80
   */
  readonly width?: number;
  /**
   * The least time between two printings of a message whose only change is its progress, when
   * it cannot be redrawn in place. A pipe would otherwise fill with progress lines.
   * @defaultValue 2000
   */
  readonly progressIntervalMs?: number;
  /** @defaultValue the system clock */
  readonly now?: () => Date;
  /**
   * Where the files sent with messages (`ChatMessage.attachments`) are written, each under a
   * new name of its own, private to this user (0600); the message shows the path.
   * @defaultValue `./.lifeboat/files`
   */
  readonly filesDirectory?: string;
}

/** The default of `ConsoleAdapterOptions.filesDirectory`. */
export const DEFAULT_FILES_DIRECTORY = join('.lifeboat', 'files');

/** A printed message: what the reader last saw, and a newer version held back, if any. */
interface MessageState {
  readonly ref: MessageRef;
  /** Where each of its attachments was written, by file name. */
  readonly files: Map<string, string>;
  shown: ChatMessage;
  shownAt: number;
  held?: ChatMessage;
  timer?: NodeJS.Timeout;
}

const QUIT = /^\/(quit|exit)$/;
const AS = /^\/as(?:\s+(.*))?$/;

/**
 * The local terminal chat: reads commands from a terminal or a pipe, prints the bot's messages
 * as text with the typed command behind every button, and stands in for Slack and Discord when
 * trying Lifeboat out and in tests. Only here can the acting user be switched (`/as bob`), so the
 * two-person rule can be tried by one person.
 */
export class ConsoleAdapter implements ChatAdapter {
  readonly platform: 'console' | 'cli';
  readonly limits = CONSOLE_LIMITS;
  /**
   * Settles once reading has ended (end of input, `/quit` or `stop()`), every command it started
   * has finished, and held-back updates have been printed. The console's owner awaits it and
   * then exits.
   */
  readonly done: Promise<void>;

  readonly #input: NodeJS.ReadableStream;
  readonly #output: NodeJS.WritableStream;
  readonly #channel: ChannelRef;
  readonly #interactive: boolean;
  readonly #color: boolean;
  readonly #echo: boolean;
  readonly #width: number | undefined;
  readonly #progressIntervalMs: number;
  readonly #now: () => Date;
  readonly #finish: () => void;
  readonly #filesDirectory: string;
  /** The titles of threads started here, by thread id. */
  readonly #threads = new Map<string, string>();
  #user: string;
  readonly #impersonationOff: string | undefined;
  #handler: InboundHandler | undefined;
  #reader: Interface | undefined;
  #reading = false;
  #stopped = false;
  /** Whether the next message or echo is set apart by a blank line. */
  #gap = false;
  #nextMessage = 1;
  #invalidLines = 0;
  readonly #work = new Set<Promise<void>>();
  readonly #messages = new Map<string, MessageState>();
  /** In a terminal, the message printed last and how many rows it takes, while nothing follows it. */
  #lastShown: { readonly messageId: string; readonly rows: number } | undefined;

  constructor(options: ConsoleAdapterOptions) {
    this.#input = options.input;
    this.#output = options.output;
    this.#user = options.user;
    this.#impersonationOff = options.impersonationOff;
    this.platform = options.platform ?? 'console';
    this.#channel = { channel: options.channel ?? 'console' };
    this.#interactive = options.interactive ?? (isTty(options.input) && isTty(options.output));
    this.#color = options.color ?? (this.#interactive && !process.env.NO_COLOR);
    this.#echo = options.echo ?? (!this.#interactive && this.platform === 'console');
    this.#width = options.width;
    this.#progressIntervalMs = options.progressIntervalMs ?? 2_000;
    this.#now = options.now ?? (() => new Date());
    this.#filesDirectory = options.filesDirectory ?? DEFAULT_FILES_DIRECTORY;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.done = promise;
    this.#finish = resolve;
  }

  /** The user commands are currently typed as. */
  get user(): string {
    return this.#user;
  }

  /**
   * Lines the console turned down itself, never reaching the bot: text that is not a command,
   * a user name `/as` cannot take. Bad input, as the bot's `invalid` results are.
   */
  get invalidLines(): number {
    return this.#invalidLines;
  }

  async start(handler: InboundHandler): Promise<void> {
    if (this.#handler) throw new Error('the console adapter has already been started');
    this.#handler = handler;
    if (this.#stopped) return;
    const reader = createInterface({
      input: this.#input,
      output: this.#interactive ? this.#output : undefined,
      terminal: this.#interactive,
      prompt: this.#prompt(),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    this.#reader = reader;
    this.#reading = true;
    if (this.#interactive) {
      // The typed line now sits below the last message: it can no longer be redrawn in place.
      reader.on('line', () => {
        this.#lastShown = undefined;
        this.#gap = false;
      });
      reader.on('SIGINT', () => this.#interrupt(reader));
      reader.prompt();
    }
    void this.#read(reader);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reader) this.#reader.close();
    else if (!this.#handler) void this.#settle();
  }

  /**
   * Keeps `done` pending until `work` settles, for work a command started that outlives its
   * handler (a queued job), so a script's session ends only once that work is finished.
   */
  waitFor(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#work.add(settled);
    void settled.then(() => this.#work.delete(settled));
  }

  async startThread(parent: MessageRef, title: string): Promise<ChannelRef> {
    const thread = parent.thread ?? parent.messageId;
    this.#threads.set(thread, title);
    return { channel: parent.channel, thread };
  }

  replyTo(event: InboundEvent): ReplyChannel {
    return replyChannel(this, event);
  }

  async post(to: ChannelRef, posted: ChatMessage): Promise<MessageRef> {
    const message = fitMessage(posted, this.limits);
    const messageId = `m${this.#nextMessage++}`;
    const ref: MessageRef = to.thread
      ? { channel: to.channel, thread: to.thread, messageId }
      : { channel: to.channel, messageId };
    const state: MessageState = { ref, files: new Map(), shown: message, shownAt: Date.now() };
    this.#messages.set(messageId, state);
    if (message.attachments?.length) await this.#writeFiles(state, message.attachments);
    this.#printMessage(state, message);
    return ref;
  }

  async update(ref: MessageRef, updated: ChatMessage): Promise<void> {
    const message = fitMessage(updated, this.limits);
    const state = this.#messages.get(ref.messageId);
    if (!state) {
      // Not posted in this session (a message from before a restart): show it as new.
      const fresh: MessageState = { ref, files: new Map(), shown: message, shownAt: Date.now() };
      this.#messages.set(ref.messageId, fresh);
      if (message.attachments?.length) await this.#writeFiles(fresh, message.attachments);
      this.#printMessage(fresh, message);
      return;
    }
    if (message.attachments?.length) await this.#writeFiles(state, message.attachments);
    if (this.#canRedraw(ref.messageId)) {
      this.#show(state, message);
      return;
    }
    if (visibleContent(message) === visibleContent(state.shown)) {
      this.#release(state);
      return;
    }
    const progressOnly =
      contentApartFromProgress(message) === contentApartFromProgress(state.shown);
    const wait = state.shownAt + this.#progressIntervalMs - Date.now();
    if (!progressOnly || wait <= 0) {
      this.#show(state, message);
      return;
    }
    state.held = message;
    state.timer ??= setTimeout(() => {
      state.timer = undefined;
      const held = state.held;
      state.held = undefined;
      if (held) this.#show(state, held);
    }, wait);
  }

  /** Prints every update held back by progress throttling. */
  async flush(): Promise<void> {
    for (const state of this.#messages.values()) {
      const held = state.held;
      this.#release(state);
      if (held) this.#show(state, held);
    }
  }

  async #read(reader: Interface): Promise<void> {
    try {
      for await (const line of reader) {
        // Lines read before a stop() are still queued in the iterator: drop them.
        if (this.#stopped || !(await this.#onLine(line, reader))) break;
      }
    } catch (error) {
      this.#note(calloutMessage('danger', `Could not read input: ${describeForUser(error)}`));
    } finally {
      this.#reading = false;
      reader.close();
      if (this.#interactive) {
        // Wipe the prompt left behind by Ctrl-D or Ctrl-C.
        cursorTo(this.#output, 0);
        clearScreenDown(this.#output);
      }
      await this.#settle();
    }
  }

  /** Handles one line; false ends the session. */
  async #onLine(line: string, reader: Interface): Promise<boolean> {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) {
      if (this.#interactive) reader.prompt();
      return true;
    }
    if (this.#echo) this.#printEcho(`${this.#prompt()}${text}`);
    if (QUIT.test(text)) return false;

    const as = this.platform === 'console' ? AS.exec(text) : null;
    if (as) {
      this.#switchUser(as[1]?.trim() ?? '', reader);
    } else if (!text.startsWith('/')) {
      this.#invalidLines++;
      this.#note(context('Commands start with /, try /help.'));
    } else {
      const event: InboundEvent = {
        kind: 'command',
        identity: { platform: this.platform, id: this.#user },
        channel: this.#channel,
        text,
        // Nobody waits on the console: a private answer is printed like any other.
        ack: silentAcknowledgement(async (message) => this.#note(message)),
      };
      const handled = this.#dispatch(event);
      if (this.#interactive) this.waitFor(handled);
      else await handled;
    }
    if (this.#interactive && this.#reading) reader.prompt();
    return true;
  }

  #switchUser(name: string, reader: Interface): void {
    if (name === '') {
      this.#note(
        context(`Acting as ${this.#user} (${this.platform}:${this.#user}). /as NAME switches.`),
      );
      return;
    }
    if (this.#impersonationOff !== undefined) {
      this.#invalidLines++;
      this.#note(calloutMessage('warning', this.#impersonationOff));
      return;
    }
    const problem = userNameProblem(name);
    if (problem) {
      this.#invalidLines++;
      this.#note(calloutMessage('warning', `${problem} (/as bob).`));
      return;
    }
    this.#user = name;
    reader.setPrompt(this.#prompt());
    this.#note(context(`Now acting as ${name} (${this.platform}:${name}).`));
  }

  async #dispatch(event: InboundEvent): Promise<void> {
    try {
      await this.#handler?.(event);
    } catch (error) {
      // The bot reports its own failures; this is the last resort that keeps the console alive.
      const what = event.kind === 'command' ? event.text : event.actionId;
      const why = error instanceof Error ? error.message : String(error);
      this.#note(calloutMessage('danger', `${what} failed: ${why}`));
    }
  }

  #interrupt(reader: Interface): void {
    if (reader.line !== '') {
      // Ctrl-C on a half-typed line drops the line, as shells do.
      reader.write(null, { ctrl: true, name: 'e' });
      reader.write(null, { ctrl: true, name: 'u' });
      return;
    }
    this.#stopped = true;
    reader.close();
  }

  async #settle(): Promise<void> {
    if (this.#interactive && this.#work.size > 0) {
      const n = this.#work.size;
      this.#note(context(`Waiting for ${n} running command${n === 1 ? '' : 's'} to finish…`));
    }
    while (this.#work.size > 0) await Promise.all(this.#work);
    await this.flush();
    this.#finish();
  }

  #prompt(): string {
    return `${this.#user}> `;
  }

  #columns(): number {
    const columns = (this.#output as { columns?: unknown }).columns;
    return typeof columns === 'number' && columns > 0 ? columns : 80;
  }

  #render(message: ChatMessage, files?: ReadonlyMap<string, string>): string {
    const width = this.#width ?? (this.#interactive ? this.#columns() : 80);
    return renderMessage(message, { width, color: this.#color, ...(files ? { files } : {}) });
  }

  /**
   * A message as printed: in a thread, indented under a line naming the thread, so it reads as
   * part of the message the thread hangs from.
   */
  #body(state: MessageState, message: ChatMessage): string {
    const { thread } = state.ref;
    if (!thread) return this.#render(message, state.files);
    const width = this.#width ?? (this.#interactive ? this.#columns() : 80);
    const inner = renderMessage(message, {
      width: Math.max(20, width - 4),
      color: this.#color,
      files: state.files,
    });
    const title = this.#threads.get(thread);
    const label = `  ↳ in thread ${title ? `"${title}" ` : ''}(under ${thread})`;
    const lines = inner.split('\n').map((line) => (line === '' ? '  │' : `  │ ${line}`));
    return [this.#color ? `\x1b[2m${label}\x1b[0m` : label, ...lines].join('\n');
  }

  /**
   * Writes the attachments not written yet into the files directory, each under a new name
   * (`20261122T120000Z-k3x9q2-chart.png`: never a path taken from the message), private to
   * this user. A file that cannot be written is shown as such; the message is printed anyway.
   */
  async #writeFiles(state: MessageState, attachments: readonly Attachment[] | undefined) {
    for (const attachment of attachments ?? []) {
      if (state.files.has(attachment.filename)) continue;
      try {
        await mkdir(this.#filesDirectory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
        state.files.set(attachment.filename, await this.#writeFile(attachment));
      } catch (error) {
        state.files.set(attachment.filename, `not saved (${describeForUser(error)})`);
      }
    }
  }

  async #writeFile(attachment: Attachment): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const name = `${compactTimestamp(this.#now())}-${randomSuffix(6)}-${safeFileName(attachment.filename)}`;
      const path = join(this.#filesDirectory, name);
      try {
        // `wx`: a new file, never one that is there already (nor a link planted under the name).
        await writeFile(path, attachment.data, { flag: 'wx', mode: PRIVATE_FILE_MODE });
        await chmod(path, PRIVATE_FILE_MODE);
        return path;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
      }
    }
  }

  #release(state: MessageState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    state.held = undefined;
  }

  #canRedraw(messageId: string): boolean {
    if (!this.#interactive || this.#lastShown?.messageId !== messageId) return false;
    const rows = (this.#output as { rows?: unknown }).rows;
    // Cursor movement cannot reach rows that have scrolled off the top of the screen.
    return typeof rows !== 'number' || rows <= 0 || this.#lastShown.rows < rows - 1;
  }

  /** Shows a new version of a message: redrawn in place when possible, else printed anew. */
  #show(state: MessageState, message: ChatMessage): void {
    const { ref } = state;
    this.#release(state);
    state.shown = message;
    state.shownAt = Date.now();
    const last = this.#lastShown;
    if (!last || !this.#canRedraw(ref.messageId)) {
      this.#printMessage(state, message);
      return;
    }
    const body = this.#body(state, message);
    this.#writeAbovePrompt(`${body}\n`, last.rows);
    this.#lastShown = { messageId: ref.messageId, rows: this.#rows(body) };
  }

  #printMessage(state: MessageState, message: ChatMessage): void {
    const { ref } = state;
    const body = this.#body(state, message);
    if (this.#interactive) {
      const heading = this.#heading(ref);
      this.#writeAbovePrompt(`${this.#gap ? '\n' : ''}${heading}\n${body}\n`, 0);
      this.#lastShown = { messageId: ref.messageId, rows: this.#rows(body) };
    } else {
      this.#writeAbovePrompt(`${this.#gap ? '\n' : ''}${body}\n`, 0);
    }
    this.#gap = true;
  }

  /** A command echo: set apart from the output before it, followed by its own output. */
  #printEcho(line: string): void {
    this.#writeAbovePrompt(`${this.#gap ? '\n' : ''}${line}\n`, 0);
    this.#gap = false;
    this.#lastShown = undefined;
  }

  /** A line from the console itself (hints, user switches, errors), not a bot message. */
  #note(message: ChatMessage): void {
    this.#writeAbovePrompt(`${this.#render(message)}\n`, 0);
    this.#gap = true;
    this.#lastShown = undefined;
  }

  #heading(ref: MessageRef): string {
    const time = this.#now().toTimeString().slice(0, 8);
    const where = ref.channel === this.#channel.channel ? '' : ` · #${ref.channel}`;
    const heading = `lifeboat · ${time}${where}`;
    return this.#color ? `\x1b[2m${heading}\x1b[0m` : heading;
  }

  /**
   * Writes text where the prompt is, `rowsAbove` rows higher (to replace what is there), then
   * draws the prompt and the half-typed line again below it.
   */
  #writeAbovePrompt(text: string, rowsAbove: number): void {
    const reader = this.#interactive && this.#reading ? this.#reader : undefined;
    if (!this.#interactive) {
      this.#output.write(text);
      return;
    }
    const promptRows = reader ? reader.getCursorPos().rows : 0;
    if (promptRows + rowsAbove > 0) moveCursor(this.#output, 0, -(promptRows + rowsAbove));
    cursorTo(this.#output, 0);
    clearScreenDown(this.#output);
    this.#output.write(text);
    reader?.prompt(true);
  }

  #rows(text: string): number {
    const columns = this.#columns();
    return text
      .split('\n')
      .reduce((rows, line) => rows + Math.max(1, Math.ceil(visibleLength(line) / columns)), 0);
  }
}

function isTty(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: unknown }).isTTY === true;
}

function context(text: string): ChatMessage {
  return { text, blocks: [{ type: 'context', text }] };
}

/** What a reader sees of a message: its blocks, or its text when it has none. */
function visibleContent(message: ChatMessage): string {
  return message.blocks.length > 0 ? JSON.stringify(message.blocks) : message.text;
}

function contentApartFromProgress(message: ChatMessage): string {
  if (message.blocks.length === 0) return message.text;
  return JSON.stringify(message.blocks.filter((block) => block.type !== 'progress'));
}

/**
 * A file name that is only a name: the last part of whatever was given, letters, digits, `.`,
 * `-` and `_` only, no leading dot, at most 80 characters.
 */
export function safeFileName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const safe = last
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-80);
  return safe === '' || /^[._-]*$/.test(safe) ? 'file' : safe;
}
