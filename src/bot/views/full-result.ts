/**
 * The command line that prints a chat command's whole answer: the CLI prints every message
 * whole, with no platform's limits to cut it. For `ChatMessage.fullResult` on views that can
 * outgrow a chat message and are themselves the full answer (`/backup list`, `/status`).
 */
export function onCommandLine(typed: string): string {
  return `lifeboat ${typed.trim().replace(/^\//, '')}`;
}
