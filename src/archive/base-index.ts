/** The convenience half of Index: each one-statement operation in its own transaction. */
import type { ForwardQueueStore } from './forward-queue.js';
import { SqlForwardQueue } from './forward-queue-sql.js';
import type {
  DuplicateAction,
  FileCheck,
  Index,
  InsertResult,
  InstanceRecord,
  InstanceRow,
  InstanceSummary,
  ReadOptions,
  SeriesRow,
  StudyRow,
  WriteOptions,
} from './index-types.js';
import type { PatientChange, PatientConflict, PatientKey, PatientUpdate } from './patient-identity.js';
import type { SqlDialect, SqlIndex, SqlReader, SqlWriter } from './sql-types.js';

export abstract class BaseIndex implements SqlIndex {
  abstract readonly dialect: SqlDialect;
  abstract read<T>(fn: (tx: SqlReader) => Promise<T>, opts?: ReadOptions): Promise<T>;
  abstract write<T>(fn: (tx: SqlWriter) => Promise<T>, opts?: WriteOptions): Promise<T>;
  abstract close(): Promise<void>;
  /** Durable already where every commit is (PostgreSQL's synchronous commit). */
  syncWrites(): Promise<void> {
    return Promise.resolve();
  }
  writeTransactions = 0;
  readonly forwardQueue: ForwardQueueStore = new SqlForwardQueue(this);

  /** Gives the space of deleted rows back, where the backend needs to be asked (SQLite); PostgreSQL's autovacuum does it. */
  reclaimSpace(): Promise<void> {
    return Promise.resolve();
  }

  /** A single read statement; backends may run it without an explicit transaction. */
  protected single<T>(fn: (tx: SqlReader) => Promise<T>, opts?: ReadOptions): Promise<T> {
    return this.read(fn, opts);
  }

  insertInstances(records: readonly InstanceRecord[], onDuplicate: DuplicateAction = 'keep', opts?: WriteOptions): Promise<InsertResult[]> {
    return this.write((tx) => tx.insertInstances(records, onDuplicate), opts);
  }
  deleteInstance(uid: string): Promise<{ fileKey: string } | undefined> {
    return this.write((tx) => tx.deleteInstance(uid));
  }
  hasInstance(uid: string, opts?: ReadOptions): Promise<boolean> {
    return this.single((tx) => tx.hasInstance(uid), opts);
  }
  getInstance(uid: string): Promise<InstanceRow | undefined> {
    return this.single((tx) => tx.getInstance(uid));
  }
  hasFileKey(key: string): Promise<boolean> {
    return this.single((tx) => tx.hasFileKey(key));
  }
  fileCheck(key: string): Promise<FileCheck | undefined> {
    return this.single((tx) => tx.fileCheck(key));
  }
  fileKeysEndingWith(suffix: string): Promise<string[]> {
    return this.single((tx) => tx.fileKeysEndingWith(suffix));
  }
  countInstances(): Promise<number> {
    return this.single((tx) => tx.countInstances());
  }
  listStudies(): Promise<StudyRow[]> {
    return this.read((tx) => tx.listStudies());
  }
  listSeries(studyInstanceUid: string): Promise<SeriesRow[]> {
    return this.read((tx) => tx.listSeries(studyInstanceUid));
  }
  listInstances(seriesInstanceUid: string): Promise<InstanceSummary[]> {
    return this.read((tx) => tx.listInstances(seriesInstanceUid));
  }
  updatePatient(key: PatientKey, update: PatientUpdate, reason: string): Promise<number> {
    return this.write((tx) => tx.updatePatient(key, update, reason));
  }
  mergePatients(from: PatientKey, into: PatientKey, reason: string): Promise<number> {
    return this.write((tx) => tx.mergePatients(from, into, reason));
  }
  patientConflicts(limit = 1000): Promise<PatientConflict[]> {
    return this.read((tx) => tx.patientConflicts(limit));
  }
  patientChanges(limit = 100): Promise<PatientChange[]> {
    return this.read((tx) => tx.patientChanges(limit));
  }
}

/** FIFO mutual exclusion for one connection. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The SQL side of an index, for the stores in archive/ that keep tables of their own
 * beside it. Every index this archive opens is one (both backends extend BaseIndex).
 */
export function sqlIndex(index: Index): SqlIndex {
  if (index instanceof BaseIndex) return index;
  throw new TypeError('not an index opened by this archive (SqliteIndex or PostgresIndex)');
}
