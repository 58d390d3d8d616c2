/**
 * The C-STORE hot path (DESIGN.md section 3): a Part 10 meta header built from the
 * request, then the dataset bytes exactly as received, go to a new file through a
 * write queue; the same chunks feed the streaming header reader until Pixel Data.
 * Nothing is decoded or re-encoded; memory per store is the write queue.
 *
 * Durability: the file store's protocol (top of file-blob-store.ts). This sink's part:
 * the index record (DICOM JSON) and the duplicate check are made once the header is
 * complete, while the pixel data still arrives; after the last byte the file is sealed
 * and the row (with the file's size and CRC-32) is group-committed, without the index's
 * own fsync, WHILE the file's final fdatasync runs (persistEarly()), and end() resolves
 * (the success response) only once both are done.
 * With duplicatePolicy 'replace' the data is durable before the commit (persist()), since
 * the old version's file is deleted after it and the sweep must never undo that commit.
 * If the fdatasync fails after the commit, the row is deleted before the failure is
 * answered (and if that fails too, the file stays for the sweep to judge by its CRC-32).
 *
 * Deferred rows (SQLite; not with duplicatePolicy 'replace'; `deferred` set): the
 * answer goes once the sealed file is durable, and the row is committed after it, with
 * those of the stores that follow within GroupCommitter's lingerMs (one transaction for
 * several instances of one association). The sealed file is the durable record either
 * way: a crash before that commit leaves the file in its open batch, and the start-up sweep
 * indexes it again (the case of a WAL tail lost after the answer). Until the commit the
 * SOP Instance UID is in `deferred.rowsInFlight` (a store of it is a duplicate), every
 * other read and write of the index waits for the commit (Index.setPendingRows), and the
 * file is settled in its batch (release()) only after it, so the batch is not sealed
 * before. A duplicate committed by another store since this one's check (a race of two
 * associations) keeps the stored copy and drops this file; a commit that fails leaves the
 * file in its open batch for the sweep (leave()), and the stores that begin after it commit
 * before their answer (which then tells of the failure) until a commit succeeds again.
 * Measured (bench/ingest-ab.ts, one association): the index's share of a store is ~0.4 ms
 * of CPU with one row per transaction.
 * The CRC-32 (zlib, ~0.1-0.25 ms per 512 KB on the event loop, while receiving) is the
 * price of committing during the fdatasync: the size alone is no proof, as ext4 may
 * commit a file's size before its unwritten extents hold the data.
 */
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { decodeSeal } from './blob-seal.js';
import type { BlobStore, BlobWriter } from './blob-store.js';
import {
  buildMetaHeader,
  datasetJsonText,
  DatasetHeaderReader,
  DatasetLimitError,
  formatTag,
  getNumber,
  getString,
  quoteValue,
  readMetaHeader,
  uidProblem,
  type Dataset,
} from './dicom-deps.js';
import { Status } from '../dicom/status.js';
import { ArchiveError, DuplicateInstanceError, InvalidDatasetError, OutOfResourcesError, StoreAbortedError } from './errors.js';
import type { GroupCommitter, Reservation } from './group-commit.js';
import type { Index, InsertResult, InstanceRecord } from './index-types.js';

export interface StoreRequest {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  callingAeTitle: string;
  calledAeTitle?: string;
  /** The peer's network address (passed on to afterInsert hooks, not indexed). */
  peerAddress?: string;
  /** When set, the dataset's Study Instance UID must be this one (STOW-RS to one study), else 0xA900. */
  studyInstanceUid?: string;
}

export interface StoreOutcome {
  status: 'stored' | 'duplicate-kept' | 'replaced';
  sopInstanceUid: string;
  /** Dataset bytes received (without the meta header). */
  bytes: number;
  warnings?: string[];
  /** Whose and which study it is (from the data set received): the activity log names them. */
  patientId?: string;
  studyInstanceUid?: string;
  /** The study and patient of what was stored (not of a duplicate kept): what its audit message names. */
  subject?: { studyInstanceUid: string; patientId?: string; patientName?: string; accessionNumber?: string };
}

export interface StoreSink {
  /** Dataset bytes as received, valid only during the call (copied where kept); a returned promise means "wait before sending more". */
  write(chunk: Buffer): void | Promise<void>;
  /** Resolves once the file is durable and the index row committed. */
  end(): Promise<StoreOutcome>;
  /** Drops the temp file; nothing becomes visible. */
  abort(reason?: Error): Promise<void>;
}

export type DuplicatePolicy = 'keep' | 'replace' | 'reject';

export interface IngestContext {
  blobs: BlobStore;
  index: Index;
  committer: GroupCommitter<InstanceRecord, InsertResult>;
  duplicatePolicy: DuplicatePolicy;
  logger: Logger;
  /** limits.dataset.maxHeaderBytes: bytes the header reader may keep of one dataset. */
  maxHeaderBytes: number;
  /** Told of the record once it is durable and committed (stored or replaced); must not throw. */
  onStored?: (record: InstanceRecord) => void;
  /** Deferred rows (top of this file); never with duplicatePolicy 'replace'. */
  deferred?: DeferredRows;
}

/** What a store answered before its row's commit needs (Archive makes one). */
export interface DeferredRows {
  /** The SOP Instance UIDs answered for whose rows are not yet committed. */
  rowsInFlight: Set<string>;
  /** Takes the background work of such a store (Archive tracks it for idle() and close()). */
  background: (work: Promise<void>) => void;
}

const IGNORE_PENDING = { ignorePending: true } as const;

const T = {
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  StudyInstanceUID: 0x0020000d,
  StudyDate: 0x00080020,
  StudyTime: 0x00080030,
  AccessionNumber: 0x00080050,
  StudyID: 0x00200010,
  StudyDescription: 0x00081030,
  ReferringPhysicianName: 0x00080090,
  SeriesInstanceUID: 0x0020000e,
  Modality: 0x00080060,
  SeriesNumber: 0x00200011,
  SeriesDescription: 0x0008103e,
  BodyPartExamined: 0x00180015,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  InstanceNumber: 0x00200013,
} as const;

type SinkState = 'open' | 'ending' | 'done' | 'aborted';

/**
 * The UID attributes checked where an instance enters: they key the index, name the
 * file (hashed), and go into URLs, DICOM JSON and HTTP headers, so each must be a UID
 * (src/dicom/uids.ts). Other UI attributes are stored as sent.
 */
const KEY_UIDS = [
  [T.SOPInstanceUID, 'SOPInstanceUID'],
  [T.SOPClassUID, 'SOPClassUID'],
  [T.StudyInstanceUID, 'StudyInstanceUID'],
  [T.SeriesInstanceUID, 'SeriesInstanceUID'],
] as const;
const TRANSFER_SYNTAX_UID = 0x00020010;

/**
 * A UID attribute whose value is not a UID. 0xA900 "Data Set does not match SOP Class"
 * rather than 0xC000 "Cannot understand" (PS3.4 B.2.3): the data set was parsed and
 * understood, but a Type 1 attribute of the IOD holds a value its VR (UI) does not allow,
 * which makes the data set not conform to the SOP class. 0xC000 stays for data sets that
 * cannot be parsed, and for a transfer syntax that is not a UID (we cannot know how to
 * read such a data set). The comment starts with the attribute's keyword: the C-STORE
 * response keeps only the first 64 characters.
 */
function invalidUid(
  tag: number,
  keyword: string,
  value: string,
  problem: string,
  status: typeof Status.DataSetDoesNotMatchSopClass | typeof Status.CannotUnderstand = Status.DataSetDoesNotMatchSopClass,
): InvalidDatasetError {
  return new InvalidDatasetError(status, `${keyword} ${formatTag(tag)} is not a UID (${problem}): ${quoteValue(value)}`, { offendingElement: [tag] });
}

export class IngestSink implements StoreSink {
  private readonly ctx: IngestContext;
  private readonly req: StoreRequest;
  private readonly writer: BlobWriter;
  private reader: DatasetHeaderReader | undefined;
  private dataset: Dataset | undefined;
  private duplicateCheck: Promise<boolean> | undefined;
  private failure: ArchiveError | undefined;
  private state: SinkState = 'open';
  private bytes = 0;
  /** A committed row could not be taken back: the files stay for the sweep to judge. */
  private keepFiles = false;
  /** Index write transactions when the duplicate check started (deferred rows: a later commit means checking again). */
  private commitsAtCheck = -1;

  constructor(ctx: IngestContext, req: StoreRequest) {
    this.ctx = ctx;
    this.req = req;
    this.writer = ctx.blobs.begin();
    const requestFault = this.requestUidFault();
    if (requestFault) {
      this.fail(requestFault);
      return;
    }
    try {
      this.reader = new DatasetHeaderReader({ transferSyntaxUid: req.transferSyntaxUid, maxRetainedBytes: ctx.maxHeaderBytes });
      void this.writer.write(
        buildMetaHeader({
          sopClassUid: req.sopClassUid,
          sopInstanceUid: req.sopInstanceUid,
          transferSyntaxUid: req.transferSyntaxUid,
          sourceAeTitle: req.callingAeTitle,
        }),
      );
    } catch (e) {
      this.fail(new InvalidDatasetError(Status.CannotUnderstand, `cannot store: ${(e as Error).message}`, { cause: e }));
    }
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.state !== 'open') throw new StoreAbortedError(`store of ${this.req.sopInstanceUid} is ${this.state}`);
    this.bytes += chunk.length;
    if (this.failure) return; // the rest of an invalid dataset is drained and dropped
    if (this.reader) {
      try {
        this.reader.push(chunk);
      } catch (e) {
        this.fail(this.readerFailure(e));
        return;
      }
      if (this.reader.done) this.headerComplete();
      if (this.failure) return;
    }
    return this.writer.write(chunk);
  }

  async end(): Promise<StoreOutcome> {
    if (this.state !== 'open') throw new StoreAbortedError(`store of ${this.req.sopInstanceUid} is ${this.state}`);
    this.state = 'ending';
    try {
      return await this.finish();
    } catch (e) {
      if (!this.keepFiles) await this.writer.abort();
      throw e;
    } finally {
      this.state = 'done';
    }
  }

  async abort(reason?: Error): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.reader = undefined;
    this.ctx.logger.debug({ sopInstanceUid: this.req.sopInstanceUid, err: reason }, 'store aborted');
    await this.writer.abort();
  }

  /** The request's own UIDs (C-STORE command, STOW-RS meta header), before anything is written. */
  private requestUidFault(): InvalidDatasetError | undefined {
    const { req } = this;
    const ts = uidProblem(req.transferSyntaxUid);
    if (ts) return invalidUid(TRANSFER_SYNTAX_UID, 'TransferSyntaxUID', req.transferSyntaxUid, ts, Status.CannotUnderstand);
    // Named as the data set attributes they must equal.
    for (const [tag, keyword, value] of [
      [T.SOPInstanceUID, 'SOPInstanceUID', req.sopInstanceUid],
      [T.SOPClassUID, 'SOPClassUID', req.sopClassUid],
    ] as const) {
      const problem = uidProblem(value);
      if (problem) return invalidUid(tag, keyword, value, problem);
    }
    return undefined;
  }

  /** What a header reader failure answers: a header past the cap is refused for its size, the rest cannot be parsed. */
  private readerFailure(e: unknown): ArchiveError {
    if (e instanceof DatasetLimitError) {
      return new OutOfResourcesError(`header over limits.dataset.maxHeaderBytes (${e.limit} bytes): ${e.message}`, { cause: e });
    }
    return new InvalidDatasetError(Status.CannotUnderstand, `cannot parse dataset: ${(e as Error).message}`, { cause: e });
  }

  private fail(err: ArchiveError): void {
    if (this.failure) return;
    this.failure = err;
    this.reader = undefined;
    void this.writer.abort(); // stop writing now; end() reports the error
  }

  private headerComplete(): void {
    const reader = this.reader!;
    this.reader = undefined;
    const ds = reader.dataset;
    const { req } = this;
    for (const [tag, keyword] of KEY_UIDS) {
      const value = getString(ds, tag);
      const problem = value === undefined ? undefined : uidProblem(value);
      if (problem) return this.fail(invalidUid(tag, keyword, value!, problem));
    }
    const sopInstanceUid = getString(ds, T.SOPInstanceUID);
    const sopClassUid = getString(ds, T.SOPClassUID);
    const mismatch = (what: string, got: string | undefined, want: string): void =>
      this.fail(
        new InvalidDatasetError(
          Status.DataSetDoesNotMatchSopClass,
          got === undefined ? `dataset has no ${what}` : `dataset ${what} ${got} differs from the request's ${want}`,
        ),
      );
    if (sopInstanceUid !== req.sopInstanceUid) return mismatch('SOP Instance UID', sopInstanceUid, req.sopInstanceUid);
    if (sopClassUid !== req.sopClassUid) return mismatch('SOP Class UID', sopClassUid, req.sopClassUid);
    const study = getString(ds, T.StudyInstanceUID);
    if (!study) return mismatch('Study Instance UID', undefined, '');
    if (req.studyInstanceUid !== undefined && study !== req.studyInstanceUid) return mismatch('Study Instance UID', study, req.studyInstanceUid);
    if (!getString(ds, T.SeriesInstanceUID)) return mismatch('Series Instance UID', undefined, '');
    this.dataset = ds;
    // The duplicate check runs while the pixel data still arrives. The index record (its
    // DICOM JSON, ~0.15 ms) is made in finish(), during the file's fdatasync: while the
    // data arrives the event loop is the bottleneck of a store, during the fdatasync it waits.
    if (this.ctx.duplicatePolicy !== 'replace') {
      this.commitsAtCheck = this.ctx.index.writeTransactions;
      this.duplicateCheck = this.indexCall(() => this.ctx.index.hasInstance(req.sopInstanceUid, IGNORE_PENDING));
      this.duplicateCheck.catch(() => undefined); // awaited in finish()
    }
  }

  private async finish(): Promise<StoreOutcome> {
    const { req, ctx } = this;
    if (!this.failure && this.reader) {
      try {
        this.reader.end();
      } catch (e) {
        this.fail(this.readerFailure(e));
      }
      if (!this.failure) this.headerComplete();
    }
    if (this.failure) throw this.failure;
    const ds = this.dataset!;

    if (ctx.duplicatePolicy !== 'replace' && (await (this.duplicateCheck ?? this.indexCall(() => ctx.index.hasInstance(req.sopInstanceUid, IGNORE_PENDING))))) {
      await this.writer.abort();
      return this.duplicate();
    }
    if (ctx.deferred) {
      const { record, durable } = await this.persistWithRecord(ds);
      return this.answerThenCommit(record, durable, ctx.deferred);
    }
    const place = ctx.committer.reserve();
    const { record, durable } = await this.persistWithRecord(ds, place);
    let result: InsertResult;
    try {
      result = await place.submit(record);
    } catch (e) {
      if (!(e instanceof ArchiveError)) {
        // Not a refusal of this instance: the commit may have taken effect before the
        // connection was lost, or this node was fenced and a sweep owns its batch now.
        // Deleting the file could leave a row without it: the sweep decides instead.
        this.keepFiles = true;
        await durable.catch(() => undefined);
        void this.writer.leave();
        ctx.logger.warn({ err: (e as Error).message, sopInstanceUid: req.sopInstanceUid }, 'index commit failed: the file is left to the sweep');
        throw new OutOfResourcesError(`index failure: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    } finally {
      await durable.catch(() => undefined); // settled before the writer is aborted or released
    }
    try {
      await durable;
    } catch (e) {
      // Committed, but the data is not durable: take the row back (the file stays if
      // that fails, and the sweep does it at the next start, the CRC-32 not matching).
      const err = this.cannotWrite(e);
      if (result.status !== 'stored') throw err;
      await ctx.index.deleteInstance(req.sopInstanceUid).catch((de: unknown) => {
        this.keepFiles = true;
        ctx.logger.error({ err: de, sopInstanceUid: req.sopInstanceUid }, 'cannot remove the row of a file that did not become durable');
      });
      throw err;
    }
    switch (result.status) {
      case 'stored':
        void this.writer.release(); // background: the file is closed
        ctx.onStored?.(record);
        return { status: 'stored', sopInstanceUid: req.sopInstanceUid, bytes: this.bytes, ...this.subject(), subject: subjectOf(record) };
      case 'duplicate': // stored concurrently since the check above
        await this.writer.abort();
        return this.duplicate();
      case 'replaced':
        // After the commit: a crash before this leaves the old file without a row (file-blob-store.ts).
        await ctx.blobs
          .delete(result.previousFileKey)
          .catch((e: unknown) => ctx.logger.warn({ err: e, fileKey: result.previousFileKey }, 'cannot delete replaced file'));
        void this.writer.release();
        ctx.logger.info({ sopInstanceUid: req.sopInstanceUid, callingAeTitle: req.callingAeTitle }, 'duplicate SOP Instance UID: replaced');
        ctx.onStored?.(record);
        return { status: 'replaced', sopInstanceUid: req.sopInstanceUid, bytes: this.bytes, ...this.subject(), subject: subjectOf(record) };
    }
  }

  /**
   * Seals the file and starts its final fdatasync, making the row meanwhile (the file's size
   * and CRC-32 are known once every byte is accepted); resolves once the name is durable,
   * `durable` when the fdatasync is done. The row may be committed while it runs (top of
   * file-blob-store.ts), except when it replaces a row: the old version is deleted after
   * the commit, and the sweep must never undo a replacement whose old file is gone.
   * A failure cancels `place`.
   */
  private async persistWithRecord(ds: Dataset, place?: Reservation<InstanceRecord, InsertResult>): Promise<{ record: InstanceRecord; durable: Promise<void> }> {
    const persisting = this.ctx.duplicatePolicy === 'replace' ? this.writer.persist().then(() => ({ durable: Promise.resolve() })) : this.writer.persistEarly();
    persisting.catch(() => undefined); // awaited below
    let record: InstanceRecord;
    try {
      record = this.record(ds); // while the last writes are with the device
    } catch (e) {
      place?.cancel();
      await persisting.catch(() => undefined); // settled before the writer is aborted
      throw e;
    }
    try {
      return { record, durable: (await persisting).durable };
    } catch (e) {
      place?.cancel();
      throw this.cannotWrite(e);
    }
  }

  private cannotWrite(e: unknown): OutOfResourcesError {
    return new OutOfResourcesError(`cannot write ${this.req.sopInstanceUid}: ${(e as Error).message}`, { cause: e });
  }

  /** Deferred rows (top of this file): answered once the file is durable, the row committed after. */
  private async answerThenCommit(record: InstanceRecord, durable: Promise<void>, { rowsInFlight: inFlight, background }: DeferredRows): Promise<StoreOutcome> {
    const { req, ctx } = this;
    try {
      await durable;
    } catch (e) {
      throw this.cannotWrite(e);
    }
    // A row committed since the check during the transfer (another association's store of
    // the same instance), or one answered for and not yet committed (looked at last, with
    // no await between that and taking the UID): a duplicate.
    const uid = req.sopInstanceUid;
    const committedSince = this.commitsAtCheck !== ctx.index.writeTransactions;
    if ((committedSince && !inFlight.has(uid) && (await this.indexCall(() => ctx.index.hasInstance(uid, IGNORE_PENDING)))) || inFlight.has(uid)) {
      await this.writer.abort();
      return this.duplicate();
    }
    inFlight.add(uid);
    background(this.commitDeferred(record, inFlight));
    return { status: 'stored', sopInstanceUid: req.sopInstanceUid, bytes: this.bytes, ...this.subject(), subject: subjectOf(record) };
  }

  /** The row of a store already answered for, committed with the next ones'. Never rejects. */
  private async commitDeferred(record: InstanceRecord, inFlight: Set<string>): Promise<void> {
    const { ctx } = this;
    try {
      const result = await ctx.committer.submit(record, { linger: true });
      if (result.status === 'stored') {
        await this.writer.release();
        ctx.onStored?.(record);
      } else {
        ctx.logger.info(
          { sopInstanceUid: record.sopInstanceUid, callingAeTitle: record.callingAeTitle },
          'duplicate SOP Instance UID committed meanwhile: stored copy kept',
        );
        await this.writer.abort();
      }
    } catch (err) {
      ctx.logger.error({ err, sopInstanceUid: record.sopInstanceUid }, 'index commit failed after the answer: the file is indexed again at the next start');
      await this.writer.leave();
    } finally {
      inFlight.delete(record.sopInstanceUid);
    }
  }

  private duplicate(): StoreOutcome {
    const { req, ctx } = this;
    if (ctx.duplicatePolicy === 'reject') {
      throw new DuplicateInstanceError(`SOP Instance ${req.sopInstanceUid} is already stored`);
    }
    ctx.logger.info({ sopInstanceUid: req.sopInstanceUid, callingAeTitle: req.callingAeTitle }, 'duplicate SOP Instance UID: stored copy kept');
    return {
      status: 'duplicate-kept',
      sopInstanceUid: req.sopInstanceUid,
      bytes: this.bytes,
      warnings: ['duplicate SOP Instance UID: the stored instance was kept'],
      ...this.subject(),
    };
  }

  private subject(): Pick<StoreOutcome, 'patientId' | 'studyInstanceUid'> {
    const ds = this.dataset;
    if (!ds) return {};
    const patientId = getString(ds, T.PatientID);
    const studyInstanceUid = getString(ds, T.StudyInstanceUID);
    // Assigned, not spread from literals: this runs once per stored instance.
    const out: Pick<StoreOutcome, 'patientId' | 'studyInstanceUid'> = {};
    if (patientId) out.patientId = patientId;
    if (studyInstanceUid) out.studyInstanceUid = studyInstanceUid;
    return out;
  }

  private async indexCall<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      throw new OutOfResourcesError(`index failure: ${(e as Error).message}`, { cause: e });
    }
  }

  private record(ds: Dataset): InstanceRecord {
    return instanceRecord(ds, this.req, { key: this.writer.key, size: this.writer.bytes, crc32: this.writer.crc32 }, new Date().toISOString());
  }
}

/** The index row of an instance: its attributes from the data set, the request's facts, its file. */
export function instanceRecord(ds: Dataset, req: StoreRequest, file: { key: string; size: number; crc32: number }, receivedAt: string): InstanceRecord {
  const s = (tag: number): string | null => getString(ds, tag) || null;
  const n = (tag: number): number | null => {
    const v = getNumber(ds, tag);
    return v === undefined || !Number.isSafeInteger(v) ? null : v;
  };
  return {
    sopInstanceUid: req.sopInstanceUid,
    sopClassUid: req.sopClassUid,
    studyInstanceUid: s(T.StudyInstanceUID)!,
    seriesInstanceUid: s(T.SeriesInstanceUID)!,
    patientId: s(T.PatientID),
    issuerOfPatientId: s(T.IssuerOfPatientID),
    patientName: s(T.PatientName),
    patientBirthDate: s(T.PatientBirthDate),
    patientSex: s(T.PatientSex),
    studyDate: s(T.StudyDate),
    studyTime: s(T.StudyTime),
    accessionNumber: s(T.AccessionNumber),
    studyId: s(T.StudyID),
    studyDescription: s(T.StudyDescription),
    referringPhysicianName: s(T.ReferringPhysicianName),
    modality: s(T.Modality),
    seriesNumber: n(T.SeriesNumber),
    seriesDescription: s(T.SeriesDescription),
    bodyPartExamined: s(T.BodyPartExamined),
    instanceNumber: n(T.InstanceNumber),
    transferSyntaxUid: req.transferSyntaxUid,
    fileKey: file.key,
    fileSize: file.size,
    fileCrc32: file.crc32,
    receivedAt,
    callingAeTitle: req.callingAeTitle,
    calledAeTitle: req.calledAeTitle ?? null,
    peerAddress: req.peerAddress ?? null,
    json: datasetJsonText(ds),
  };
}

/**
 * The index record of a stored file read back from the file itself (the start-up sweep: a
 * sealed file whose row was lost): its meta header (SOP class and instance, transfer
 * syntax, the sender's AE title) and its data set up to Pixel Data; undefined when the
 * file cannot be read as what ingest writes.
 */
export async function recordOfStoredFile(path: string, key: string, maxHeaderBytes: number): Promise<InstanceRecord | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size, mtime } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, 1 << 20));
    await fh.read(head, 0, head.length, 0);
    const seal = decodeSeal(head);
    if (!seal || seal.size !== size) return undefined;
    const { meta, dataSetOffset } = readMetaHeader(head);
    const reader = new DatasetHeaderReader({ transferSyntaxUid: meta.transferSyntaxUid, maxRetainedBytes: maxHeaderBytes });
    reader.push(head.subarray(dataSetOffset));
    const chunk = Buffer.alloc(1 << 20);
    for (let pos = head.length; !reader.done && pos < size;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) break;
      reader.push(Buffer.from(chunk.subarray(0, bytesRead)));
      pos += bytesRead;
    }
    if (!reader.done) reader.end();
    const ds = reader.dataset;
    if (getString(ds, T.SOPInstanceUID) !== meta.mediaStorageSopInstanceUid || !getString(ds, T.StudyInstanceUID) || !getString(ds, T.SeriesInstanceUID)) {
      return undefined;
    }
    const req: StoreRequest = {
      sopClassUid: meta.mediaStorageSopClassUid,
      sopInstanceUid: meta.mediaStorageSopInstanceUid,
      transferSyntaxUid: meta.transferSyntaxUid,
      callingAeTitle: meta.sourceAeTitle ?? '',
    };
    return instanceRecord(ds, req, { key, size, crc32: seal.bodyCrc32 }, mtime.toISOString());
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

function subjectOf(r: InstanceRecord): StoreOutcome['subject'] {
  const subject: NonNullable<StoreOutcome['subject']> = { studyInstanceUid: r.studyInstanceUid };
  if (r.patientId) subject.patientId = r.patientId;
  if (r.patientName) subject.patientName = r.patientName;
  if (r.accessionNumber) subject.accessionNumber = r.accessionNumber;
  return subject;
}
