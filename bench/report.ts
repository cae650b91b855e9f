import type { SizeResult } from './results.ts';
import { ratios, rssVerdicts, type TargetVerdict, verdicts } from './targets.ts';

/** The results as the table `npm run bench` prints. */
export function renderReport(results: readonly SizeResult[], machine: string): string {
  const lines: string[] = [`Lifeboat benchmark — ${machine}`, ''];
  for (const result of results) {
    lines.push(
      `== ${result.database} (pgbench scale ${result.scale}): pg_database_size ${mb(result.databaseBytes)}, pg_dump -Z0 ${mb(result.dumpBytes)}; directory: ${result.directoryFiles} files, ${mb(result.directoryBytes)}`,
      "   MB/s = raw source bytes (the -Z0 dump, or the files) / median wall time; CPU s = user + system of the run's",
      "   processes (not the PostgreSQL server's); peak RSS = sum of VmHWM over the process tree, largest of the repeats",
      '',
    );
    lines.push(
      ...table(
        ['run', 'MB/s', 'wall s', 'CPU s', 'output', 'peak RSS'],
        result.rows.map((r) => [
          r.label,
          r.mbPerSecond.toFixed(1),
          r.wallSeconds.toFixed(2),
          r.cpuSeconds === null ? '' : r.cpuSeconds.toFixed(2),
          mb(r.outputBytes),
          mib(r.peakRssBytes),
        ]),
      ),
      '',
    );
    lines.push(
      ...table(
        ['ratio', 'speed', 'size'],
        ratios(result).map((r) => [
          r.name,
          `${r.speed.toFixed(2)}×`,
          r.size === null ? '' : `${r.size.toFixed(2)}×`,
        ]),
      ),
      '',
    );
    lines.push(...verdictLines(verdicts(result)), '');
  }
  const rss = rssVerdicts(results);
  if (rss.length > 0) lines.push('== peak RSS as the size grows', ...verdictLines(rss), '');
  return lines.join('\n');
}

function verdictLines(list: readonly TargetVerdict[]): string[] {
  return list.map((v) => `   ${v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.measured}`);
}

/** Left-aligned first column, right-aligned figures. */
function table(header: readonly string[], rows: readonly string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `   ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function mb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}
