/**
 * The coded values of DICOM audit messages (PS3.16: CID 400 Audit Event ID, CID 401 Audit
 * Event Type Code, CID 402 Audit Active Participant Role ID, CID 403 Security Alert Type,
 * CID 404 Audit Participant Object ID Type, CID 405 Media Type), and RFC 3881's, as
 * PS3.15 A.5.2 and A.5.3 use them.
 */

/** A coded value: csd-code, codeSystemName and originalText (the code meaning) of the schema's CodedValueType. */
export interface Code {
  code: string;
  system: string;
  meaning: string;
}

const dcm = (code: string, meaning: string): Code => ({ code, system: 'DCM', meaning });

/** CID 400: the EventID of each message of PS3.15 A.5.3. */
export const EventId = {
  ApplicationActivity: dcm('110100', 'Application Activity'),
  BeginTransferring: dcm('110102', 'Begin Transferring DICOM Instances'),
  InstancesAccessed: dcm('110103', 'DICOM Instances Accessed'),
  InstancesTransferred: dcm('110104', 'DICOM Instances Transferred'),
  StudyDeleted: dcm('110105', 'DICOM Study Deleted'),
  Export: dcm('110106', 'Export'),
  Query: dcm('110112', 'Query'),
  SecurityAlert: dcm('110113', 'Security Alert'),
  UserAuthentication: dcm('110114', 'User Authentication'),
} as const;

/** CID 401 (and CID 403 for Security Alert): the EventTypeCode refining an EventID. */
export const EventType = {
  ApplicationStart: dcm('110120', 'Application Start'),
  ApplicationStop: dcm('110121', 'Application Stop'),
  Login: dcm('110122', 'Login'),
  Logout: dcm('110123', 'Logout'),
  NodeAuthentication: dcm('110126', 'Node Authentication'),
} as const;

/** CID 402: the RoleIDCode of an active participant. */
export const Role = {
  Application: dcm('110150', 'Application'),
  ApplicationLauncher: dcm('110151', 'Application Launcher'),
  Destination: dcm('110152', 'Destination Role ID'),
  Source: dcm('110153', 'Source Role ID'),
  DestinationMedia: dcm('110154', 'Destination Media'),
} as const;

/** CID 405: how exported data left (a file handed over HTTP: a URI). */
export const MediaType = {
  Uri: dcm('110037', 'URI'),
} as const;

/** ParticipantObjectIDTypeCode values: RFC 3881's "Patient Number" and CID 404's. */
export const ObjectIdType = {
  PatientNumber: { code: '2', system: 'RFC-3881', meaning: 'Patient Number' } satisfies Code,
  StudyInstanceUid: dcm('110180', 'Study Instance UID'),
  SopClassUid: dcm('110181', 'SOP Class UID'),
  NodeId: dcm('110182', 'Node ID'),
} as const;

/** EventOutcomeIndicator (PS3.15 A.5.1): 0 success, 4 minor, 8 serious, 12 major failure. */
export type Outcome = '0' | '4' | '8' | '12';

/** EventActionCode: Create, Read, Update, Delete, Execute. */
export type Action = 'C' | 'R' | 'U' | 'D' | 'E';
