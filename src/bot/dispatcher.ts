import type { InboundEvent } from '../chat/chat-adapter.ts';
import type { ChatMessage } from '../chat/message.ts';
import type { ReplyChannel } from '../chat/reply-channel.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { decideAccess } from '../core/command-access.ts';
import { commandName } from '../core/command-grammar.ts';
import { CommandError, ConfigError, PolicyError, UserFacingError } from '../core/errors.ts';
import { identityKey } from '../core/identity.ts';
import { randomSuffix } from '../core/ids.ts';
import { parseCommand } from '../core/parse-command.ts';
import type { Command, CommandLogger, CommandResult, CommandStatus } from './command.ts';
import { commandFromActionId } from './command-buttons.ts';
import { checkConfigReferences } from './config-references.ts';
import type { Services } from './services.ts';
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
   * Parses the command (or the click's command), checks roles and config names, runs the
   * handler and posts its answers to `reply`. Resolves when the command's work is done (a
   * backup: when it completed or failed), so chat adapters acknowledge first and do not await
   * it. Never throws: bad input posts one message and resolves `invalid` without starting work.
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

  async function answer(reply: ReplyChannel, message: ChatMessage): Promise<void> {
    try {
      await reply.post(message);
    } catch (error) {
      logger.error({ err: error }, 'could not post an answer');
    }
  }

  async function run(event: InboundEvent, reply: ReplyChannel): Promise<CommandResult> {
    const requestedBy = identityKey(event.identity);
    const text = event.kind === 'command' ? event.text : commandFromActionId(event.actionId);
    if (text === undefined) {
      const error =
        'That button is not one this version of Lifeboat knows. Type the command instead; `/help` lists them.';
      await answer(reply, invalidInputMessage(error));
      return { status: 'invalid', error };
    }

    const parsed = parseCommand(text, commands);
    if (!parsed.ok) {
      const message =
        parsed.reason === 'incomplete_command'
          ? subcommandsMessage(parsed.error)
          : invalidInputMessage(parsed.error);
      await answer(reply, message);
      return {
        status: 'invalid',
        reason: parsed.reason,
        error: parsed.error,
        ...(parsed.command ? { command: commandName(parsed.command) } : {}),
      };
    }
    const { command, args } = parsed;
    const name = commandName(command);

    const access = decideAccess({
      identity: requestedBy,
      command: name,
      gated: command.gated,
      roles: config.roles,
    });
    if (!access.allowed) {
      logger.info({ identity: requestedBy, command: name }, 'command refused: no role');
      await answer(reply, refusedMessage(access.reason));
      return { status: 'refused', command: name, error: access.reason };
    }
    checkConfigReferences(command, args, config);

    const result = await command.handler(
      {
        identity: event.identity,
        requestedBy,
        channel: event.channel,
        reply,
        services,
        config,
        logger,
        commands,
        command,
        now,
        progressIntervalMs,
      },
      args,
    );
    logger.info(
      { identity: requestedBy, command: name, status: result.status, id: result.id },
      'command finished',
    );
    return result;
  }

  return {
    async handle(event, reply) {
      try {
        return await run(event, reply);
      } catch (error) {
        if (error instanceof UserFacingError) {
          await answer(
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
        await answer(reply, failureMessage(message));
        return { status: 'failed', error: message, reference };
      }
    },
  };
}
