/**
 * SQL access to the index, for archive/ only: the stores that keep their own tables beside
 * the index (worklist, MPPS, commitments, the router's forward queue) and the query
 * planner. Outside archive/ the index is what index-types.ts declares, without SQL
 * (.dependency-cruiser.cjs fences these modules in).
 *
 * Statements are written with PostgreSQL placeholders ($1, $2, ...); the SQLite runner
 * rewrites them. What differs between the two engines is a SqlDialect, defined by each
 * backend (sqlite-index.ts, postgres-index.ts), so no code outside them asks which engine
 * it runs on.
 */
import type { Index, IndexReader, IndexWriter, ReadOptions, WriteOptions } from './index-types.js';

export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

/** What differs between the SQL of the two backends. */
export interface SqlDialect {
  /** Column type of a generated integer primary key. */
  readonly identityPk: string;
  /**
   * The same, for keys that are shown to people and named back in later requests (the
   * router queue's entry ids): never handed out again once their row is gone.
   */
  readonly neverReusedPk: string;
  /**
   * A SELECT of the text a table named by $1 was created with (as `sql`), where a key made
   * before `neverReusedPk` may need the table made again (SQLite); undefined elsewhere.
   */
  readonly tableDefinition: string | undefined;
  /** Column type of a column referring to such a key. */
  readonly foreignKey: string;
  /**
   * Appended to a SELECT of a row the transaction goes on to change: a row lock where
   * writers run concurrently (PostgreSQL); '' where a write transaction already excludes
   * every other writer (SQLite's BEGIN IMMEDIATE).
   */
  readonly forUpdate: string;
  /**
   * Appended to a SELECT of rows to claim: rows another transaction holds are passed over
   * rather than waited for (PostgreSQL); '' where writers never overlap (SQLite).
   */
  readonly skipLocked: string;
  /** The database's clock in ms since the epoch (one clock for every node judging a lease). */
  readonly nowMs: string;
  /**
   * A statement (with `name` as $1) that makes transactions creating the same tables wait
   * for each other, or undefined where write transactions already do (SQLite).
   */
  readonly schemaLock: string | undefined;
  /** A scalar subquery: the distinct values of `col` in the rows `from` selects, sorted, joined by '\'. */
  distinctList(col: string, from: string): string;
  /** LIKE matching case-insensitively (SQLite's LIKE already is, for ASCII). */
  readonly caseInsensitiveLike: string;
  /** A SELECT of the column names (as `name`) of the table named by $1 (in the current schema). */
  readonly tableColumns: string;
}

/** Runs one statement inside the current transaction. */
export interface SqlRunner {
  readonly dialect: SqlDialect;
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
}

/** A read transaction that also runs the archive's own read-only SELECTs. */
export interface SqlReader extends IndexReader {
  readonly dialect: SqlDialect;
  select(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
}

/** A write transaction that also runs the archive's own statements. */
export interface SqlWriter extends IndexWriter, SqlReader {
  /** Any one statement; returns the rows of a SELECT or a RETURNING clause, else []. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /**
   * execute() for a statement that writes none of the patient, study, series and instance
   * rows (a table of the archive's own, the Router's queue): the memo of those rows'
   * upserts (index-sql.ts) stays valid across it.
   */
  executeOwn(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
}

/** The index as archive/ sees it: its transactions with SQL. */
export interface SqlIndex extends Index {
  readonly dialect: SqlDialect;
  read<T>(fn: (tx: SqlReader) => Promise<T>, opts?: ReadOptions): Promise<T>;
  write<T>(fn: (tx: SqlWriter) => Promise<T>, opts?: WriteOptions): Promise<T>;
}
