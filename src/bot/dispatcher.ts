import type { Services } from '../app/services.ts';
import type { ApprovalRequest } from '../approvals/approval-request.ts';
import { auditEvent, recordAudit } from '../audit/audit-recorder.ts';
import type { InboundEvent } from '../chat/chat-adapter.ts';
import { stripMarkers } from '../chat/mention.ts';
import type { ChatMessage } from '../chat/message.ts';
import type { ReplyChannel } from '../chat/reply-channel.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { decideAccess } from '../core/command-access.ts';
import { commandName, type ParsedArgs } from '../core/command-grammar.ts';
import { CommandError, ConfigError, PolicyError, UserFacingError } from '../core/errors.ts';
import { identityKey, parseIdentityKey } from '../core/identity.ts';
import { randomSuffix } from '../core/ids.ts';
import { parseCommand } from '../core/parse-command.ts';
import { askForApproval } from './approval-flow.ts';
import type {
  Command,
  CommandContext,
  CommandLogger,
  CommandResult,
  CommandStatus,
} from './command.ts';
import { commandApprovalNeed } from './command-approval.ts';
import { commandFromActionId } from './command-buttons.ts';
import { checkConfigReferences } from './config-references.ts';
import {
  failureMessage,
  invalidInputMessage,
  refusedMessage,
  subcommandsMessage,
} from './views/notice.ts';

export type { CommandResult, CommandStatus, ReplyChannel };

export interface DispatcherOptions {
  readonly commands: readonly Command[];
  readonly services: Services;
  readonly config: LifeboatConfig;
  /** @defaultValue a logger that writes errors to standard error */
  readonly logger?: CommandLogger;
  /**
   * Least time between two progress updates of one message.
   * @defaultValue 2000
   */
  readonly progressIntervalMs?: number;
  /** @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

/** Runs commands and button clicks from any chat platform, the console and the CLI. */
export interface Dispatcher {
  /**
   * Parses the command (or the click's command), checks roles and config names, acknowledges
   * the event (`event.ack.accept()`, before any slow work), runs the handler and posts its
   * answers to `reply`. Resolves when the command's work is done (a backup: when it completed or
   * failed). Never throws: bad input, refusals and errors go privately to the sender
   * (`reply.postPrivately`, which also acknowledges) and resolve without starting work.
   */
  handle(event: InboundEvent, reply: ReplyChannel): Promise<CommandResult>;
}

const fallbackLogger: CommandLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/** The first line of an unexpected error's message, cut short: details go to the logs. */
function shortDescription(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0]?.trim() || 'unknown error';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** How a user-facing error thrown by a handler ends the command. */
function statusOf(error: UserFacingError): CommandStatus {
  if (error instanceof PolicyError) return 'refused';
  if (error instanceof CommandError || error instanceof ConfigError) return 'invalid';
  return 'failed';
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { commands, services, config } = options;
  const logger = options.logger ?? fallbackLogger;
  const now = options.now ?? (() => new Date());
  const progressIntervalMs = options.progressIntervalMs ?? 2000;

  /** Only the sender sees it: bad input, refusals, errors. Never throws. */
  async function answerPrivately(reply: ReplyChannel, message: ChatMessage): Promise<void> {
    try {
      await reply.postPrivately(message);
    } catch (error) {
      logger.error({ err: error }, 'could not post an answer');
    }
  }

  /**
   * Tells the platform the event was taken, once the command is understood and allowed and
   * before any slow work. A failed acknowledgement is logged; the command goes on (the adapter's
   * deadline, or the platform's retry, covers it).
   */
  async function acknowledge(event: InboundEvent): Promise<void> {
    try {
      await event.ack.accept();
    } catch (error) {
      logger.warn({ err: error, identity: identityKey(event.identity) }, 'could not acknowledge');
    }
  }

  /** What the audit entry of a command needs to know, filled in as the command is understood. */
  interface Seen {
    text: string | null;
    args: ParsedArgs | null;
  }

  async function run(
    event: InboundEvent,
    reply: ReplyChannel,
    seen: Seen,
    grant?: ApprovalRequest,
    onStarted?: (id: string) => Promise<void>,
  ): Promise<CommandResult> {
    const requestedBy = identityKey(event.identity);
    // Typed text never carries a mention: markers in it are dropped before anything shows it.
    const raw = event.kind === 'command' ? event.text : commandFromActionId(event.actionId);
    const text = raw === undefined ? undefined : stripMarkers(raw);
    seen.text = text ?? null;
    if (text === undefined) {
      const error =
        'That button is not one this version of Lifeboat knows. Type the command instead; `/help` lists them.';
      await answerPrivately(reply, invalidInputMessage(error));
      return { status: 'invalid', error };
    }

    const parsed = parseCommand(text, commands);
    if (!parsed.ok) {
      const message =
        parsed.reason === 'incomplete_command'
          ? subcommandsMessage(parsed.error)
          : invalidInputMessage(parsed.error);
      await answerPrivately(reply, message);
      return {
        status: 'invalid',
        reason: parsed.reason,
        error: parsed.error,
        ...(parsed.command ? { command: commandName(parsed.command) } : {}),
      };
    }
    const { command, args } = parsed;
    seen.args = args;
    const name = commandName(command);

    const access = decideAccess({
      identity: requestedBy,
      command: name,
      gated: command.gated,
      roles: config.roles,
    });
    if (!access.allowed) {
      logger.info({ identity: requestedBy, command: name }, 'command refused: no role');
      await answerPrivately(reply, refusedMessage(access.reason));
      return { status: 'refused', command: name, error: access.reason };
    }
    checkConfigReferences(command, args, config);
    // Understood and allowed: the platform hears so now, before the database, the queue or the
    // handler, whose answers follow as messages.
    await acknowledge(event);

    const ctx: CommandContext = {
      identity: event.identity,
      requestedBy,
      channel: event.channel,
      reply,
      services,
      config,
      logger,
      commands,
      command,
      text,
      now,
      progressIntervalMs,
      alert: (message) => alert(event, reply, message),
      runApproved: (request) => runApproved(request, event, reply),
      runAs: (typed, as, started) => runAs(typed, as, event, reply, started),
      ...(onStarted ? { onStarted } : {}),
    };
    // A policy on this command (other than /restore, which judges its planned destinations
    // itself) turns it into an approval request, unless an approved request is what runs it.
    const need = grant
      ? null
      : commandApprovalNeed(command, args, text, config, services.approvals);
    if (need) return askForApproval(ctx, need);

    const result = await command.handler(ctx, args);
    logger.info(
      { identity: requestedBy, command: name, status: result.status, id: result.id },
      'command finished',
    );
    return result;
  }

  /** The alerts channel of the event's platform, else the command's own channel. */
  async function alert(event: InboundEvent, reply: ReplyChannel, message: ChatMessage) {
    const channel = config.chat.channels.alerts?.[event.identity.platform as 'slack'];
    try {
      if (channel && reply.postTo) await reply.postTo({ channel }, message);
      else await reply.post(message);
    } catch (error) {
      logger.error({ err: error }, 'could not post an alert');
    }
  }

  /** Runs an approved request's command as its requester, in the approver's channel. */
  function runApproved(
    request: ApprovalRequest,
    via: InboundEvent,
    reply: ReplyChannel,
  ): Promise<CommandResult> {
    if (request.payload.type !== 'command') {
      throw new Error(`request ${request.id} holds a ${request.payload.type}, not a command`);
    }
    const identity = parseIdentityKey(request.requestedBy);
    if (!identity) throw new Error(`request ${request.id} has a malformed requester`);
    return handle(
      // The approver's click is what is being answered: private notes go to them.
      { kind: 'command', identity, channel: via.channel, text: request.payload.text, ack: via.ack },
      reply,
      request,
    );
  }

  /** Runs typed text as `as`, answering in the event's channel; never with an approval grant. */
  function runAs(
    text: string,
    as: string,
    via: InboundEvent,
    reply: ReplyChannel,
    onStarted?: (id: string) => Promise<void>,
  ): Promise<CommandResult> {
    const identity = parseIdentityKey(as);
    if (!identity) throw new Error(`cannot run a command as malformed identity ${as}`);
    return handle(
      { kind: 'command', identity, channel: via.channel, text, ack: via.ack },
      reply,
      undefined,
      onStarted,
    );
  }

  async function handle(
    event: InboundEvent,
    reply: ReplyChannel,
    grant?: ApprovalRequest,
    onStarted?: (id: string) => Promise<void>,
  ): Promise<CommandResult> {
    const seen: Seen = { text: null, args: null };
    const result = await guarded(event, reply, seen, grant, onStarted);
    await recordAudit(
      services.audit,
      auditEvent({
        identity: identityKey(event.identity),
        platform: event.identity.platform,
        channel: event.channel.channel,
        action: 'command',
        command: seen.text ?? (event.kind === 'action' ? `button ${event.actionId}` : null),
        args: seen.args ? { ...seen.args } : null,
        requestId: grant?.id ?? requestIdOf(result),
        outcome: result.status,
        detail: auditDetail(result, grant),
      }),
      logger,
    );
    return result;
  }

  async function guarded(
    event: InboundEvent,
    reply: ReplyChannel,
    seen: Seen,
    grant: ApprovalRequest | undefined,
    onStarted: ((id: string) => Promise<void>) | undefined,
  ): Promise<CommandResult> {
    try {
      return await run(event, reply, seen, grant, onStarted);
    } catch (error) {
      if (error instanceof UserFacingError) {
        await answerPrivately(
          reply,
          statusOf(error) === 'invalid'
            ? invalidInputMessage(error.message)
            : failureMessage(error.message),
        );
        return { status: statusOf(error), error: error.message, code: error.code };
      }
      const reference = `err_${randomSuffix(8)}`;
      logger.error(
        { err: error, reference, identity: identityKey(event.identity), event },
        'command failed unexpectedly',
      );
      const message = `Something went wrong: ${shortDescription(error)} (see the logs for ${reference})`;
      await answerPrivately(reply, failureMessage(message));
      return { status: 'failed', error: message, reference };
    }
  }

  return { handle: (event, reply) => handle(event, reply) };
}

/** The approval request a result is about, if any. */
function requestIdOf(result: CommandResult): string | null {
  return typeof result.request === 'string' ? result.request : null;
}

/** What the audit keeps of a result besides its status: ids, errors, codes. */
function auditDetail(
  result: CommandResult,
  grant: ApprovalRequest | undefined,
): Record<string, unknown> | null {
  const detail: Record<string, unknown> = {};
  for (const key of ['id', 'error', 'code', 'reason', 'execution', 'backup', 'reference']) {
    if (result[key] !== undefined && result[key] !== null) detail[key] = result[key];
  }
  if (grant) detail.approvedRequest = grant.id;
  return Object.keys(detail).length ? detail : null;
}
