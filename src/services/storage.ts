/**
 * Storage Service Class SCP (PS3.4 Annex B): each C-STORE data set streams into the
 * archive's durable ingest; the response is sent only once the archive says durable.
 */
import type { Archive } from '../archive/archive.js';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError, toDimseServiceError } from '../dimse/errors.js';
import type { DimseRequestContext, ResponseSpec, ServiceClassProvider } from '../dimse/service.js';
import type { DatasetSink } from '../dimse/sink-writer.js';
import { quoteValue, STORAGE_SOP_CLASS_UIDS, uidProblem } from '../dicom/uids.js';
import type { AuditRecorder } from '../audit/index.js';

export interface StorageServiceOptions {
  /** SOP classes to accept; default: every standard storage SOP class. */
  sopClasses?: readonly string[];
  /** Told of each instance stored (IHE ATNA: DICOM Instances Transferred per association). */
  audit?: AuditRecorder;
}

export function storageService(archive: Archive, options: StorageServiceOptions = {}): ServiceClassProvider {
  const cStore = (ctx: DimseRequestContext): DatasetSink<ResponseSpec> => {
    const { affectedSopClassUid } = ctx.command;
    const affectedSopInstanceUid = ctx.command.affectedSopInstanceUid ?? '';
    // The command's UIDs are checked here (0xC000: the command itself is at fault); the
    // archive checks the data set's, and that they equal these (0xA900).
    const problem = uidProblem(affectedSopInstanceUid);
    if (problem) {
      throw new DimseServiceError(
        Status.CannotUnderstand,
        `AffectedSOPInstanceUID (0000,1000) is not a UID (${problem}): ${quoteValue(affectedSopInstanceUid)}`,
        [0x00001000],
      );
    }
    const sink = archive.beginStore({
      sopClassUid: affectedSopClassUid ?? ctx.abstractSyntax,
      sopInstanceUid: affectedSopInstanceUid,
      transferSyntaxUid: ctx.transferSyntax,
      callingAeTitle: ctx.association.callingAeTitle,
      calledAeTitle: ctx.association.calledAeTitle,
      peerAddress: ctx.association.peerAddress,
    });
    return {
      write: (chunk) => sink.write(chunk),
      abort: (reason) => sink.abort(reason),
      end: async () => {
        try {
          const outcome = await sink.end();
          const subject = { patientId: outcome.patientId, studyInstanceUid: outcome.studyInstanceUid };
          options.audit?.record({
            kind: 'instance-stored',
            association: ctx.association,
            connection: ctx.connection,
            sopClassUid: affectedSopClassUid ?? ctx.abstractSyntax,
            ...outcome.subject,
          });
          return { status: Status.Success, affectedSopInstanceUid: outcome.sopInstanceUid, subject };
        } catch (err) {
          // The archive's errors carry their status; anything else is "out of resources".
          throw toDimseServiceError(err, Status.OutOfResources);
        }
      },
    };
  };
  return {
    name: 'storage',
    sopClasses: options.sopClasses ?? STORAGE_SOP_CLASS_UIDS,
    streamingHandlers: { [CommandField.C_STORE_RQ]: cStore },
  };
}
