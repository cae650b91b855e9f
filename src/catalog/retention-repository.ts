import type { RetentionCandidate } from '../retention/select-backups.ts';
import type { Database } from './database.ts';

/** A completed backup as the catalog records it for retention: where it lives included. */
export interface CataloguedCandidate extends RetentionCandidate {
  /** Its primary store's location as recorded when it completed. */
  readonly location: string | null;
}

/** What retention reads from and writes to the catalog. */
export interface RetentionRepository {
  /**
   * The completed backups of `profile`, newest first, each with its verdicts: verifications
   * that ended passed or failed (`backup_verifications`, any level; `error` ones are no verdict).
   */
  candidates(profile: string): Promise<CataloguedCandidate[]>;
  /**
   * Marks a completed backup pruned, with `reason`. Returns false when it was not completed any
   * more (pruned by someone else meanwhile), leaving it as it is.
   */
  markPruned(id: string, reason: string): Promise<boolean>;
}

interface CandidateRow {
  id: string;
  location: string | null;
  created_at: Date;
  bytes: string | null;
  verifications: { id: string; status: 'passed' | 'failed'; finished_at: string }[];
}

export function createRetentionRepository(db: Database): RetentionRepository {
  return {
    async candidates(profile) {
      const rows = await db.query<CandidateRow>(
        `SELECT b.id, b.created_at, b.bytes, b.location,
                (SELECT coalesce(json_agg(json_build_object(
                          'id', v.id, 'status', v.status, 'finished_at', v.finished_at)), '[]')
                   FROM backup_verifications v
                  WHERE v.backup_id = b.id AND v.status IN ('passed', 'failed')
                    AND v.finished_at IS NOT NULL) AS verifications
           FROM backups b
          WHERE b.profile = $1 AND b.status = 'completed'
          ORDER BY b.created_at DESC, b.id DESC`,
        [profile],
      );
      return rows.map((row) => ({
        id: row.id,
        createdAt: row.created_at,
        bytes: row.bytes === null ? 0 : Number(row.bytes),
        location: row.location,
        verifications: row.verifications.map((v) => ({
          id: v.id,
          status: v.status,
          finishedAt: new Date(v.finished_at),
        })),
      }));
    },

    async markPruned(id, reason) {
      const rows = await db.query(
        `UPDATE backups SET status = 'pruned', pruned_at = now(), pruned_reason = $2
          WHERE id = $1 AND status = 'completed'
          RETURNING id`,
        [id, reason],
      );
      return rows.length > 0;
    },
  };
}
