/** Interaction tokens in REST paths: `/webhooks/{app}/{token}`, `/interactions/{id}/{token}`. */
const TOKEN_IN_PATH = /\/(webhooks|interactions)\/(\d+)\/[^/\s?"]+/g;

function redactPaths(text: string): string {
  return text.replace(TOKEN_IN_PATH, '/$1/$2/[redacted]');
}

/**
 * An error as the logs may show it: discord.js's errors carry the request URL, and an
 * interaction's URL holds its token (anyone with it can answer as the bot for 15 minutes).
 */
export function loggableError(error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? redactPaths(error) : error;
  const fields = error as Error & {
    url?: unknown;
    code?: unknown;
    status?: unknown;
    method?: unknown;
  };
  const safe = new Error(redactPaths(error.message));
  safe.name = error.name;
  safe.stack = error.stack ? redactPaths(error.stack) : undefined;
  return Object.assign(safe, {
    ...(typeof fields.url === 'string' ? { url: redactPaths(fields.url) } : {}),
    ...(fields.code !== undefined ? { code: fields.code } : {}),
    ...(fields.status !== undefined ? { status: fields.status } : {}),
    ...(typeof fields.method === 'string' ? { method: fields.method } : {}),
  });
}
