import { commands } from '../../commands/index.ts';
import type { CommandLogger } from '../../src/bot/command.ts';
import { createDispatcher, type Dispatcher } from '../../src/bot/dispatcher.ts';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { type InMemoryServices, inMemoryServices } from './in-memory-services.ts';
import { TestChat } from './test-chat.ts';
import { testConfig } from './test-config.ts';

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** A logger that keeps what it is given, for assertions. */
export class RecordingLogger implements CommandLogger {
  readonly entries: LogEntry[] = [];
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj: obj as Record<string, unknown>, msg });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
  }
  errors(): LogEntry[] {
    return this.entries.filter((e) => e.level === 'error');
  }
}

export interface TestBot {
  readonly chat: TestChat;
  readonly services: InMemoryServices;
  readonly config: LifeboatConfig;
  readonly logger: RecordingLogger;
  readonly dispatcher: Dispatcher;
  /** Moves the bot's clock. */
  setNow(date: Date): void;
}

/**
 * The real grammar and dispatcher over in-memory services and a test chat, with the clock at
 * 2026-11-22 12:00 UTC and progress updates unthrottled unless asked.
 */
export function testBot(
  options: { config?: LifeboatConfig; user?: string; progressIntervalMs?: number } = {},
): TestBot {
  const config = options.config ?? testConfig();
  let clock = new Date('2026-11-22T12:00:00Z');
  const now = () => clock;
  const services = inMemoryServices(config, now);
  const logger = new RecordingLogger();
  const dispatcher = createDispatcher({
    commands,
    services,
    config,
    logger,
    now,
    progressIntervalMs: options.progressIntervalMs ?? 0,
  });
  const chat = new TestChat(dispatcher, options.user ? { user: options.user } : {});
  return {
    chat,
    services,
    config,
    logger,
    dispatcher,
    setNow: (date) => {
      clock = date;
    },
  };
}
