/** Service-user operations over an established association (PS3.7 9.1, 9.3). */
import { CommandField } from './command-fields.js';
import { Status, statusCategory, statusHex } from '../dicom/status.js';
import type { DatasetSource, DimseConnection, ResponseMessage } from './dimse-connection.js';
import { DimseFailureStatusError } from './errors.js';

function contextFor(conn: DimseConnection, abstractSyntax: string, transferSyntax?: string): number {
  for (const [id, ctx] of conn.transport.contexts) {
    if (ctx.abstractSyntax === abstractSyntax && (!transferSyntax || ctx.transferSyntax === transferSyntax)) return id;
  }
  throw new Error(`no accepted presentation context for ${abstractSyntax}${transferSyntax ? ` in ${transferSyntax}` : ''}`);
}

export { contextFor as findPresentationContext };

function failIfFailure(op: string, rsp: ResponseMessage): ResponseMessage {
  const status = rsp.command.status ?? Status.Success;
  if (statusCategory(status) === 'failure' || statusCategory(status) === 'cancel') {
    const comment = rsp.command.errorComment;
    throw new DimseFailureStatusError(status, comment, `${op} failed with status ${statusHex(status)}${comment ? `: ${comment}` : ''}`);
  }
  return rsp;
}

export async function cEcho(conn: DimseConnection): Promise<ResponseMessage> {
  const sopClass = '1.2.840.10008.1.1';
  const rsp = await conn.request(contextFor(conn, sopClass), { commandField: CommandField.C_ECHO_RQ, affectedSopClassUid: sopClass });
  return failIfFailure('C-ECHO', rsp);
}

export interface CStoreRequest {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  priority?: number;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
}

/** Sends one C-STORE; resolves with the response (warnings included), rejects on failure statuses. */
export async function cStore(conn: DimseConnection, rq: CStoreRequest, dataset: DatasetSource): Promise<ResponseMessage> {
  const contextId = contextFor(conn, rq.sopClassUid, rq.transferSyntaxUid);
  const rsp = await conn.request(
    contextId,
    {
      commandField: CommandField.C_STORE_RQ,
      affectedSopClassUid: rq.sopClassUid,
      affectedSopInstanceUid: rq.sopInstanceUid,
      priority: rq.priority ?? 0,
      moveOriginatorAeTitle: rq.moveOriginatorAeTitle,
      moveOriginatorMessageId: rq.moveOriginatorMessageId,
    },
    dataset,
  );
  return failIfFailure('C-STORE', rsp);
}
