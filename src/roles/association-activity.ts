/**
 * The activity log's view of one association (issue 18): who called whom from where, over
 * TLS or not, with which contexts, for how long, how it ended, and what it did: stores,
 * finds, moves and gets counted, with the failures' statuses and the patients and studies
 * involved. The role's registry is wrapped for the association (as access-control.ts
 * wraps it for permissions), so services report nothing themselves; the event is recorded
 * once, when the association ends. A rejected association is one event of its own.
 */
import { ACTIVITY_MAX_FAILURE_KINDS, ACTIVITY_MAX_SUBJECTS, type ActivityInput, type ActivityOperation, type ActivitySummary } from '../api-types/activity.js';
import { getString, getStrings } from '../dicom/dataset.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { Status, statusCategory, statusOfError } from '../dicom/status.js';
import { Tags } from '../dicom/tag.js';
import { isValidUid, uidName } from '../dicom/uids.js';
import { CommandField } from '../dimse/command-fields.js';
import type { DimseRequestContext, RequestHandler, ResponseSpec, ServiceClassProvider, ServiceRegistry, StreamingHandler } from '../dimse/service.js';
import { describeAbort, type AcceptedContext, type ClosedInfo } from '../net/index.js';
import type { ActivityRecorder } from '../services/activity-log.js';

type Operation = keyof ActivitySummary;

/** Which tally a request counts in. */
const OPERATION_OF: Partial<Record<number, Operation>> = {
  [CommandField.C_STORE_RQ]: 'stored',
  [CommandField.C_FIND_RQ]: 'found',
  [CommandField.C_MOVE_RQ]: 'moved',
  [CommandField.C_GET_RQ]: 'got',
  [CommandField.C_ECHO_RQ]: 'echoed',
};

/** The association as it was established (or requested, for a rejection). */
export interface AssociationParty {
  /** The server role (main, workstation, router). */
  role: string;
  callingAe: string;
  calledAe: string;
  peerAddress: string;
  tls: boolean;
}

const who = (p: AssociationParty) => `${p.callingAe.trim()} -> ${p.calledAe.trim()} (${p.peerAddress})`;

/** The event of an association refused at A-ASSOCIATE-RQ. */
export function rejectedAssociation(party: AssociationParty, reason: string): ActivityInput {
  return { kind: 'association', outcome: 'rejected', reason, message: `${who(party)}: association rejected: ${reason}`, ...trimmed(party) };
}

const trimmed = (p: AssociationParty) => ({ ...p, callingAe: p.callingAe.trim(), calledAe: p.calledAe.trim() });

const newTally = (): ActivityOperation => ({ requests: 0, completed: 0, failed: 0, failures: [] });

/** Patient IDs and study UIDs of an identifier (C-FIND, C-MOVE, C-GET) that name one exactly: no wildcards, no empty values. */
function identifierSubjects(bytes: Buffer | undefined, transferSyntax: string): { patientId?: string; studyUids: string[] } {
  if (!bytes || bytes.length === 0 || bytes.length > 64 * 1024) return { studyUids: [] };
  try {
    const ds = readDataset(bytes, transferSyntax);
    const pid = getString(ds, Tags.PatientID);
    const studyUids = (getStrings(ds, Tags.StudyInstanceUID) ?? []).filter((u) => isValidUid(u));
    return { patientId: pid && !/[*?\\]/.test(pid) ? pid : undefined, studyUids };
  } catch {
    return { studyUids: [] }; // the service answers the malformed identifier; nothing to name here
  }
}

export class AssociationActivity {
  private readonly startedAt = Date.now();
  private readonly summary: ActivitySummary = {};
  private readonly patients = new Set<string>();
  private readonly studies = new Set<string>();
  /** Abstract syntaxes requests came on: listed first among the accepted contexts. */
  private readonly used = new Set<string>();
  private recorded = false;

  constructor(
    private readonly party: AssociationParty,
    private readonly contexts: Iterable<AcceptedContext>,
    private readonly recorder: ActivityRecorder,
  ) {}

  /** The registry this association's requests go through: each handler's outcome counted. */
  registry(registry: ServiceRegistry): ServiceRegistry {
    const cache = new Map<ServiceClassProvider, ServiceClassProvider>();
    const wrap = (service: ServiceClassProvider): ServiceClassProvider => {
      let w = cache.get(service);
      if (w) return w;
      const handlers: Partial<Record<number, RequestHandler>> = {};
      for (const [k, h] of Object.entries(service.handlers ?? {})) if (h) handlers[Number(k)] = this.countRequest(Number(k), h);
      const streamingHandlers: Partial<Record<number, StreamingHandler>> = {};
      for (const [k, h] of Object.entries(service.streamingHandlers ?? {})) if (h) streamingHandlers[Number(k)] = this.countStream(Number(k), h);
      w = { ...service, handlers, streamingHandlers, acceptsTransferSyntax: service.acceptsTransferSyntax?.bind(service) };
      cache.set(service, w);
      return w;
    };
    const counted = Object.create(registry) as ServiceRegistry;
    counted.lookup = (uid: string) => {
      const s = registry.lookup(uid);
      return s && wrap(s);
    };
    return counted;
  }

  /** Records the association's event (once). */
  closed(info: ClosedInfo): void {
    if (this.recorded) return;
    this.recorded = true;
    const durationMs = Date.now() - this.startedAt;
    const outcome = info.reason === 'released' ? 'released' : 'aborted';
    const reason =
      info.reason === 'released'
        ? undefined
        : [info.abort ? describeAbort(info.abort.source, info.abort.reason) : undefined, info.error?.message].filter(Boolean).join(': ') ||
          'connection closed without release';
    const did = Object.entries(this.summary)
      .map(([op, t]) => `${op} ${t.completed}${t.failed ? ` (${t.failed} failed)` : ''}`)
      .join(', ');
    const accepted = [...this.contexts].map((c) => c.abstractSyntax);
    const ordered = [...accepted.filter((a) => this.used.has(a)), ...accepted.filter((a) => !this.used.has(a))];
    const contexts = [...new Set(ordered.map((a) => uidName(a) ?? a))];
    this.recorder.record({
      kind: 'association',
      outcome,
      ...(reason ? { reason } : {}),
      message: `${who(this.party)}: ${outcome} after ${(durationMs / 1000).toFixed(1)} s${did ? `; ${did}` : ''}${reason ? `; ${reason}` : ''}`,
      ...trimmed(this.party),
      contexts,
      durationMs,
      summary: this.summary,
      patientIds: [...this.patients],
      studyUids: [...this.studies],
    });
  }

  private tally(field: number): ActivityOperation | undefined {
    const op = OPERATION_OF[field];
    return op && (this.summary[op] ??= newTally());
  }

  private subject(patientId: string | undefined, studyUids: readonly (string | undefined)[]): void {
    if (patientId && this.patients.size < ACTIVITY_MAX_SUBJECTS) this.patients.add(patientId);
    for (const s of studyUids) if (s && this.studies.size < ACTIVITY_MAX_SUBJECTS) this.studies.add(s);
  }

  private failure(t: ActivityOperation, status: number, comment: string | undefined, count = 1): void {
    t.failed += count;
    const same = t.failures.find((f) => f.status === status);
    if (same) same.count += count;
    else if (t.failures.length < ACTIVITY_MAX_FAILURE_KINDS) t.failures.push({ status, count, ...(comment ? { comment: comment.slice(0, 200) } : {}) });
  }

  private countStream(field: number, h: StreamingHandler): StreamingHandler {
    return (ctx) => {
      this.used.add(ctx.abstractSyntax);
      const t = this.tally(field);
      if (t) t.requests++;
      let sink;
      try {
        sink = h(ctx);
      } catch (err) {
        if (t) this.failure(t, statusOfError(err, Status.ProcessingFailure), (err as Error).message);
        throw err;
      }
      return {
        write: (chunk) => sink.write(chunk),
        abort: (reason) => sink.abort(reason),
        end: async () => {
          try {
            const rsp = await sink.end();
            if (t) this.ended(t, rsp);
            return rsp;
          } catch (err) {
            if (t) this.failure(t, statusOfError(err, Status.ProcessingFailure), (err as Error).message);
            throw err;
          }
        },
      };
    };
  }

  private countRequest(field: number, h: RequestHandler): RequestHandler {
    return async (ctx, dataset) => {
      this.used.add(ctx.abstractSyntax);
      const t = this.tally(field);
      if (!t) return h(ctx, dataset);
      t.requests++;
      if (field !== CommandField.C_ECHO_RQ) {
        const s = identifierSubjects(dataset, ctx.transferSyntax);
        this.subject(s.patientId, s.studyUids);
      }
      let matches = 0;
      const counting: DimseRequestContext =
        field === CommandField.C_FIND_RQ
          ? {
              ...ctx,
              sendResponse: (rsp) => {
                if (statusCategory(rsp.status) === 'pending') matches++;
                return ctx.sendResponse(rsp);
              },
            }
          : ctx;
      try {
        const rsp = await h(counting, dataset);
        if (field === CommandField.C_FIND_RQ) t.completed += matches;
        this.ended(t, rsp, field === CommandField.C_MOVE_RQ || field === CommandField.C_GET_RQ);
        return rsp;
      } catch (err) {
        if (field === CommandField.C_FIND_RQ) t.completed += matches;
        this.failure(t, statusOfError(err, Status.ProcessingFailure), (err as Error).message);
        throw err;
      }
    };
  }

  /** A final response: C-STORE and C-ECHO count one, C-MOVE and C-GET their sub-operations. */
  private ended(t: ActivityOperation, rsp: ResponseSpec, subOperations = false): void {
    const category = statusCategory(rsp.status);
    if (subOperations) {
      const f = rsp.fields ?? {};
      t.completed += (f.completed ?? 0) + (f.warning ?? 0);
      if ((f.failed ?? 0) > 0) this.failure(t, rsp.status, rsp.errorComment, f.failed);
      else if (category === 'failure') this.failure(t, rsp.status, rsp.errorComment);
      return;
    }
    if (category === 'failure') this.failure(t, rsp.status, rsp.errorComment);
    else if (t !== this.summary.found) t.completed++;
    if (rsp.subject) this.subject(rsp.subject.patientId, [rsp.subject.studyInstanceUid]);
  }
}
