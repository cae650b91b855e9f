/**
 * Edit distance counting insertions, deletions, substitutions and swaps of two neighbours
 * (`bakcup` is one edit from `backup`), the typos people make at a keyboard.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * `editDistance(a, b)` when it is at most `max`, else `max + 1`, in time proportional to the
 * shorter word times `max`: words whose lengths differ by more than `max` are not compared at
 * all, and a row with nothing within `max` ends the comparison.
 */
export function distanceWithin(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const over = max + 1;
  const cols = b.length + 1;
  let before = new Array<number>(cols).fill(over);
  let previous = Array.from({ length: cols }, (_, j) => (j <= max ? j : over));
  for (let i = 1; i <= a.length; i += 1) {
    const current = new Array<number>(cols).fill(over);
    if (i <= max) current[0] = i;
    let rowBest = current[0] ?? over;
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    for (let j = from; j <= to; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? over) + 1,
        (current[j - 1] ?? over) + 1,
        (previous[j - 1] ?? over) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? over) + 1);
      }
      current[j] = Math.min(best, over);
      rowBest = Math.min(rowBest, current[j] ?? over);
    }
    if (rowBest > max) return over;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length] ?? over, over);
}

/**
 * The candidate closest to `word`, when it is close enough to be what was meant: within one
 * edit for short words, two for longer ones, or a prefix of at least three letters. Time is
 * linear in the number of candidates, whatever their lengths or the word's.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const needle = word.toLowerCase();
  const allowed = needle.length <= 4 ? 1 : 2;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = distanceWithin(needle, candidate.toLowerCase(), allowed);
    if (distance <= allowed && (!best || distance < best.distance)) {
      best = { candidate, distance };
      if (distance === 0) break;
    }
  }
  if (best) return best.candidate;
  if (needle.length >= 3) {
    let prefixed: string | undefined;
    for (const candidate of candidates) {
      if (!candidate.toLowerCase().startsWith(needle)) continue;
      if (prefixed !== undefined) return undefined;
      prefixed = candidate;
    }
    return prefixed;
  }
  return undefined;
}
