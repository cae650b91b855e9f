import type { Button } from '../chat/message.ts';

/**
 * Buttons that run a command carry it in their action id: `cmd:backup create full`. A click then
 * goes through the same parsing, role checks and handler as the typed command, as the person who
 * clicked. Approval buttons carry only the request id (`cmd:approve apr_…`), never the action.
 */
const PREFIX = 'cmd:';

/** Discord's custom_id limit, the tighter of the two platforms. */
export const MAX_ACTION_ID_LENGTH = 100;

/**
 * A button that runs `command` (written as typed: `/backup create full`), or undefined when the
 * command is too long to fit in an action id; the message should then show the typed command.
 */
export function commandButton(
  label: string,
  command: string,
  style?: Button['style'],
): Button | undefined {
  const typed = `/${command.trim().replace(/^\//, '')}`;
  const actionId = `${PREFIX}${typed.slice(1)}`;
  if (actionId.length > MAX_ACTION_ID_LENGTH) return undefined;
  return { actionId, label, command: typed, ...(style ? { style } : {}) };
}

/** The typed command a button's action id stands for, or undefined for other action ids. */
export function commandFromActionId(actionId: string): string | undefined {
  if (!actionId.startsWith(PREFIX)) return undefined;
  return `/${actionId.slice(PREFIX.length)}`;
}
