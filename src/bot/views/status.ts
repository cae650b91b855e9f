import type { BackupRecord, ProfileStatus, StatusReport } from '../../app/services.ts';
import type { Block, ChatMessage } from '../../chat/message.ts';
import { formatAge, formatBytes, plural } from '../../core/format.ts';
import { verificationStatusText } from '../../verify/verification.ts';
import { onCommandLine } from './full-result.ts';

function backupLine(label: string, backup: BackupRecord | null, now: Date): string {
  if (!backup) return `${label}: never`;
  const when = formatAge(backup.finishedAt ?? backup.createdAt, now);
  const size = backup.bytes === null ? '' : `, ${formatBytes(backup.bytes)}`;
  return `${label}: ${when} (\`${backup.id}\`${size})`;
}

function profileLine(status: ProfileStatus, now: Date): string {
  const schedule = status.schedule ? `schedule \`${status.schedule}\`` : 'on demand';
  const failure = status.lastFailure;
  const success = status.lastSuccess;
  const failedSinceSuccess =
    failure !== null &&
    (success === null || failure.createdAt.getTime() > success.createdAt.getTime());
  const parts = [backupLine('last success', success, now)];
  if (failure) parts.push(backupLine('last failure', failure, now));
  const verification = status.lastVerification;
  if (verification) {
    const when = formatAge(verification.finishedAt ?? verification.startedAt, now);
    parts.push(
      `last verification: ${verificationStatusText(verification.status)} at level ${verification.level}, ${when} (\`${verification.backupId}\`)`,
    );
  }
  const mark = failedSinceSuccess ? '✖' : success ? '✔' : '•';
  return `${mark} ${status.profile} (${schedule}) — ${parts.join('; ')}`;
}

/** What is shown for a figure that needs a service that is down. */
const UNKNOWN = 'unknown (its service is down)';

/** `/status`: services, workers, queue and each profile's last success and failure. */
export function statusMessage(report: StatusReport, now: Date): ChatMessage {
  const down = report.services.filter((s) => !s.ok);
  const blocks: Block[] = [{ type: 'header', text: 'Lifeboat status' }];
  if (down.length > 0) {
    blocks.push({
      type: 'callout',
      tone: 'danger',
      text: `Not healthy: ${down.map((s) => `${s.name} (${s.detail})`).join('; ')}`,
    });
  }
  const unknown = report.unknownBackups;
  if (unknown && unknown.ids.length > 0) {
    const shown = unknown.ids
      .slice(0, 3)
      .map((id) => `\`${id}\``)
      .join(', ');
    const count = `${unknown.partial ? 'at least ' : ''}${plural(unknown.ids.length, 'backup')}`;
    blocks.push({
      type: 'callout',
      tone: 'warning',
      text: `The store ${unknown.store} holds ${count} that the catalog does not know (${shown}${unknown.ids.length > 3 ? ', …' : ''}): is DATABASE_URL the catalog you meant? If the catalog was recreated or lost, \`lifeboat catalog rebuild\` records them from their manifests.`,
    });
  }
  if (report.workers === 0) {
    blocks.push({
      type: 'callout',
      tone: 'warning',
      text: 'No worker is serving the queue: queued jobs wait until one starts (`lifeboat worker`).',
    });
  }
  const queue = report.queue;
  blocks.push({
    type: 'fields',
    fields: [
      ...report.services.map((s) => ({
        label: s.name,
        value: `${s.ok ? '✔ up' : '✖ down'} · ${s.detail}`,
      })),
      { label: 'Workers', value: report.workers === null ? UNKNOWN : String(report.workers) },
      {
        label: 'Queue',
        value: queue
          ? `${queue.waiting} waiting, ${queue.active} active, ${queue.failed} failed`
          : UNKNOWN,
      },
    ],
  });
  const profiles = report.profiles;
  blocks.push({
    type: 'section',
    text:
      profiles === null
        ? 'Profiles: unknown while the catalog is unreachable.'
        : profiles.length > 0
          ? profiles.map((p) => profileLine(p, now)).join('\n')
          : 'No profiles configured.',
  });
  const healthy = down.length === 0 ? 'all services up' : `${plural(down.length, 'service')} down`;
  const workers = report.workers === null ? 'workers unknown' : plural(report.workers, 'worker');
  const waiting = queue ? `${plural(queue.waiting, 'job')} waiting` : 'queue unknown';
  return {
    text: `Lifeboat status: ${healthy}, ${workers}, ${waiting}`,
    blocks,
    fullResult: onCommandLine('status'),
  };
}
