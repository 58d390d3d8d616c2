/**
 * What the rest of the PACS tells the audit trail: one plain record per event, in the
 * terms of the place it happens (AE titles, addresses, users, UIDs). audit-trail.ts turns
 * each into the DICOM audit message(s) of PS3.15 A.5.3 it calls for.
 */
import type { Subjects } from './messages.js';

export type { Subjects } from './messages.js';

/** A DICOM peer: its AE title and network address. */
export interface AePeer {
  aeTitle: string;
  address?: string;
}

/** A web user: the login name and the client's address. */
export interface WebActor {
  user: string;
  address?: string;
}

/** The association an instance arrived on; its `connection` says when it ends. */
export interface StoreAssociation {
  association: { callingAeTitle: string; calledAeTitle: string; peerAddress?: string };
  connection: { once(event: 'closed', listener: () => void): unknown };
}

export type AuditEvent =
  /** A server role started listening, or stopped (A.5.3.1 Application Activity). */
  | { kind: 'application-start' | 'application-stop'; aeTitle: string }
  /** An association was refused (A.5.3.11 Security Alert, Node Authentication). */
  | { kind: 'association-rejected'; calling: string; called: string; address: string; reason: string }
  /** A TLS handshake with a caller failed (A.5.3.11 Security Alert, Node Authentication). */
  | { kind: 'tls-failure'; called: string; address: string; reason: string }
  /** An instance was stored; reported per study when its association ends (A.5.3.7, action C). */
  | (StoreAssociation & {
      kind: 'instance-stored';
      sopClassUid: string;
      studyInstanceUid?: string;
      patientId?: string;
      patientName?: string;
      accessionNumber?: string;
    })
  /** A C-MOVE or C-GET starts sending (A.5.3.3 Begin Transferring DICOM Instances). */
  | { kind: 'retrieve-begin'; via: 'C-MOVE' | 'C-GET'; requestor: AePeer; source: string; destination: AePeer; subjects: Subjects }
  /** A C-MOVE or C-GET finished (A.5.3.7 DICOM Instances Transferred, action R); `failed` sub-operations make it a minor failure. */
  | {
      kind: 'retrieve-done';
      via: 'C-MOVE' | 'C-GET';
      requestor: AePeer;
      source: string;
      destination: AePeer;
      subjects: Subjects;
      completed: number;
      failed: number;
    }
  /** A C-FIND or QIDO-RS request (A.5.3.10 Query). */
  | {
      kind: 'query';
      via: 'C-FIND' | 'QIDO-RS';
      requestor: AePeer | WebActor;
      responder: string;
      sopClassUid: string;
      request: Buffer;
      transferSyntaxUid?: string;
    }
  /** A web login that succeeded or failed, a logout (A.5.3.12 User Authentication). */
  | ({ kind: 'login'; ok: boolean; reason?: string } & WebActor)
  | ({ kind: 'logout' } & WebActor)
  /** Instances read out over the web (WADO-RS, WADO-URI): A.5.3.7, action R, to the user. */
  | ({ kind: 'web-retrieve'; via: string; source: string; subjects: Subjects } & WebActor)
  /** A download of a study or series as a file (A.5.3.4 Export). */
  | ({ kind: 'export'; url: string; source: string; subjects: Subjects; anonymized: boolean } & WebActor)
  /** Instances deleted from the archive: a whole study (A.5.3.8) or part of one (A.5.3.6, action D). */
  | ({ kind: 'deleted'; level: 'study' | 'series' | 'instance'; subjects: Subjects; ok: boolean } & WebActor);

export type AuditEventKind = AuditEvent['kind'];

/** The one object every event point calls; `record` never throws and never waits. */
export interface AuditRecorder {
  record(event: AuditEvent): void;
}

/** Records nothing: for code run without an audit trail (tests, tools). */
export const noAudit: AuditRecorder = { record: () => undefined };
