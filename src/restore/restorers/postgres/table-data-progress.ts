/**
 * Follows `pg_restore --verbose` on stderr and counts the tables whose data is restored, out of
 * the archive's `TABLE DATA` entries.
 *
 * Run in parallel (`-j` above 1), pg_restore prints `processing data for table "s.t"` from the
 * worker and `finished item 3352 TABLE DATA t` from the leader for the same table, so counting
 * both counts each table twice ("56 of 38 tables"). In parallel the finished items are counted,
 * each dump id once; run serially, pg_restore prints only the `processing data` line, once per
 * table. Names are not parsed at all: a name may hold a newline, which splits its line in two.
 */
export class TableDataProgress {
  /** The tables whose data the archive holds. */
  readonly total: number;
  private readonly ids: ReadonlySet<number>;
  private readonly parallel: boolean;
  private readonly finished = new Set<number>();
  private processing = 0;

  /**
   * @param tableDataIds the dump ids of the archive's `TABLE DATA` entries
   * @param parallel whether pg_restore runs with more than one job
   */
  constructor(tableDataIds: Iterable<number>, parallel: boolean) {
    this.ids = new Set(tableDataIds);
    this.total = this.ids.size;
    this.parallel = parallel;
  }

  /** Takes one line of stderr; true when it moved the count. */
  line(text: string): boolean {
    const before = this.done;
    if (this.parallel) {
      const id = /\bfinished item (\d+) TABLE DATA\b/.exec(text)?.[1];
      if (id !== undefined && this.ids.has(Number(id))) this.finished.add(Number(id));
    } else if (/^pg_restore: processing data for table /.test(text)) {
      this.processing++;
    }
    return this.done !== before;
  }

  /** Tables whose data is restored (or, run serially, being restored), never above the total. */
  get done(): number {
    return Math.min(this.total, this.parallel ? this.finished.size : this.processing);
  }
}
