import { MANIFEST_OBJECT } from '../backup/manifest.ts';
import { plural } from '../core/format.ts';
import { isBackupId } from '../core/ids.ts';
import type { BackupStore } from '../storage/backup-store.ts';

/** What a bounded look at the primary store found that the catalog does not know. */
export interface StoreSurvey {
  /** Where the store is, for people. */
  readonly store: string;
  /** Backups with a manifest in the store that the catalog does not know, oldest first. */
  readonly unknown: readonly string[];
  /** Backups with a manifest that the look saw. */
  readonly seen: number;
  /** True when the look stopped before the end of the store: it may hold more. */
  readonly partial: boolean;
}

export interface SurveyOptions {
  readonly store: BackupStore;
  /** Which of these backup ids the catalog knows. */
  readonly known: (ids: readonly string[]) => Promise<ReadonlySet<string>>;
  /**
   * The most objects to look at: one page of an S3 listing, so that a start-up never lists a
   * huge store. @defaultValue 1000
   */
  readonly maxObjects?: number;
  /** The longest the listing may take. @defaultValue 3000 ms */
  readonly timeoutMs?: number;
}

/**
 * Looks at the first objects of the store (the oldest backups: ids sort by time), bounded in
 * objects and in time, and says which complete backups among them the catalog does not know:
 * a catalog that was recreated, or a DATABASE_URL that names another database.
 */
export async function surveyStore(options: SurveyOptions): Promise<StoreSurvey> {
  const maxObjects = options.maxObjects ?? 1000;
  const found: string[] = [];
  let partial = false;
  let stopped = false;
  const listing = (async () => {
    let objects = 0;
    for await (const object of options.store.list('bk_')) {
      if (++objects > maxObjects || stopped) {
        partial = true;
        return;
      }
      const slash = object.key.indexOf('/');
      const id = object.key.slice(0, slash);
      if (object.key.slice(slash + 1) === MANIFEST_OBJECT && isBackupId(id)) found.push(id);
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      stopped = true;
      partial = true;
      resolve();
    }, options.timeoutMs ?? 3_000);
  });
  try {
    await Promise.race([listing, timeout]);
  } finally {
    clearTimeout(timer);
  }
  // A listing cut short by the deadline may still fail later: nobody waits for it any more.
  listing.catch(() => undefined);
  const seen = [...found];
  const known = seen.length > 0 ? await options.known(seen) : new Set<string>();
  return {
    store: options.store.describe(''),
    unknown: seen.filter((id) => !known.has(id)),
    seen: seen.length,
    partial,
  };
}

/**
 * The survey as a warning for people, or null when the catalog knows every backup seen:
 * `the store /srv/backups holds 12 backups the catalog does not know (bk_…, bk_…, …)`.
 */
export function describeSurvey(survey: StoreSurvey): string | null {
  if (survey.unknown.length === 0) return null;
  const shown = survey.unknown.slice(0, 3).join(', ');
  const more = survey.unknown.length > 3 ? ', …' : '';
  const count = `${survey.partial ? 'at least ' : ''}${plural(survey.unknown.length, 'backup')}`;
  return `the store ${survey.store} holds ${count} that the catalog does not know (${shown}${more}): is DATABASE_URL the catalog you meant? If the catalog was recreated or lost, \`lifeboat catalog rebuild\` records them from their manifests`;
}
