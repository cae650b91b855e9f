import type { StatusReport } from '../app/services.ts';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The status report in Prometheus' text exposition format. */
export function renderMetrics(report: StatusReport): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, type: 'gauge' | 'counter') => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  metric(
    'lifeboat_service_up',
    'Whether a service Lifeboat needs answers (1) or not (0).',
    'gauge',
  );
  for (const s of report.services)
    lines.push(`lifeboat_service_up{service="${label(s.name)}"} ${s.ok ? 1 : 0}`);
  // Figures that need a service that is down are left out rather than reported as 0: an
  // absent series reads as "unknown" to Prometheus; a 0 would read as "no workers".
  if (report.workers !== null) {
    metric('lifeboat_workers', 'Workers connected to the queue.', 'gauge');
    lines.push(`lifeboat_workers ${report.workers}`);
  }
  if (report.queue !== null) {
    metric('lifeboat_queue_jobs', 'Jobs in the queue by state.', 'gauge');
    for (const [state, n] of Object.entries(report.queue))
      lines.push(`lifeboat_queue_jobs{state="${state}"} ${n}`);
  }
  if (report.unknownBackups) {
    metric(
      'lifeboat_store_backups_unknown_to_catalog',
      'Backups with a manifest in the primary store that the catalog does not know (of those looked at).',
      'gauge',
    );
    lines.push(`lifeboat_store_backups_unknown_to_catalog ${report.unknownBackups.ids.length}`);
  }
  metric(
    'lifeboat_backup_last_success_timestamp_seconds',
    'When the last successful backup of a profile finished.',
    'gauge',
  );
  metric(
    'lifeboat_backup_last_duration_seconds',
    'Duration of the last successful backup of a profile.',
    'gauge',
  );
  metric(
    'lifeboat_backup_last_size_bytes',
    'Stored size of the last successful backup of a profile.',
    'gauge',
  );
  for (const p of report.profiles ?? []) {
    const b = p.lastSuccess;
    if (!b?.finishedAt) continue;
    const profile = `profile="${label(p.profile)}"`;
    lines.push(
      `lifeboat_backup_last_success_timestamp_seconds{${profile}} ${Math.floor(b.finishedAt.getTime() / 1000)}`,
    );
    if (b.startedAt) {
      lines.push(
        `lifeboat_backup_last_duration_seconds{${profile}} ${(b.finishedAt.getTime() - b.startedAt.getTime()) / 1000}`,
      );
    }
    lines.push(`lifeboat_backup_last_size_bytes{${profile}} ${b.bytes ?? 0}`);
  }
  return `${lines.join('\n')}\n`;
}
