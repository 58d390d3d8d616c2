/**
 * What one query may cost, and its work cut into short slices.
 *
 * One process serves every role and the web server (DESIGN.md section 8), and
 * better-sqlite3 is synchronous: `await index.read(...)` over SQLite never lets a socket be
 * read, and an `await` on a resolved promise only runs microtasks. So a query lets the event
 * loop run (setImmediate) whenever its current slice has taken SLICE_MS, between pages and
 * between rows; and it ends with a QueryLimitError once it has examined more rows, or worked
 * longer, than its limits allow. Work time is the query's own (reading, matching): the time
 * its consumer takes with each match (a slow C-FIND SCU, a slow HTTP client) is not counted.
 */

/** A query's limits (from `limits.query`); absent = no limit. */
export interface QueryCost {
  /** Rows the query may read from the index and examine. */
  maxRowsExamined?: number;
  /** Seconds of work (reading and matching, not waiting for the consumer). */
  maxSeconds?: number;
}

/** A query ended because it hit one of its limits. */
export class QueryLimitError extends Error {
  override readonly name = 'QueryLimitError';
  constructor(
    /** Which limit: rows examined or seconds of work. */
    readonly limit: 'rows' | 'time',
    /** The limit's value (rows, or seconds). */
    readonly value: number,
    readonly rowsExamined: number,
  ) {
    super(
      limit === 'rows'
        ? `the query examined more than ${value} rows (limits.query.maxRowsExamined)`
        : `the query worked for more than ${value} s (limits.query.maxSeconds), after examining ${rowsExamined} rows`,
    );
  }
}

/**
 * How long one slice of work may hold the event loop. 10 ms: a C-ECHO or an HTTP request
 * arriving meanwhile waits at most about that long for the query.
 */
export const SLICE_MS = 10;

const now = (): number => performance.now();
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class QueryBudget {
  rowsExamined = 0;
  private workMs = 0;
  /** When the query last resumed its own work (undefined while suspended). */
  private runningSince: number | undefined = now();
  /** When the event loop last ran, as far as this query knows. */
  private sliceStart = now();

  constructor(private readonly cost: QueryCost = {}) {}

  /** Counts examined rows; throws QueryLimitError past maxRowsExamined. */
  examine(rows: number): void {
    this.rowsExamined += rows;
    const max = this.cost.maxRowsExamined;
    if (max !== undefined && this.rowsExamined > max) throw new QueryLimitError('rows', max, this.rowsExamined);
  }

  /** Milliseconds of the query's own work so far. */
  workedMs(): number {
    return this.workMs + (this.runningSince === undefined ? 0 : now() - this.runningSince);
  }

  /** Throws QueryLimitError past maxSeconds of work. */
  checkTime(): void {
    const max = this.cost.maxSeconds;
    if (max !== undefined && this.workedMs() > max * 1000) throw new QueryLimitError('time', max, this.rowsExamined);
  }

  /** The current slice has held the event loop for SLICE_MS: call pause() (cheap to ask per row). */
  due(): boolean {
    return now() - this.sliceStart >= SLICE_MS;
  }

  /** Lets the event loop run (I/O, timers, other associations), then checks the time limit. */
  async pause(): Promise<void> {
    this.suspend();
    await nextTurn();
    this.resume();
    this.sliceStart = now();
    this.checkTime();
  }

  /** Stops the work clock (the consumer has the match). */
  suspend(): void {
    if (this.runningSince !== undefined) this.workMs += now() - this.runningSince;
    this.runningSince = undefined;
  }

  /** Restarts the work clock. */
  resume(): void {
    this.runningSince ??= now();
  }
}

/**
 * Sizes SQL pages by time: each statement should take about a SLICE_MS. `span` is the
 * primary-key range one statement scans (a pre-filter that selects few rows must not scan
 * a million in one synchronous call), `limit` the rows it returns; both shrink when a
 * statement took longer than a slice and grow back when it was quick.
 */
export class PageSizer {
  span: number;
  limit: number;
  constructor(private readonly maxLimit: number) {
    this.limit = maxLimit;
    this.span = maxLimit;
  }

  /** After one statement that took `ms` and returned `rows` rows. */
  update(ms: number, rows: number): void {
    if (ms > 2 * SLICE_MS) {
      this.span = Math.max(1, Math.floor(this.span / 2));
      if (rows >= this.limit) this.limit = Math.max(1, Math.floor(this.limit / 2));
    } else if (ms < SLICE_MS / 2) {
      this.span = Math.min(2 ** 40, this.span * 2);
      this.limit = Math.min(this.maxLimit, this.limit * 2);
    }
  }
}
