/**
 * DIMSE-N operations as a service user (PS3.7 10.1): N-CREATE, N-SET, N-ACTION and
 * N-EVENT-REPORT over an established association. Each resolves with the response
 * (warnings included) and rejects with DimseFailureStatusError on a failure status.
 */
import { CommandField } from './command-fields.js';
import { Status, statusCategory, statusHex } from '../dicom/status.js';
import type { DimseConnection, ResponseMessage } from './dimse-connection.js';
import { DimseFailureStatusError } from './errors.js';
import { findPresentationContext } from './scu.js';

function checked(op: string, rsp: ResponseMessage): ResponseMessage {
  const status = rsp.command.status ?? Status.Success;
  if (statusCategory(status) === 'failure') {
    const comment = rsp.command.errorComment;
    throw new DimseFailureStatusError(status, comment, `${op} failed with status ${statusHex(status)}${comment ? `: ${comment}` : ''}`);
  }
  return rsp;
}

/** N-CREATE; `sopInstanceUid` may be left to the SCP (its response names it). */
export async function nCreate(conn: DimseConnection, sopClassUid: string, sopInstanceUid: string | undefined, attributes: Buffer): Promise<ResponseMessage> {
  const rsp = await conn.request(
    findPresentationContext(conn, sopClassUid),
    {
      commandField: CommandField.N_CREATE_RQ,
      affectedSopClassUid: sopClassUid,
      affectedSopInstanceUid: sopInstanceUid,
    },
    attributes,
  );
  return checked('N-CREATE', rsp);
}

export async function nSet(conn: DimseConnection, sopClassUid: string, sopInstanceUid: string, modifications: Buffer): Promise<ResponseMessage> {
  const rsp = await conn.request(
    findPresentationContext(conn, sopClassUid),
    {
      commandField: CommandField.N_SET_RQ,
      requestedSopClassUid: sopClassUid,
      requestedSopInstanceUid: sopInstanceUid,
    },
    modifications,
  );
  return checked('N-SET', rsp);
}

export async function nAction(
  conn: DimseConnection,
  sopClassUid: string,
  sopInstanceUid: string,
  actionTypeId: number,
  information?: Buffer,
): Promise<ResponseMessage> {
  const rsp = await conn.request(
    findPresentationContext(conn, sopClassUid),
    {
      commandField: CommandField.N_ACTION_RQ,
      requestedSopClassUid: sopClassUid,
      requestedSopInstanceUid: sopInstanceUid,
      actionTypeId,
    },
    information,
  );
  return checked('N-ACTION', rsp);
}

export async function nEventReport(
  conn: DimseConnection,
  sopClassUid: string,
  sopInstanceUid: string,
  eventTypeId: number,
  information?: Buffer,
): Promise<ResponseMessage> {
  const rsp = await conn.request(
    findPresentationContext(conn, sopClassUid),
    {
      commandField: CommandField.N_EVENT_REPORT_RQ,
      affectedSopClassUid: sopClassUid,
      affectedSopInstanceUid: sopInstanceUid,
      eventTypeId,
    },
    information,
  );
  return checked('N-EVENT-REPORT', rsp);
}
