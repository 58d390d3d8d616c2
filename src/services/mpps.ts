/**
 * Modality Performed Procedure Step SOP Class SCP (PS3.4 Annex F.7): N-CREATE makes a
 * step IN PROGRESS, N-SET changes it and ends it COMPLETED or DISCONTINUED.
 *
 * Rules enforced (F.7.2.1, F.7.2.2, Table F.7.2-1):
 * - N-CREATE: the type 1 attributes must be there (0x0120 Missing Attribute, naming
 *   it); the status must be IN PROGRESS (0x0106); an existing SOP instance is 0x0111.
 * - N-SET: an unknown SOP instance is 0x0112; a step already COMPLETED or DISCONTINUED
 *   cannot change (0x0110, "Performed Procedure Step Object may no longer be updated");
 *   a status other than the three is 0x0106; ending a step needs its End Date and Time
 *   (0x0120); Scheduled Step Attributes Sequence, Study Instance UID, Patient ID and
 *   the step's ID are not N-SET attributes (0x0106).
 * The worklist entries a step references (Scheduled Procedure Step ID in the Scheduled
 * Step Attributes Sequence) follow: STARTED, COMPLETED or DISCONTINUED.
 * UIDs are checked where they enter (issue 15 item 7): the step's own (Affected / Requested
 * SOP Instance UID) is 0x0117 Invalid Object Instance when it is not a UID (PS3.7 10.1.5.1.6,
 * 10.1.3.1.6: "violation of the UID construction rules"); every UI value of the data set,
 * in items too (Study, Series, Referenced SOP Class / Instance UIDs), is 0x0106 Invalid
 * Attribute Value with the attribute as Offending Element.
 */
import type { Logger } from 'pino';
import { MPPS_STATUSES, type MppsStatus, type MppsStore } from '../archive/mpps-store.js';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError } from '../dimse/errors.js';
import type { RequestHandler, ServiceClassProvider } from '../dimse/service.js';
import { type Dataset, getString, getStrings } from '../dicom/dataset.js';
import { datasetToJson, type DicomJsonObject } from '../dicom/dataset-json.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { formatTag, tagKeyword } from '../dicom/tag.js';
import { newUid } from '../dicom/uid-generator.js';
import { quoteValue, uidProblem } from '../dicom/uids.js';

export const MPPS_SOP_CLASS = '1.2.840.10008.3.1.2.3.3';

export const P = {
  Modality: 0x00080060,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  ScheduledProcedureStepID: 0x00400009,
  PerformedStationAETitle: 0x00400241,
  PerformedProcedureStepStartDate: 0x00400244,
  PerformedProcedureStepStartTime: 0x00400245,
  PerformedProcedureStepEndDate: 0x00400250,
  PerformedProcedureStepEndTime: 0x00400251,
  PerformedProcedureStepStatus: 0x00400252,
  PerformedProcedureStepID: 0x00400253,
  ScheduledStepAttributesSequence: 0x00400270,
} as const;

const hex = (tag: number): string => tag.toString(16).toUpperCase().padStart(8, '0');
const name = (tag: number): string => `${tagKeyword(tag) ?? 'attribute'} ${formatTag(tag)}`;

/** Type 1 for the N-CREATE (Table F.7.2-1). */
const CREATE_TYPE1 = [
  P.PerformedProcedureStepID,
  P.PerformedStationAETitle,
  P.PerformedProcedureStepStartDate,
  P.PerformedProcedureStepStartTime,
  P.PerformedProcedureStepStatus,
  P.Modality,
];
/** Not allowed in an N-SET (Table F.7.2-1: "Not allowed"). */
const NOT_SETTABLE = [P.ScheduledStepAttributesSequence, P.StudyInstanceUID, P.PatientID, P.PerformedProcedureStepID, P.PerformedStationAETitle, P.Modality];

function parse(bytes: Buffer | undefined, ts: string, what: string): Dataset {
  if (!bytes || bytes.length === 0) throw new DimseServiceError(Status.MissingAttribute, `${what} without attributes`);
  try {
    return readDataset(bytes, ts);
  } catch (err) {
    throw new DimseServiceError(Status.ProcessingFailure, `${what} data set cannot be parsed: ${(err as Error).message}`);
  }
}

const missing = (tag: number): DimseServiceError => new DimseServiceError(Status.MissingAttribute, `${name(tag)} is required`, [tag]);
const nonEmpty = (ds: Dataset, tag: number): boolean => (getString(ds, tag) ?? '') !== '';

function checkStatus(value: string, allowed: readonly string[]): MppsStatus {
  if (!allowed.includes(value)) {
    throw new DimseServiceError(Status.InvalidAttributeValue, `Performed Procedure Step Status "${value}" is not ${allowed.join(' or ')}`, [
      P.PerformedProcedureStepStatus,
    ]);
  }
  return value as MppsStatus;
}

/** The step's own UID (N-CREATE Affected, N-SET Requested SOP Instance UID): 0x0117 when it is not a UID. */
function checkInstanceUid(uid: string, what: string): void {
  const problem = uidProblem(uid);
  if (problem) throw new DimseServiceError(Status.InvalidObjectInstance, `${what} is not a UID (${problem}): ${quoteValue(uid)}`);
}

/** Every non-empty UI value of the data set, items included: 0x0106 naming the first that is not a UID. */
function checkUids(ds: Dataset): void {
  for (const el of ds.values()) {
    if (el.items) {
      for (const item of el.items) checkUids(item);
    } else if (el.vr === 'UI') {
      for (const v of getStrings(ds, el.tag) ?? []) {
        const problem = v === '' ? undefined : uidProblem(v);
        if (problem)
          throw new DimseServiceError(
            Status.InvalidAttributeValue,
            `${tagKeyword(el.tag) ?? 'attribute'} ${formatTag(el.tag)} is not a UID (${problem}): ${quoteValue(v)}`,
            [el.tag],
          );
      }
    }
  }
}

function spsIdsOf(ds: Dataset): string[] {
  const items = ds.get(P.ScheduledStepAttributesSequence)?.items ?? [];
  return items.map((i) => getString(i, P.ScheduledProcedureStepID) ?? '').filter((s) => s !== '');
}

/** A JSON attribute's first value as text ('' when empty or absent). */
function jsonText(json: DicomJsonObject, tag: number): string {
  const v = json[hex(tag)]?.Value?.[0];
  return v === undefined || v === null ? '' : String(v).trim();
}

export interface MppsServiceOptions {
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export function mppsService(store: MppsStore | (() => Promise<MppsStore>), opts: MppsServiceOptions = {}): ServiceClassProvider {
  const getStore = typeof store === 'function' ? store : () => Promise.resolve(store);

  const nCreate: RequestHandler = async (ctx, dataset) => {
    const given = ctx.command.affectedSopInstanceUid;
    if (given !== undefined) checkInstanceUid(given, 'AffectedSOPInstanceUID (0000,1000)');
    const uid = given ?? newUid();
    const ds = parse(dataset, ctx.transferSyntax, 'N-CREATE');
    checkUids(ds);
    const ssa = ds.get(P.ScheduledStepAttributesSequence);
    if (!ssa?.items?.length) throw missing(P.ScheduledStepAttributesSequence);
    for (const item of ssa.items) if (!nonEmpty(item, P.StudyInstanceUID)) throw missing(P.StudyInstanceUID);
    for (const tag of CREATE_TYPE1) if (!nonEmpty(ds, tag)) throw missing(tag);
    const status = checkStatus(getString(ds, P.PerformedProcedureStepStatus) ?? '', ['IN PROGRESS']);
    const spsIds = spsIdsOf(ds);
    const { result, worklistUpdated } = await (
      await getStore()
    ).create({
      sopInstanceUid: uid,
      status,
      callingAeTitle: ctx.association.callingAeTitle,
      spsIds,
      json: datasetToJson(ds),
    });
    if (result === 'duplicate') throw new DimseServiceError(Status.DuplicateSopInstance, `performed procedure step ${uid} already exists`);
    opts.logger?.info({ mpps: uid, calling: ctx.association.callingAeTitle, worklist: worklistUpdated }, 'MPPS IN PROGRESS');
    return { status: Status.Success, affectedSopInstanceUid: uid };
  };

  const nSet: RequestHandler = async (ctx, dataset) => {
    const uid = ctx.command.requestedSopInstanceUid;
    if (!uid) throw new DimseServiceError(Status.MissingAttribute, 'N-SET without Requested SOP Instance UID (0000,1001)');
    checkInstanceUid(uid, 'RequestedSOPInstanceUID (0000,1001)');
    const ds = parse(dataset, ctx.transferSyntax, 'N-SET');
    checkUids(ds);
    for (const tag of NOT_SETTABLE) {
      if (ds.has(tag)) throw new DimseServiceError(Status.InvalidAttributeValue, `${name(tag)} cannot be changed by N-SET`, [tag]);
    }
    const changes = datasetToJson(ds);
    const updated = await (
      await getStore()
    ).update(uid, (cur) => {
      if (cur.status !== 'IN PROGRESS') {
        throw new DimseServiceError(Status.ProcessingFailure, `Performed Procedure Step Object may no longer be updated (${cur.status})`);
      }
      const json: DicomJsonObject = { ...cur.json, ...changes };
      const status = checkStatus(jsonText(json, P.PerformedProcedureStepStatus), MPPS_STATUSES);
      if (status !== 'IN PROGRESS') {
        for (const tag of [P.PerformedProcedureStepEndDate, P.PerformedProcedureStepEndTime]) {
          if (jsonText(json, tag) === '') throw new DimseServiceError(Status.MissingAttribute, `${name(tag)} is required to end the step`, [tag]);
        }
      }
      return { status, json, spsIds: cur.spsIds };
    });
    if (!updated) throw new DimseServiceError(Status.NoSuchSopInstance, `no performed procedure step ${uid}`);
    opts.logger?.info({ mpps: uid, status: updated.record.status, worklist: updated.worklistUpdated }, `MPPS ${updated.record.status}`);
    return { status: Status.Success, affectedSopInstanceUid: uid };
  };

  return {
    name: 'mpps',
    sopClasses: [MPPS_SOP_CLASS],
    handlers: { [CommandField.N_CREATE_RQ]: nCreate, [CommandField.N_SET_RQ]: nSet },
  };
}
