// The audit trail (IHE ATNA): DICOM audit messages (PS3.15 A.5) over syslog to the registry's audit repository.
export { AuditTrail, type AuditTrailOptions } from './audit-trail.js';
export { noAudit, type AePeer, type AuditEvent, type AuditEventKind, type AuditRecorder, type Subjects, type WebActor } from './events.js';
export { QUEUE_DIR } from './queue.js';
