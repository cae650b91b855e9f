import pg from 'pg';

/** Runs SQL with positional parameters and returns the rows. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<Row[]>;
}

/** The catalog's connection pool as the repositories see it: queries and transactions. */
export interface Database extends Queryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
}

/** Adapts a `pg.Pool` to {@link Database}; the pool stays owned by the caller. */
export function poolDatabase(pool: pg.Pool): Database {
  return {
    async query<Row extends object>(text: string, values?: readonly unknown[]) {
      const result = await pool.query<Row>(text, values as unknown[] | undefined);
      return result.rows;
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<Row extends object>(text: string, values?: readonly unknown[]) {
            const result = await client.query<Row>(text, values as unknown[] | undefined);
            return result.rows;
          },
        };
        const value = await work(tx);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection whose rollback failed is in an unknown state: discard it, don't reuse it.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
  };
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** `text` quoted as an SQL identifier. */
export function quoteIdentifier(text: string): string {
  return pg.escapeIdentifier(text);
}
