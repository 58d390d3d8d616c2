/**
 * The data sets of Storage Commitment Push Model (PS3.4 J.3): the N-ACTION's Action
 * Information (Transaction UID, Referenced SOP Sequence) and the N-EVENT-REPORT's Event
 * Information (Transaction UID, Referenced SOP Sequence of the committed instances,
 * Failed SOP Sequence with a Failure Reason each).
 */
import type { CommitmentRef, CommitmentResult, FailedRef } from '../archive/commitment-store.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError } from '../dimse/errors.js';
import { Dataset, getNumber, getString } from '../dicom/dataset.js';
import { putNumbers, putString } from '../dicom/dataset-writer.js';
import { isValidUid } from '../dicom/uid-generator.js';

export const STORAGE_COMMITMENT_PUSH = '1.2.840.10008.1.20.1';
/** The well-known SOP Instance of the Storage Commitment Push Model (PS3.4 J.3.5). */
export const STORAGE_COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';

export const C = {
  RetrieveAETitle: 0x00080054,
  ReferencedSOPClassUID: 0x00081150,
  ReferencedSOPInstanceUID: 0x00081155,
  TransactionUID: 0x00081195,
  FailureReason: 0x00081197,
  FailedSOPSequence: 0x00081198,
  ReferencedSOPSequence: 0x00081199,
} as const;

function refItem(parent: Dataset, r: CommitmentRef): Dataset {
  const d = new Dataset(parent);
  putString(d, C.ReferencedSOPClassUID, 'UI', r.sopClassUid);
  putString(d, C.ReferencedSOPInstanceUID, 'UI', r.sopInstanceUid);
  return d;
}

export function commitRequestDataset(transactionUid: string, refs: readonly CommitmentRef[]): Dataset {
  const ds = new Dataset();
  putString(ds, C.TransactionUID, 'UI', transactionUid);
  ds.put({ tag: C.ReferencedSOPSequence, vr: 'SQ', length: 0, items: refs.map((r) => refItem(ds, r)) });
  return ds;
}

export function commitReportDataset(transactionUid: string, result: CommitmentResult, retrieveAeTitle?: string): Dataset {
  const ds = new Dataset();
  if (retrieveAeTitle && result.success.length) putString(ds, C.RetrieveAETitle, 'AE', retrieveAeTitle);
  putString(ds, C.TransactionUID, 'UI', transactionUid);
  if (result.failed.length) {
    ds.put({
      tag: C.FailedSOPSequence,
      vr: 'SQ',
      length: 0,
      items: result.failed.map((f) => putNumbers(refItem(ds, f), C.FailureReason, 'US', [f.reason])),
    });
  }
  if (result.success.length) ds.put({ tag: C.ReferencedSOPSequence, vr: 'SQ', length: 0, items: result.success.map((r) => refItem(ds, r)) });
  return ds;
}

/** Event Type ID (PS3.4 J.3.3.1): 1 = all committed, 2 = some failed. */
export const eventTypeOf = (result: CommitmentResult): number => (result.failed.length ? 2 : 1);

const missing = (tag: number, what: string) => new DimseServiceError(Status.MissingAttribute, `${what} is required`, [tag]);

function refsOf(items: readonly Dataset[], strict: boolean): CommitmentRef[] {
  return items.map((item) => {
    const sopClassUid = getString(item, C.ReferencedSOPClassUID) ?? '';
    const sopInstanceUid = getString(item, C.ReferencedSOPInstanceUID) ?? '';
    if (strict) {
      if (!sopClassUid) throw missing(C.ReferencedSOPClassUID, 'Referenced SOP Class UID (0008,1150) in each item');
      if (!sopInstanceUid) throw missing(C.ReferencedSOPInstanceUID, 'Referenced SOP Instance UID (0008,1155) in each item');
      if (!isValidUid(sopClassUid) || !isValidUid(sopInstanceUid)) {
        throw new DimseServiceError(Status.InvalidArgumentValue, `not a UID: "${isValidUid(sopClassUid) ? sopInstanceUid : sopClassUid}"`);
      }
    }
    return { sopClassUid, sopInstanceUid };
  });
}

/** The N-ACTION's request; DimseServiceError (0x0120, 0x0115) naming what is missing or wrong. */
export function parseCommitRequest(ds: Dataset): { transactionUid: string; refs: CommitmentRef[] } {
  const transactionUid = getString(ds, C.TransactionUID) ?? '';
  if (!transactionUid) throw missing(C.TransactionUID, 'Transaction UID (0008,1195)');
  if (!isValidUid(transactionUid)) throw new DimseServiceError(Status.InvalidArgumentValue, `Transaction UID "${transactionUid}" is not a UID`);
  const items = ds.get(C.ReferencedSOPSequence)?.items;
  if (!items?.length) throw missing(C.ReferencedSOPSequence, 'Referenced SOP Sequence (0008,1199) with at least one item');
  return { transactionUid, refs: refsOf(items, true) };
}

export function parseCommitReport(ds: Dataset): { transactionUid: string } & CommitmentResult {
  const success = refsOf(ds.get(C.ReferencedSOPSequence)?.items ?? [], false);
  const failed: FailedRef[] = (ds.get(C.FailedSOPSequence)?.items ?? []).map((item) => ({
    ...refsOf([item], false)[0],
    reason: getNumber(item, C.FailureReason) ?? Status.ProcessingFailure,
  }));
  return { transactionUid: getString(ds, C.TransactionUID) ?? '', success, failed };
}
