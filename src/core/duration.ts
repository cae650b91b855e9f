/** Milliseconds per unit of a config duration (`90s`, `30m`, `24h`, `7d`). */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration as the config writes it: a number and s, m, h or d. */
export const DURATION_PATTERN = /^(\d+)(s|m|h|d)$/;

/** Whether `text` is a duration as the config writes them: a number and s, m, h or d. */
export function isDuration(text: string): boolean {
  return DURATION_PATTERN.test(text.trim());
}

/**
 * `30m` → 1 800 000. The config schema validates durations before they get here.
 * @throws Error for anything that is not a number and one of s, m, h, d.
 */
export function parseDuration(text: string): number {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m?.[1] || !m[2]) {
    throw new Error(`"${text}" is not a duration: a number and a unit, as in 90s, 30m, 24h or 7d`);
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
