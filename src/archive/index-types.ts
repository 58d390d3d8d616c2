/**
 * The index: patients / studies / series / instances with the Q/R keys as columns and
 * every non-bulk attribute of each instance as DICOM JSON text (PS3.18 F.2).
 *
 * All access goes through transactions; a read transaction has a type without the
 * write operations (and both backends also enforce it: a read-only SQLite connection,
 * `BEGIN READ ONLY` on PostgreSQL).
 *
 * No SQL here: the stores in archive/ that keep tables of their own beside the index reach
 * SQL through sql-types.ts; the router's forward queue is a typed store of its own
 * (forward-queue.ts).
 */
import type { ForwardQueueStore, ForwardQueueWriter } from './forward-queue.js';
import type { PatientChange, PatientConflict, PatientCorrection, PatientKey, PatientUpdate } from './patient-identity.js';

/** What ingest hands to the index for one received instance. Absent values: undefined or null. */
export interface InstanceRecord {
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientId?: string | null;
  /** Issuer of Patient ID (0010,0021): with the Patient ID, the patient's key. */
  issuerOfPatientId?: string | null;
  patientName?: string | null;
  patientBirthDate?: string | null;
  patientSex?: string | null;
  studyDate?: string | null;
  studyTime?: string | null;
  accessionNumber?: string | null;
  studyId?: string | null;
  studyDescription?: string | null;
  referringPhysicianName?: string | null;
  modality?: string | null;
  seriesNumber?: number | null;
  seriesDescription?: string | null;
  bodyPartExamined?: string | null;
  instanceNumber?: number | null;
  transferSyntaxUid: string;
  fileKey: string;
  fileSize: number;
  /** CRC-32 (zlib) of the whole file; checked by the start-up sweep. */
  fileCrc32?: number | null;
  /** ISO 8601 (UTC). */
  receivedAt: string;
  callingAeTitle: string;
  calledAeTitle?: string | null;
  /** The sender's network address: not an index column, for Archive's afterInsert hook. */
  peerAddress?: string | null;
  /** DICOM JSON of the instance's non-bulk attributes. */
  json: string;
}

/** 'keep': an existing row wins; 'replace': the new record replaces the row (same SOP Instance UID). */
export type DuplicateAction = 'keep' | 'replace';

export type InsertResult = { status: 'stored' } | { status: 'duplicate'; existingFileKey: string } | { status: 'replaced'; previousFileKey: string };

export interface PatientRow {
  patientId: string;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
}

/** A study with its patient's ID and issuer and its own patient attributes (what its instances carried, or a correction). */
export interface StudyRow extends PatientRow {
  /** '' when absent. */
  issuerOfPatientId: string;
  studyInstanceUid: string;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  studyDescription: string | null;
  referringPhysicianName: string | null;
  /** Distinct modalities of the study's series, sorted. */
  modalitiesInStudy: string[];
}

export interface SeriesRow {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  modality: string | null;
  seriesNumber: number | null;
  seriesDescription: string | null;
  bodyPartExamined: string | null;
}

export interface InstanceSummary {
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  instanceNumber: number | null;
  transferSyntaxUid: string;
  fileKey: string;
  fileSize: number;
  receivedAt: string;
  callingAeTitle: string;
  calledAeTitle: string | null;
  /** Set when the study's patient was updated or merged: the patient module the instance goes out with (retrieval.ts). */
  patientCorrection?: PatientCorrection;
}

/** The summary of an instance from the record it was inserted with. */
export function instanceSummary(r: InstanceRecord): InstanceSummary {
  return {
    sopInstanceUid: r.sopInstanceUid,
    sopClassUid: r.sopClassUid,
    seriesInstanceUid: r.seriesInstanceUid,
    studyInstanceUid: r.studyInstanceUid,
    instanceNumber: r.instanceNumber ?? null,
    transferSyntaxUid: r.transferSyntaxUid,
    fileKey: r.fileKey,
    fileSize: r.fileSize,
    receivedAt: r.receivedAt,
    callingAeTitle: r.callingAeTitle,
    calledAeTitle: r.calledAeTitle ?? null,
  };
}

export interface InstanceRow extends InstanceSummary {
  json: string;
}

export interface IndexReader {
  hasInstance(sopInstanceUid: string): Promise<boolean>;
  getInstance(sopInstanceUid: string): Promise<InstanceRow | undefined>;
  /** True when some instance row points at this blob key (used by blob recovery). */
  hasFileKey(fileKey: string): Promise<boolean>;
  /** What the row pointing at this blob key recorded about its file (used by blob recovery). */
  fileCheck(fileKey: string): Promise<FileCheck | undefined>;
  /** Blob keys of rows whose key ends with this suffix (blob recovery; a scan, rare). */
  fileKeysEndingWith(suffix: string): Promise<string[]>;
  countInstances(): Promise<number>;
  listStudies(): Promise<StudyRow[]>;
  listSeries(studyInstanceUid: string): Promise<SeriesRow[]>;
  /** Ordered by instance number, then SOP Instance UID. */
  listInstances(seriesInstanceUid: string): Promise<InstanceSummary[]>;
  /** Patients whose studies disagree on name, birth date or sex, each with its studies (at most `limit` patients). */
  patientConflicts(limit: number): Promise<PatientConflict[]>;
  /** Recorded patient updates and merges, newest first. */
  patientChanges(limit: number): Promise<PatientChange[]>;
}

export interface IndexWriter extends IndexReader {
  /** Upserts patient/study/series, inserts instances; results in record order. */
  insertInstances(records: readonly InstanceRecord[], onDuplicate: DuplicateAction): Promise<InsertResult[]>;
  /** Removes the row (and series/study/patient left empty); returns the deleted row's blob key. */
  deleteInstance(sopInstanceUid: string): Promise<{ fileKey: string } | undefined>;
  /** patient-identity.ts: sets attributes on a patient and its studies (marked corrected); returns the studies touched. */
  updatePatient(key: PatientKey, update: PatientUpdate, reason: string): Promise<number>;
  /** patient-identity.ts: moves every study of `from` to `into` and deletes `from`; returns the studies moved. */
  mergePatients(from: PatientKey, into: PatientKey, reason: string): Promise<number>;
  /** The router's forward queue rows, written in this transaction (Archive's afterInsert hook). */
  readonly forwardQueue: ForwardQueueWriter;
}

/** How a write transaction ends. */
export interface WriteOptions {
  /**
   * Resolve once committed, without waiting for the commit to be durable (SQLite: the WAL
   * fdatasync); syncWrites() or any later write without it makes it durable. Only for
   * facts durable elsewhere: ingest's rows, whose sealed files re-make them (file-blob-store.ts).
   */
  deferSync?: boolean;
  /** Not waiting for the rows pending (Index.setPendingRows): the write that commits them (it would wait for itself). */
  ignorePending?: boolean;
}

/** How a read is made. */
export interface ReadOptions {
  /** Not waiting for the rows pending (Index.setPendingRows): ingest's duplicate check, which looks at them itself. */
  ignorePending?: boolean;
}

/**
 * A statement each write transaction runs first, for a node of several (node-table.ts,
 * "Fencing"): no row means the node may no longer write, and the transaction fails with
 * `error()`.
 */
export interface WriteFence {
  sql: string;
  params: readonly string[];
  error(): Error;
}

export interface Index {
  read<T>(fn: (tx: IndexReader) => Promise<T>, opts?: ReadOptions): Promise<T>;
  write<T>(fn: (tx: IndexWriter) => Promise<T>, opts?: WriteOptions): Promise<T>;
  /** Makes every commit so far durable (those written with deferSync). */
  syncWrites(): Promise<void>;
  /** Number of write transactions committed (for observing group commit). */
  readonly writeTransactions: number;
  /** Fences every later write transaction (PostgreSQL, several nodes); absent where one node owns the index. */
  setWriteFence?(fence: WriteFence): void;
  /**
   * Rows answered for and not yet committed (Archive's deferred rows, where the index has
   * this): every read and write not marked ignorePending first waits for what `pending()`
   * returns (undefined: nothing pending), so whatever was answered for is found. What runs
   * inside that commit (an afterInsert hook) uses its transaction, never the index itself.
   */
  setPendingRows?(pending: () => Promise<void> | undefined): void;
  close(): Promise<void>;
  /** Gives the space of deleted rows back to the file system (SQLite, in bounded steps); resolves when done. */
  reclaimSpace(): Promise<void>;
  /** The router's forward queue in this index (its table created by ensureSchema). */
  readonly forwardQueue: ForwardQueueStore;

  // One-statement conveniences, each its own transaction.
  insertInstances(records: readonly InstanceRecord[], onDuplicate?: DuplicateAction, opts?: WriteOptions): Promise<InsertResult[]>;
  deleteInstance(sopInstanceUid: string): Promise<{ fileKey: string } | undefined>;
  hasInstance(sopInstanceUid: string, opts?: ReadOptions): Promise<boolean>;
  getInstance(sopInstanceUid: string): Promise<InstanceRow | undefined>;
  hasFileKey(fileKey: string): Promise<boolean>;
  fileCheck(fileKey: string): Promise<FileCheck | undefined>;
  fileKeysEndingWith(suffix: string): Promise<string[]>;
  countInstances(): Promise<number>;
  listStudies(): Promise<StudyRow[]>;
  listSeries(studyInstanceUid: string): Promise<SeriesRow[]>;
  listInstances(seriesInstanceUid: string): Promise<InstanceSummary[]>;
  /** Patient identity (patient-identity.ts), each its own transaction; PatientIdentityError when refused. */
  updatePatient(key: PatientKey, update: PatientUpdate, reason: string): Promise<number>;
  mergePatients(from: PatientKey, into: PatientKey, reason: string): Promise<number>;
  patientConflicts(limit?: number): Promise<PatientConflict[]>;
  patientChanges(limit?: number): Promise<PatientChange[]>;
}

export interface FileCheck {
  sopInstanceUid: string;
  fileSize: number;
  /** null for rows stored before the column existed. */
  fileCrc32: number | null;
}
