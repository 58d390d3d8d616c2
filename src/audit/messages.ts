/**
 * DICOM audit messages (PS3.15 A.5): one builder per message of A.5.3 this PACS emits,
 * each returning the XML of the A.5.1 schema (test/fixtures/atna/ holds the schema and
 * validates every builder's output). The shape every message shares:
 *
 *   EventIdentification        what happened, when, with what outcome (EventID from CID 400)
 *   ActiveParticipant+         who took part, with their role (CID 402) and who asked
 *   AuditSourceIdentification  who reports it (this PACS)
 *   ParticipantObjectIdentification*  what it was about: patients, studies, a query
 */
import { EventId, EventType, MediaType, ObjectIdType, Role, type Action, type Code, type Outcome } from './codes.js';
import { toXml, type XmlElement } from './xml-writer.js';

/** An ActiveParticipant: a user, a process or an application entity. */
export interface Participant {
  /** UserID: an AE title, a user name, a process id. */
  userId: string;
  /** AlternativeUserID: PS3.15 A.5.2.1 puts "AETITLES=<aet>" here for a DICOM application. */
  alternativeUserId?: string;
  userName?: string;
  requestor: boolean;
  /** NetworkAccessPointID: an IP address (type 2) or host name (type 1). */
  address?: string;
  roles?: Code[];
  /** MediaIdentifier/MediaType, for the media participant of an export. */
  media?: Code;
}

/** AuditSourceIdentification: this PACS. */
export interface AuditSource {
  /** AuditSourceID: the device name (or AE title) that reports. */
  id: string;
  /** AuditEnterpriseSiteID: the hospital or site. */
  siteId?: string;
}

/** A study as a participant object; `sopClasses` summarise its instances involved. */
export interface StudyRef {
  studyInstanceUid: string;
  accessionNumbers?: string[];
  sopClasses?: { uid: string; count: number }[];
  anonymized?: boolean;
}

export interface PatientRef {
  id: string;
  name?: string;
}

/** The patients and studies an event concerns (PS3.15 A.5.2.5/A.5.2.6 forms). */
export interface Subjects {
  patients: PatientRef[];
  studies: StudyRef[];
}

export interface EventHead {
  time: Date;
  outcome: Outcome;
  /** EventOutcomeDescription: why it failed. */
  description?: string;
}

interface ObjectSpec {
  id: string;
  typeCode: '1' | '2' | '3' | '4';
  role: string;
  lifeCycle?: string;
  idType: Code;
  /** The schema asks for a ParticipantObjectName or a ParticipantObjectQuery. */
  name?: string;
  query?: Buffer;
  details?: { type: string; value: string | Buffer }[];
  description?: XmlElement[];
}

const code = (name: string, c: Code): XmlElement => ({ name, attrs: { 'csd-code': c.code, codeSystemName: c.system, originalText: c.meaning } });

/** xsd:dateTime with milliseconds and the UTC zone (RFC 5424 and PS3.15 A.5.1 both take it). */
const dateTime = (d: Date): string => d.toISOString();

function activeParticipant(p: Participant): XmlElement {
  return {
    name: 'ActiveParticipant',
    attrs: {
      UserID: p.userId,
      AlternativeUserID: p.alternativeUserId,
      UserName: p.userName,
      UserIsRequestor: p.requestor,
      NetworkAccessPointID: p.address,
      NetworkAccessPointTypeCode: p.address === undefined ? undefined : /^[\d.]+$|:/.test(p.address) ? '2' : '1',
    },
    children: [...(p.roles ?? []).map((r) => code('RoleIDCode', r)), p.media ? { name: 'MediaIdentifier', children: [code('MediaType', p.media)] } : undefined],
  };
}

function participantObject(o: ObjectSpec): XmlElement {
  return {
    name: 'ParticipantObjectIdentification',
    attrs: {
      ParticipantObjectID: o.id,
      ParticipantObjectTypeCode: o.typeCode,
      ParticipantObjectTypeCodeRole: o.role,
      ParticipantObjectDataLifeCycle: o.lifeCycle,
    },
    children: [
      code('ParticipantObjectIDTypeCode', o.idType),
      o.query !== undefined ? { name: 'ParticipantObjectQuery', text: o.query.toString('base64') } : { name: 'ParticipantObjectName', text: o.name ?? o.id },
      ...(o.details ?? []).map((d) => ({
        name: 'ParticipantObjectDetail',
        attrs: { type: d.type, value: (typeof d.value === 'string' ? Buffer.from(d.value, 'utf8') : d.value).toString('base64') },
      })),
      ...(o.description ?? []),
    ],
  };
}

/** PS3.15 A.5.2.5 patient: a person (1), role patient (1), ID type "Patient Number". */
const patientObject = (p: PatientRef): ObjectSpec => ({ id: p.id, typeCode: '1', role: '1', idType: ObjectIdType.PatientNumber, name: p.name || p.id });

/** PS3.15 A.5.2.6 study: a system object (2), role report (3), ID type Study Instance UID. */
function studyObject(s: StudyRef, lifeCycle?: string): ObjectSpec {
  const description: XmlElement = {
    name: 'ParticipantObjectDescription',
    children: [
      ...(s.accessionNumbers ?? []).map((n): XmlElement => ({ name: 'Accession', attrs: { Number: n } })),
      ...(s.sopClasses ?? []).map((c): XmlElement => ({ name: 'SOPClass', attrs: { UID: c.uid, NumberOfInstances: c.count } })),
      s.anonymized === undefined ? undefined : { name: 'Anonymized', text: String(s.anonymized) },
    ],
  };
  const described = (description.children ?? []).some((c) => c !== undefined);
  return {
    id: s.studyInstanceUid,
    typeCode: '2',
    role: '3',
    lifeCycle,
    idType: ObjectIdType.StudyInstanceUid,
    name: s.studyInstanceUid,
    description: described ? [description] : [],
  };
}

function subjectObjects(subjects: Subjects | undefined, lifeCycle?: string): ObjectSpec[] {
  if (!subjects) return [];
  return [...subjects.studies.map((s) => studyObject(s, lifeCycle)), ...subjects.patients.map(patientObject)];
}

function message(
  head: EventHead,
  event: { id: Code; action: Action; types?: Code[] },
  participants: Participant[],
  source: AuditSource,
  objects: ObjectSpec[] = [],
): string {
  return toXml({
    name: 'AuditMessage',
    children: [
      {
        name: 'EventIdentification',
        attrs: { EventActionCode: event.action, EventDateTime: dateTime(head.time), EventOutcomeIndicator: head.outcome },
        children: [
          code('EventID', event.id),
          ...(event.types ?? []).map((t) => code('EventTypeCode', t)),
          head.description === undefined ? undefined : { name: 'EventOutcomeDescription', text: head.description },
        ],
      },
      ...participants.map(activeParticipant),
      {
        name: 'AuditSourceIdentification',
        attrs: { AuditEnterpriseSiteID: source.siteId, AuditSourceID: source.id },
        // 4: application server process (PS3.15 A.5.1.2.1).
        children: [{ name: 'AuditSourceTypeCode', attrs: { 'csd-code': '4' } }],
      },
      ...objects.map(participantObject),
    ],
  });
}

/** A DICOM application entity as a participant (PS3.15 A.5.2.1: AlternativeUserID "AETITLES="). */
export function aeParticipant(aeTitle: string, requestor: boolean, address?: string, roles: Code[] = []): Participant {
  return { userId: aeTitle, alternativeUserId: `AETITLES=${aeTitle}`, requestor, address, roles };
}

/** A.5.3.1 Application Activity: an application (a server role) started or stopped. */
export function applicationActivity(head: EventHead, source: AuditSource, what: 'start' | 'stop', application: Participant): string {
  const type = what === 'start' ? EventType.ApplicationStart : EventType.ApplicationStop;
  return message(head, { id: EventId.ApplicationActivity, action: 'E', types: [type] }, [{ ...application, roles: [Role.Application] }], source);
}

/**
 * A.5.3.3 Begin Transferring DICOM Instances and A.5.3.7 DICOM Instances Transferred:
 * instances sent from `from` to `to` (`requestor`, the one who asked, when neither did:
 * the C-MOVE SCU). Action: C when the receiver created them, R when read out and sent.
 */
export function instancesTransfer(
  head: EventHead,
  source: AuditSource,
  phase: 'begin' | 'done',
  action: 'C' | 'R' | 'U',
  parts: { from: Participant; to: Participant; others?: Participant[] },
  subjects: Subjects,
): string {
  const id = phase === 'begin' ? EventId.BeginTransferring : EventId.InstancesTransferred;
  const participants = [{ ...parts.from, roles: [Role.Source] }, { ...parts.to, roles: [Role.Destination] }, ...(parts.others ?? [])];
  return message(head, { id, action: phase === 'begin' ? 'E' : action }, participants, source, subjectObjects(subjects));
}

/** A.5.3.6 DICOM Instances Accessed: someone created, read, updated or deleted instances of a study. */
export function instancesAccessed(head: EventHead, source: AuditSource, action: Action, actor: Participant, subjects: Subjects): string {
  return message(head, { id: EventId.InstancesAccessed, action }, [actor], source, subjectObjects(subjects, action === 'D' ? '14' : undefined));
}

/** A.5.3.8 DICOM Study Deleted: every instance of the study removed. */
export function studyDeleted(head: EventHead, source: AuditSource, actor: Participant, subjects: Subjects): string {
  return message(head, { id: EventId.StudyDeleted, action: 'D' }, [actor], source, subjectObjects(subjects, '14'));
}

/**
 * A.5.3.4 Export: data left the system's control on media; a download over HTTP is the
 * medium "URI" (CID 405), identified by the request's URL.
 */
export function dataExport(
  head: EventHead,
  source: AuditSource,
  parts: { user: Participant; from: Participant; mediaUri: string },
  subjects: Subjects,
): string {
  const participants: Participant[] = [
    parts.user,
    { ...parts.from, roles: [Role.Source] },
    { userId: parts.mediaUri, requestor: false, roles: [Role.DestinationMedia], media: MediaType.Uri },
  ];
  return message(head, { id: EventId.Export, action: 'R' }, participants, source, subjectObjects(subjects, '10'));
}

/**
 * A.5.3.10 Query: a C-FIND (or QIDO-RS) request. The query object is identified by the SOP
 * Class UID of the information model; ParticipantObjectQuery holds the request itself
 * (the identifier data set, or a QIDO-RS URL's query), base64 as the schema wants.
 */
export function query(
  head: EventHead,
  source: AuditSource,
  parts: { from: Participant; to: Participant },
  q: { sopClassUid: string; request: Buffer; transferSyntaxUid?: string },
): string {
  const participants = [
    { ...parts.from, roles: [Role.Source] },
    { ...parts.to, roles: [Role.Destination] },
  ];
  const object: ObjectSpec = {
    id: q.sopClassUid,
    typeCode: '2',
    role: '3',
    idType: ObjectIdType.SopClassUid,
    query: q.request,
    details: q.transferSyntaxUid ? [{ type: 'TransferSyntax', value: q.transferSyntaxUid }] : [],
  };
  return message(head, { id: EventId.Query, action: 'E' }, participants, source, [object]);
}

/** A.5.3.12 User Authentication: a login (outcome 4 when it failed) or logout. */
export function userAuthentication(head: EventHead, source: AuditSource, what: 'login' | 'logout', user: Participant, authenticator: Participant): string {
  const type = what === 'login' ? EventType.Login : EventType.Logout;
  return message(head, { id: EventId.UserAuthentication, action: 'E', types: [type] }, [user, authenticator], source);
}

/**
 * A.5.3.11 Security Alert: a node failed authentication (an association refused, a TLS
 * handshake failed). The reporter is this PACS; the performer is the peer; the alert
 * subject is the peer node, with the reason as a detail.
 */
export function securityAlert(
  head: EventHead,
  source: AuditSource,
  parts: { reporter: Participant; performer: Participant },
  subject: { node: string; alert: string },
): string {
  const object: ObjectSpec = {
    id: subject.node,
    typeCode: '2',
    role: '13',
    idType: ObjectIdType.NodeId,
    name: subject.node,
    details: [{ type: 'Alert Description', value: subject.alert }],
  };
  return message(head, { id: EventId.SecurityAlert, action: 'E', types: [EventType.NodeAuthentication] }, [parts.reporter, parts.performer], source, [object]);
}
