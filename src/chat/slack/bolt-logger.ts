import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../logging/logger.ts';

/**
 * Bolt's logger interface on top of Lifeboat's pino logger, so Bolt's lines are structured and
 * pass through the same redaction. Bolt's debug and info chatter goes to debug.
 */
export function boltLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const line = (parts: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ');
  return {
    debug: (...parts) => child.debug(line(parts)),
    info: (...parts) => child.debug(line(parts)),
    warn: (...parts) => child.warn(line(parts)),
    error: (...parts) => child.error(line(parts)),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
