import { type AuditKeyring, NO_AUDIT_KEYS } from '../../src/audit/audit-keys.ts';
import type { AuditEntry, AuditEvent, AuditVerification } from '../../src/audit/audit-log.ts';
import { chainEntry, verifyChain } from '../../src/audit/hash-chain.ts';
import type { AuditEntriesOptions, AuditRepository } from '../../src/catalog/audit-repository.ts';

/**
 * The audit log in an array, chained with the same hash code as the catalog's, so what a test
 * appends here verifies (and breaks) exactly as it would in PostgreSQL. `log` is open for tests
 * to read and to tamper with; `failing` makes every append throw, as a catalog that is down
 * would.
 */
export class InMemoryAudit implements AuditRepository {
  readonly log: AuditEntry[] = [];
  failing = false;
  readonly keys: AuditKeyring;
  readonly #now: () => Date;

  constructor(options: { now?: () => Date; keys?: AuditKeyring } = {}) {
    this.#now = options.now ?? (() => new Date());
    this.keys = options.keys ?? NO_AUDIT_KEYS;
  }

  async append(event: AuditEvent): Promise<AuditEntry> {
    if (this.failing) throw new Error('the audit log is down');
    // Read and push with no await in between: appends cannot interleave and fork the chain.
    const entry = chainEntry(this.log.at(-1) ?? null, event, this.#now(), this.keys.current);
    this.log.push(entry);
    return entry;
  }

  async *entries(options: AuditEntriesOptions = {}): AsyncGenerator<AuditEntry> {
    const after = options.afterSeq ?? 0;
    const since = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;
    for (const entry of [...this.log].sort((a, b) => a.seq - b.seq)) {
      if (entry.seq > after && entry.at.getTime() >= since) yield entry;
    }
  }

  async head(): Promise<AuditEntry | null> {
    return this.log.reduce<AuditEntry | null>((a, b) => (a && a.seq > b.seq ? a : b), null);
  }

  /** Checks the chain as `lifeboat audit verify` does. */
  verify(): Promise<AuditVerification> {
    return verifyChain(this.entries(), this.keys);
  }

  /** The entries of one kind (`restore.started`), oldest first. */
  withAction(action: string): AuditEntry[] {
    return this.log.filter((entry) => entry.action === action);
  }

  /** The entries of one approval request, oldest first. */
  forRequest(requestId: string): AuditEntry[] {
    return this.log.filter((entry) => entry.requestId === requestId);
  }
}
