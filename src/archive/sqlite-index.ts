/**
 * SQLite index (better-sqlite3 12). Two connections to one WAL database: a writer
 * (BEGIN IMMEDIATE ... COMMIT, one transaction at a time) and a read-only reader, so
 * a read transaction cannot write even by mistake and never sees uncommitted rows.
 *
 * Durability: synchronous=NORMAL, plus our own fdatasync of the `-wal` file after every
 * COMMIT, before write() resolves. In WAL mode NORMAL does not sync the WAL at commit
 * (FULL does, inside COMMIT, i.e. on the event loop thread: ~1-2 ms during which no
 * socket is read). The WAL is append-only between checkpoints and SQLite's recovery
 * replays it up to the last commit frame whose frames are all valid, so once the WAL
 * file is fdatasynced after COMMIT returned, that transaction survives a power loss,
 * exactly as with FULL. The sync runs in the thread pool, is coalesced (one sync
 * covers every commit made before it started) and runs outside the write lock, so the
 * next transaction is built meanwhile; group commit makes it one sync per batch.
 * Checkpoints (automatic, inside COMMIT) sync the WAL and the database themselves in
 * NORMAL mode. Difference to FULL: another connection may read a row during the
 * ~1 ms between COMMIT and the end of the sync; the writer's caller is only told
 * "committed" after the sync. Except with `deferSync` (ingest's rows: their sealed files
 * re-make them, file-blob-store.ts): then the caller is told at COMMIT, and the next
 * durable write or syncWrites() makes the commit durable.
 */
import Database from 'better-sqlite3';
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { BaseIndex, Mutex } from './base-index.js';
import { CoalescedFsync } from './fsync.js';
import {
  ADDED_COLUMNS,
  INSTANCE_STAMP_COLUMNS,
  lateIndexDdl,
  migrateToPatientIdentity,
  patientsTableDdl,
  PATIENTS_V3_COLUMNS,
  SqlIndexReader,
  SqlIndexWriter,
  schemaDdl,
  SCHEMA_VERSION,
  STUDY_STAMP_COLUMNS,
  UpsertMemo,
} from './index-sql.js';
import type { ReadOptions, WriteOptions } from './index-types.js';
import type { SqlDialect, SqlReader, SqlRow, SqlRunner, SqlValue, SqlWriter } from './sql-types.js';
import { enableIncrementalVacuum, freePages, reclaimStep } from './sqlite-space.js';

type Stmt = { stmt: Database.Statement; order: number[]; returns: boolean };

/**
 * Prepared statements kept per connection. Query texts vary with the keys a C-FIND or a
 * QIDO-RS search gives (which columns, how many values), so the texts a peer can make us
 * prepare are unbounded: the cache keeps the most recently used ones (a Map in use order),
 * and a dropped statement is finalized when it is garbage collected. The fixed statements
 * of ingest and the common queries stay hot; a miss costs one prepare (about 60 us
 * for a planned two-table query, measured here).
 */
export const STATEMENT_CACHE_MAX = 256;

/** SQLite's SQL where it differs from PostgreSQL's. */
export const SQLITE_DIALECT: SqlDialect = {
  identityPk: 'INTEGER PRIMARY KEY',
  // Without AUTOINCREMENT SQLite gives the largest key again once its row is deleted.
  neverReusedPk: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  tableDefinition: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1",
  foreignKey: 'INTEGER',
  // One write transaction at a time (BEGIN IMMEDIATE): no row locks, no schema lock needed.
  forUpdate: '',
  skipLocked: '',
  nowMs: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
  schemaLock: undefined,
  distinctList: (col, from) => `(SELECT group_concat(c, '\\') FROM (SELECT DISTINCT ${col} AS c ${from} ORDER BY 1))`,
  // SQLite's LIKE ignores ASCII case already.
  caseInsensitiveLike: 'LIKE',
  tableColumns: 'SELECT name FROM pragma_table_info($1)',
};

class SqliteRunner implements SqlRunner {
  readonly dialect = SQLITE_DIALECT;
  private readonly cache = new Map<string, Stmt>();
  constructor(private readonly db: Database.Database) {}

  private prepare(sql: string): Stmt {
    let s = this.cache.get(sql);
    if (s) {
      // Most recently used last.
      this.cache.delete(sql);
      this.cache.set(sql, s);
    } else {
      // $n placeholders -> ? in order of appearance (better-sqlite3 binds arrays positionally).
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      const stmt = this.db.prepare(text);
      s = { stmt, order, returns: stmt.reader };
      this.cache.set(sql, s);
      if (this.cache.size > STATEMENT_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    }
    return s;
  }

  /** Statements held prepared. */
  get cached(): number {
    return this.cache.size;
  }

  private bind(s: Stmt, params: readonly SqlValue[]): SqlValue[] {
    return s.order.map((i) => params[i] ?? null);
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    const s = this.prepare(sql);
    return Promise.resolve(s.stmt.all(...this.bind(s, params)) as SqlRow[]);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<void> {
    const s = this.prepare(sql);
    if (s.returns) s.stmt.all(...this.bind(s, params));
    else s.stmt.run(...this.bind(s, params));
    return Promise.resolve();
  }
}

export class SqliteIndex extends BaseIndex {
  readonly dialect = SQLITE_DIALECT;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writeRunner: SqliteRunner;
  private readonly readRunner: SqliteRunner;
  private readonly writeLock = new Mutex();
  private readonly readLock = new Mutex();
  private readonly walSync: CoalescedFsync;
  private readonly dataVersionPragma: Database.Statement;
  /** Transaction control prepared once: exec() would parse the text on every store (issue 16). */
  private readonly tx: Record<'beginWrite' | 'commitWrite' | 'beginRead' | 'commitRead', Database.Statement>;
  private readonly wal: boolean;
  private closed = false;
  /**
   * The rows this connection last upserted, kept across its write transactions (see
   * UpsertMemo): valid while every write to the file is ours and committed. Cleared on
   * rollback, and when PRAGMA data_version shows another connection's commit (the CLI,
   * another process) since our last one.
   */
  private readonly memo = new UpsertMemo();
  private dataVersion = -1;

  private reclaiming: Promise<void> | undefined;
  /** Index.setPendingRows: rows answered for, not yet committed (Archive). */
  private pendingRows: (() => Promise<void> | undefined) | undefined;
  private reclaimAgain = false;

  private constructor(file: string, logger?: Logger) {
    super();
    this.writer = new Database(file);
    enableIncrementalVacuum(this.writer, logger); // before WAL and the schema: see sqlite-space.ts
    const mode = String(this.writer.pragma('journal_mode = WAL', { simple: true })).toLowerCase();
    // NORMAL + our own WAL fdatasync (see the top); FULL if WAL mode was refused (no -wal file to sync).
    this.wal = mode === 'wal';
    this.writer.pragma(this.wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
    this.writer.pragma('busy_timeout = 5000');
    // Before foreign keys are on: the rebuild drops the table the studies refer to.
    this.rebuildPatientsTable();
    this.writer.pragma('foreign_keys = ON');
    const tx = this.writer.transaction(() => {
      const stored = this.storedVersion();
      for (const ddl of schemaDdl(SQLITE_DIALECT)) this.writer.exec(ddl);
      for (const c of ADDED_COLUMNS) {
        const cols = this.writer.prepare(`SELECT name FROM pragma_table_info(?)`).all(c.table) as Array<{ name: string }>;
        if (!cols.some((r) => r.name === c.column)) this.writer.exec(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.type}`);
      }
      for (const ddl of lateIndexDdl()) this.writer.exec(ddl);
      for (const ddl of studyStampDdl()) this.writer.exec(ddl);
      // An index before version 3 is raised to it by migrateToPatientIdentity (open()), once its data moved.
      this.migrationPending = stored !== undefined && stored < 3;
      this.writer
        .prepare(
          `INSERT INTO archive_meta (key, value) VALUES ('schema_version', ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(archive_meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)`,
        )
        .run(String(this.migrationPending ? stored : SCHEMA_VERSION));
    });
    tx.immediate();
    this.reader = new Database(file, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.walSync = new CoalescedFsync(`${file}-wal`, { keepOpen: true, dataOnly: true });
    this.writeRunner = new SqliteRunner(this.writer);
    this.dataVersionPragma = this.writer.prepare('PRAGMA data_version').pluck();
    this.tx = {
      beginWrite: this.writer.prepare('BEGIN IMMEDIATE'),
      commitWrite: this.writer.prepare('COMMIT'),
      beginRead: this.reader.prepare('BEGIN'),
      commitRead: this.reader.prepare('COMMIT'),
    };
    this.readRunner = new SqliteRunner(this.reader);
  }

  /** True when the data of an index older than version 3 is still to be moved (open() does it). */
  private migrationPending = false;

  /** The schema_version stored, undefined in a new file. */
  private storedVersion(): number | undefined {
    const has = this.writer.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'archive_meta'`).get();
    if (!has) return undefined;
    const row = this.writer.prepare(`SELECT value FROM archive_meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    return row ? Number(row.value) : undefined;
  }

  /**
   * Version 3 keys patients by (patient_id, issuer): an older patients table (patient_id
   * UNIQUE, no issuer) is rebuilt, its rows keeping their pks (SQLite cannot drop a
   * UNIQUE constraint). Runs with foreign keys off: the old table is dropped under the
   * studies that refer to it, and the new one takes its name.
   */
  private rebuildPatientsTable(): void {
    const cols = this.writer.prepare(`SELECT name FROM pragma_table_info('patients')`).all() as Array<{ name: string }>;
    if (cols.length === 0 || cols.some((c) => c.name === 'issuer')) return;
    this.writer.pragma('foreign_keys = OFF'); // better-sqlite3 turns them on by default
    const tx = this.writer.transaction(() => {
      this.writer.exec(`DROP TABLE IF EXISTS patients_v3`);
      this.writer.exec(patientsTableDdl(SQLITE_DIALECT, 'patients_v3'));
      this.writer.exec(`INSERT INTO patients_v3 (${PATIENTS_V3_COLUMNS})
        SELECT pk, patient_id, '', patient_name, patient_birth_date, patient_sex FROM patients`);
      this.writer.exec(`DROP TABLE patients`);
      this.writer.exec(`ALTER TABLE patients_v3 RENAME TO patients`);
    });
    tx.immediate();
  }

  /** Opens (creating if needed) the index database file; `logger` hears of a one-time VACUUM and of a migration. */
  static async open(file: string, opts: { logger?: Logger } = {}): Promise<SqliteIndex> {
    // Created owner-only before SQLite opens it: its -wal and -shm files take the database file's mode.
    await (await open(file, 'a', 0o600)).close();
    const index = new SqliteIndex(file, opts.logger);
    if (index.migrationPending) {
      try {
        const studies = await index.write((tx) => migrateToPatientIdentity(tx));
        opts.logger?.info({ studies }, 'index migrated to schema version 3 (patients keyed by Patient ID and issuer)');
      } catch (e) {
        await index.close();
        throw e;
      }
    }
    return index;
  }

  /**
   * Gives free pages back to the file system, in bounded steps (sqlite-space.ts), each a
   * write transaction of its own; resolves when none is left. Calls while one runs join it
   * (and make it look again at the end).
   */
  override reclaimSpace(): Promise<void> {
    if (this.reclaiming) {
      this.reclaimAgain = true;
      return this.reclaiming;
    }
    const run = async (): Promise<void> => {
      do {
        this.reclaimAgain = false;
        for (;;) {
          const more = await this.writeLock.run(async () => {
            const before = this.closed ? 0 : freePages(this.writer);
            if (before === 0) return false;
            this.writer.exec('BEGIN IMMEDIATE');
            try {
              reclaimStep(this.writer);
              this.writer.exec('COMMIT');
            } catch (e) {
              if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
              throw e;
            }
            return freePages(this.writer) < before; // no progress (auto_vacuum not incremental): stop
          });
          if (!more) break;
          await new Promise((r) => setImmediate(r)); // let the event loop (and queued writers) in
        }
      } while (this.reclaimAgain && !this.closed);
    };
    this.reclaiming = run().finally(() => (this.reclaiming = undefined));
    return this.reclaiming;
  }

  /** Index.setPendingRows: what reads and writes wait for first. */
  setPendingRows(pending: () => Promise<void> | undefined): void {
    this.pendingRows = pending;
  }

  /** Runs `then` once the rows pending are committed: at once when there are none (no await, the common case). */
  private afterPending<T>(opts: ReadOptions | undefined, then: () => Promise<T>): Promise<T> {
    const wait = opts?.ignorePending ? undefined : this.pendingRows?.();
    return wait ? wait.then(then) : then();
  }

  read<T>(fn: (tx: SqlReader) => Promise<T>, opts?: ReadOptions): Promise<T> {
    return this.afterPending(opts, () => this.readNow(fn));
  }

  private readNow<T>(fn: (tx: SqlReader) => Promise<T>): Promise<T> {
    return this.readLock.run(async () => {
      this.checkOpen();
      this.tx.beginRead.run();
      try {
        return await fn(new SqlIndexReader(this.readRunner));
      } finally {
        this.tx.commitRead.run();
      }
    });
  }

  /**
   * One read statement (hasInstance, getInstance, ...): SQLite runs it in a transaction of
   * its own, a consistent snapshot, so BEGIN and COMMIT around it would only cost two more
   * statements per call (the C-STORE duplicate check is one per instance). Under the read
   * lock all the same: the reader connection is never inside another caller's BEGIN.
   */
  protected override single<T>(fn: (tx: SqlReader) => Promise<T>, opts?: ReadOptions): Promise<T> {
    return this.afterPending(opts, () =>
      this.readLock.run(async () => {
        this.checkOpen();
        return fn(new SqlIndexReader(this.readRunner));
      }),
    );
  }

  write<T>(fn: (tx: SqlWriter) => Promise<T>, opts?: WriteOptions): Promise<T> {
    return this.afterPending(opts, () => this.writeNow(fn, opts));
  }

  private async writeNow<T>(fn: (tx: SqlWriter) => Promise<T>, opts?: WriteOptions): Promise<T> {
    const result = await this.writeLock.run(async () => {
      this.checkOpen();
      this.tx.beginWrite.run();
      let r: T;
      try {
        const version = Number(this.dataVersionPragma.get());
        if (version !== this.dataVersion) this.memo.clear();
        this.dataVersion = version;
        r = await fn(new SqlIndexWriter(this.writeRunner, this.memo));
      } catch (e) {
        this.memo.clear();
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw e;
      }
      try {
        this.tx.commitWrite.run();
      } catch (e) {
        this.memo.clear();
        throw e;
      }
      this.writeTransactions++;
      return r;
    });
    if (this.wal && !opts?.deferSync) await this.walSync.sync(); // durable before the caller hears "committed"
    return result;
  }

  /** The WAL fdatasync covering every commit so far (a later commit's sync covers the earlier ones: the WAL is appended in order). */
  override async syncWrites(): Promise<void> {
    if (this.wal) await this.walSync.sync();
  }

  /**
   * The duplicate check of every C-STORE, on the WRITER connection (under its lock, outside
   * any transaction: it sees every committed row). On the reader connection it cost as much
   * as the whole insert: after each commit by the writer, SQLite's WAL read transaction on
   * another connection finds the database changed and drops that connection's page cache,
   * so each check read the index pages again (pread from the WAL); the writer's cache stays
   * valid across its own commits (issue 16).
   */
  override hasInstance(uid: string, opts?: ReadOptions): Promise<boolean> {
    return this.afterPending(opts, () =>
      this.writeLock.run(async () => {
        this.checkOpen();
        return new SqlIndexReader(this.writeRunner).hasInstance(uid);
      }),
    );
  }

  /** Prepared statements held, per connection (tests and diagnostics). */
  statementCacheSize(): { reader: number; writer: number } {
    return { reader: this.readRunner.cached, writer: this.writeRunner.cached };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('index is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.reclaiming?.catch(() => undefined);
    await this.writeLock.run(async () => undefined);
    await this.readLock.run(async () => undefined);
    await this.walSync.close();
    this.closed = true;
    this.reader.close();
    this.writer.close();
  }
}

const NEW_STAMP = `lower(hex(randomblob(8)))`;
const bumpStudiesOfSeries = (series: string) =>
  `UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE pk IN (SELECT study_fk FROM series WHERE pk IN (${series}));`;

/**
 * The study change stamp's triggers (index-sql.ts STUDY_STAMP_COLUMNS), made again at
 * every open (dropped first: a changed body replaces the old one), and a stamp for every
 * study that has none (made before the column). Inside the schema transaction.
 */
export function studyStampDdl(): string[] {
  const changed = (cols: readonly string[]) => cols.map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ');
  return [
    `DROP TRIGGER IF EXISTS instances_stamp_insert`,
    `CREATE TRIGGER instances_stamp_insert AFTER INSERT ON instances BEGIN ${bumpStudiesOfSeries('NEW.series_fk')} END`,
    `DROP TRIGGER IF EXISTS instances_stamp_update`,
    `CREATE TRIGGER instances_stamp_update AFTER UPDATE OF ${INSTANCE_STAMP_COLUMNS.join(', ')} ON instances
       WHEN ${changed(INSTANCE_STAMP_COLUMNS)}
       BEGIN ${bumpStudiesOfSeries('OLD.series_fk, NEW.series_fk')} END`,
    `DROP TRIGGER IF EXISTS instances_stamp_delete`,
    `CREATE TRIGGER instances_stamp_delete AFTER DELETE ON instances BEGIN ${bumpStudiesOfSeries('OLD.series_fk')} END`,
    `DROP TRIGGER IF EXISTS series_stamp_update`,
    `CREATE TRIGGER series_stamp_update AFTER UPDATE OF study_fk ON series WHEN OLD.study_fk IS NOT NEW.study_fk
       BEGIN UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE pk IN (OLD.study_fk, NEW.study_fk); END`,
    `DROP TRIGGER IF EXISTS studies_stamp_update`,
    `CREATE TRIGGER studies_stamp_update AFTER UPDATE OF ${STUDY_STAMP_COLUMNS.join(', ')} ON studies
       WHEN ${changed(STUDY_STAMP_COLUMNS)}
       BEGIN UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE pk = NEW.pk; END`,
    `UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE change_stamp IS NULL`,
  ];
}
