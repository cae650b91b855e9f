import type { Services } from '../app/services.ts';
import type { ApprovalRequest } from '../approvals/approval-request.ts';
import type { ChannelRef } from '../chat/chat-adapter.ts';
import type { ChatMessage } from '../chat/message.ts';
import type { ReplyChannel } from '../chat/reply-channel.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import type {
  ArgsOf,
  CommandSpec,
  FlagSpec,
  ParsedArgs,
  PositionalSpec,
} from '../core/command-grammar.ts';
import type { Identity } from '../core/identity.ts';

export type { ReplyChannel } from '../chat/reply-channel.ts';

/**
 * How a command ended. The CLI prints the result as JSON for `--json` and exits 0 only for
 * `ok`, `completed` and `passed` (a verification that found the backup sound). `error` is a
 * verification that could not check (no store, no key, no scratch server): unlike `failed`, it
 * says nothing about the backup; the CLI exits 3 for it.
 */
export type CommandStatus =
  | 'ok'
  | 'completed'
  | 'passed'
  | 'failed'
  | 'error'
  | 'invalid'
  | 'refused'
  | 'unavailable'
  | 'awaiting_approval';

export interface CommandResult {
  readonly status: CommandStatus;
  /** The backup, request or run the command is about, when there is one. */
  readonly id?: string;
  /**
   * The work completed, but something is not in its result: a backup that left out files it
   * could not archive whole (its `warnings` say which). The CLI exits 4 for it.
   */
  readonly incomplete?: boolean;
  readonly [key: string]: unknown;
}

/** True for the statuses the CLI exits 0 for. */
export function succeeded(result: CommandResult): boolean {
  return result.status === 'ok' || result.status === 'completed' || result.status === 'passed';
}

/** The subset of pino's logger the command layer uses. */
export interface CommandLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a handler gets besides its arguments. */
export interface CommandContext {
  readonly identity: Identity;
  /** `platform:id` of the person running the command. */
  readonly requestedBy: string;
  readonly channel: ChannelRef;
  readonly reply: ReplyChannel;
  readonly services: Services;
  readonly config: LifeboatConfig;
  readonly logger: CommandLogger;
  /** The whole grammar, for `/help`. */
  readonly commands: readonly Command[];
  /** The command being run. */
  readonly command: Command;
  /** The command as typed (or as its button stands for): `/restore latest --profile db`. */
  readonly text: string;
  /**
   * Posts to the alerts channel of the platform the command came from (`chat.channels.alerts`),
   * or to the command's own channel when none is configured; never throws.
   */
  readonly alert: (message: ChatMessage) => Promise<void>;
  readonly now: () => Date;
  /** Least time between two progress updates of one message. */
  readonly progressIntervalMs: number;
  /**
   * Runs the command an approved request holds, as its requester, with the policy already
   * satisfied by the request (roles are still checked). Only the vote that completed the
   * request calls it, once.
   */
  readonly runApproved: (request: ApprovalRequest) => Promise<CommandResult>;
  /**
   * Runs `text` as if `as` (an identity key, `platform:id`, of this platform) had typed it in
   * this channel: the same parsing, roles, approval policies, handler and audit; resolves when
   * its work is done. A runbook step's commands go through it, as the person who pressed Run.
   */
  readonly runAs: (
    text: string,
    as: string,
    onStarted?: (id: string) => Promise<void>,
  ) => Promise<CommandResult>;
  /**
   * Called by a handler as soon as its work has an id (`bk_…`, `rs_…`, `vf_…` queued), before
   * it waits for the work: a runbook step records it, so after a restart it waits for that job
   * instead of running the command again. @defaultValue absent: nobody needs to know
   */
  readonly onStarted?: (id: string) => Promise<void>;
}

/** A command of the grammar with its handler. */
export interface Command extends CommandSpec {
  readonly handler: (ctx: CommandContext, args: ParsedArgs) => Promise<CommandResult>;
}

/** A command's declaration, with a handler typed by its positionals and flags. */
export interface CommandDefinition<
  P extends readonly PositionalSpec[],
  F extends readonly FlagSpec[],
> extends Omit<CommandSpec, 'positionals' | 'flags'> {
  readonly positionals: P;
  readonly flags: F;
  readonly handler: (ctx: CommandContext, args: ArgsOf<P, F>) => Promise<CommandResult>;
}

/**
 * Declares a command. The handler sees arguments typed from the declaration; the parser, which
 * is driven by the same declaration, guarantees that shape at run time.
 */
export function defineCommand<
  const P extends readonly PositionalSpec[],
  const F extends readonly FlagSpec[],
>(definition: CommandDefinition<P, F>): Command {
  const { handler, ...spec } = definition;
  return { ...spec, handler: (ctx, args) => handler(ctx, args as ArgsOf<P, F>) };
}
