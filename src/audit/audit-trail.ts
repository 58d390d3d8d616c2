/**
 * The audit trail (IHE ATNA Secure Node): turns each recorded event into its DICOM audit
 * message(s), queues them durably (queue.ts) and delivers them in order to the audit
 * repository of the registry (`audit`; transport.ts), which is read at every connection,
 * so a change applies at once. Without a repository configured nothing is made or kept.
 *
 * `record` is what the event points call: synchronous, never throws, never waits; a
 * failure to build or queue a message is logged, and the PACS goes on.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { clientTlsOptions, type AuditRepository } from '../config/index.js';
import type { AePeer, AuditEvent, AuditRecorder, StoreAssociation, WebActor } from './events.js';
import {
  aeParticipant,
  applicationActivity,
  dataExport,
  instancesAccessed,
  instancesTransfer,
  query,
  securityAlert,
  studyDeleted,
  userAuthentication,
  type AuditSource,
  type Participant,
  type Subjects,
} from './messages.js';
import { AuditQueue, QUEUE_DIR } from './queue.js';
import { syslogMessage } from './syslog.js';
import { AuditDeliveryError, openTlsChannel, openUdpChannel, type Channel } from './transport.js';

export interface AuditTrailOptions {
  dataDir: string;
  /** Where messages wait for the repository (default `<dataDir>/audit-queue`): a node sharing the data directory has its own. */
  queueDir?: string;
  /** The registry's `audit` entry, read at each connection; undefined: no audit trail. */
  repository: () => AuditRepository | undefined;
  /** AuditSourceID: who reports (the local device's name). */
  sourceId: () => string;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** First pause before a new attempt when the repository is unreachable (default 1 s), doubling up to `maxRetryMs` (default 60 s). */
  retryMs?: number;
  maxRetryMs?: number;
  connectTimeoutMs?: number;
  /** Syslog HOSTNAME (default: os.hostname()). */
  hostname?: string;
}

const DEFAULT_MAX_QUEUED = 10_000;
/** Studies collected per association before they are reported without waiting for its end. */
const MAX_PENDING_STUDIES = 100;

interface StudyTally {
  patient: { id: string; name?: string };
  accession?: string;
  sopClasses: Map<string, number>;
}

interface AssociationTally {
  from: AePeer;
  to: string;
  studies: Map<string, StudyTally>;
}

const webUser = (a: WebActor): Participant => ({ userId: a.user, requestor: true, address: a.address });
const aeOf = (p: AePeer, requestor: boolean): Participant => aeParticipant(p.aeTitle, requestor, p.address);

export class AuditTrail implements AuditRecorder {
  private writes: Promise<void> = Promise.resolve();
  private channel?: { key: string; channel: Channel };
  private pumping?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private delay: number;
  private outage = false;
  private closed = false;
  private readonly tallies = new Map<StoreAssociation['connection'], AssociationTally>();

  private constructor(
    private readonly opts: AuditTrailOptions,
    private readonly queue: AuditQueue,
  ) {
    this.delay = opts.retryMs ?? 1000;
  }

  static async open(opts: AuditTrailOptions): Promise<AuditTrail> {
    const queue = await AuditQueue.open(opts.queueDir ?? join(opts.dataDir, QUEUE_DIR), () => opts.repository()?.maxQueued ?? DEFAULT_MAX_QUEUED);
    const trail = new AuditTrail(opts, queue);
    if (queue.length) opts.logger.info({ queued: queue.length }, 'audit messages left from the last run are sent first');
    trail.kick();
    return trail;
  }

  /** Messages waiting for the repository. */
  get queued(): number {
    return this.queue.length;
  }

  /** Whether a connection to the repository is open now (UDP: a socket is bound). */
  get connected(): boolean {
    return this.channel !== undefined && !this.channel.channel.closed;
  }

  /** Messages dropped because the queue was full. */
  get dropped(): number {
    return this.queue.dropped;
  }

  record(event: AuditEvent): void {
    if (this.closed || !this.opts.repository()) return;
    try {
      for (const xml of this.messagesOf(event, new Date())) this.enqueue(xml);
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message, kind: event.kind }, 'audit message not made');
    }
  }

  /** Resolves once every message recorded so far is queued and the queue is empty (or `timeoutMs` passed; then false). */
  async drained(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    await this.writes;
    while (this.queue.length > 0) {
      if (Date.now() > deadline) return false;
      this.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Reports what associations still open have stored, tries to deliver for up to `graceMs`, and stops; the rest stays queued for the next start. */
  async close(graceMs = 2000): Promise<void> {
    for (const conn of [...this.tallies.keys()]) this.flushAssociation(conn);
    await this.drained(graceMs);
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.pumping;
    this.channel?.channel.close();
    this.channel = undefined;
  }

  private source(): AuditSource {
    const siteId = this.opts.repository()?.siteId;
    return { id: this.opts.sourceId(), ...(siteId ? { siteId } : {}) };
  }

  private messagesOf(e: AuditEvent, time: Date): string[] {
    const source = this.source();
    const ok = { time, outcome: '0' as const };
    switch (e.kind) {
      case 'application-start':
      case 'application-stop': {
        const msg = applicationActivity(ok, source, e.kind === 'application-start' ? 'start' : 'stop', aeParticipant(e.aeTitle, false));
        return [msg];
      }
      case 'association-rejected':
        return [
          securityAlert(
            { time, outcome: '4', description: e.reason },
            source,
            { reporter: aeParticipant(e.called, false), performer: aeParticipant(e.calling, true, e.address) },
            { node: `${e.calling}@${e.address}`, alert: `association from ${e.calling} at ${e.address} to ${e.called} refused: ${e.reason}` },
          ),
        ];
      case 'tls-failure':
        return [
          securityAlert(
            { time, outcome: '4', description: e.reason },
            source,
            { reporter: aeParticipant(e.called, false), performer: { userId: e.address, requestor: true, address: e.address } },
            { node: e.address, alert: `TLS handshake from ${e.address} with ${e.called} failed: ${e.reason}` },
          ),
        ];
      case 'instance-stored':
        this.tally(e);
        return [];
      case 'retrieve-begin':
      case 'retrieve-done': {
        const parts = {
          from: aeParticipant(e.source, false),
          to: aeOf(e.destination, e.via === 'C-GET'),
          others: e.via === 'C-MOVE' ? [aeOf(e.requestor, true)] : [],
        };
        const head =
          e.kind === 'retrieve-done' && e.failed > 0
            ? { time, outcome: '4' as const, description: `${e.failed} of ${e.failed + e.completed} sub-operations failed` }
            : ok;
        return [instancesTransfer(head, source, e.kind === 'retrieve-begin' ? 'begin' : 'done', 'R', parts, e.subjects)];
      }
      case 'query': {
        const from = 'aeTitle' in e.requestor ? aeOf(e.requestor, true) : webUser(e.requestor);
        return [query(ok, source, { from, to: aeParticipant(e.responder, false) }, e)];
      }
      case 'login':
      case 'logout': {
        const head = e.kind === 'login' && !e.ok ? { time, outcome: '4' as const, description: e.reason ?? 'authentication failed' } : ok;
        return [userAuthentication(head, source, e.kind, webUser(e), { userId: source.id, requestor: false })];
      }
      case 'web-retrieve':
        return [instancesTransfer(ok, source, 'done', 'R', { from: aeParticipant(e.source, false), to: webUser(e) }, e.subjects)];
      case 'export': {
        const subjects: Subjects = { ...e.subjects, studies: e.subjects.studies.map((s) => ({ ...s, anonymized: e.anonymized })) };
        return [dataExport(ok, source, { user: webUser(e), from: aeParticipant(e.source, false), mediaUri: e.url }, subjects)];
      }
      case 'deleted': {
        const head = e.ok ? ok : { time, outcome: '4' as const, description: 'not every instance could be deleted' };
        return [e.level === 'study' ? studyDeleted(head, source, webUser(e), e.subjects) : instancesAccessed(head, source, 'D', webUser(e), e.subjects)];
      }
    }
  }

  /** Counts a stored instance under its association and study; the association's end reports them (one message per study: A.5.3.7 names one patient). */
  private tally(e: Extract<AuditEvent, { kind: 'instance-stored' }>): void {
    let t = this.tallies.get(e.connection);
    if (!t) {
      t = { from: { aeTitle: e.association.callingAeTitle, address: e.association.peerAddress }, to: e.association.calledAeTitle, studies: new Map() };
      this.tallies.set(e.connection, t);
      e.connection.once('closed', () => this.flushAssociation(e.connection));
    }
    const uid = e.studyInstanceUid ?? '';
    let s = t.studies.get(uid);
    if (!s) {
      if (t.studies.size >= MAX_PENDING_STUDIES) this.flushAssociation(e.connection, false);
      s = { patient: { id: e.patientId ?? '', ...(e.patientName ? { name: e.patientName } : {}) }, accession: e.accessionNumber, sopClasses: new Map() };
      t.studies.set(uid, s);
    }
    s.sopClasses.set(e.sopClassUid, (s.sopClasses.get(e.sopClassUid) ?? 0) + 1);
  }

  private flushAssociation(conn: StoreAssociation['connection'], ended = true): void {
    const t = this.tallies.get(conn);
    if (!t) return;
    if (ended) this.tallies.delete(conn);
    const source = this.source();
    const time = new Date();
    for (const [uid, s] of t.studies) {
      const subjects: Subjects = {
        patients: s.patient.id ? [s.patient] : [],
        studies: uid
          ? [
              {
                studyInstanceUid: uid,
                accessionNumbers: s.accession ? [s.accession] : [],
                sopClasses: [...s.sopClasses].map(([c, n]) => ({ uid: c, count: n })),
              },
            ]
          : [],
      };
      const parts = { from: aeOf(t.from, true), to: aeParticipant(t.to, false) };
      try {
        this.enqueue(instancesTransfer({ time, outcome: '0' }, source, 'done', 'C', parts, subjects));
      } catch (err) {
        this.opts.logger.error({ err: (err as Error).message }, 'audit message not made');
      }
    }
    t.studies.clear();
  }

  private enqueue(xml: string): void {
    const message = syslogMessage(xml, { time: new Date(), host: this.opts.hostname });
    this.writes = this.writes
      .then(() => this.queue.push(message))
      .then(
        (dropped) => {
          if (dropped) this.opts.logger.warn({ dropped, total: this.queue.dropped }, 'audit queue full: the oldest messages were dropped');
          this.kick();
        },
        (err: Error) => this.opts.logger.error({ err: err.message }, 'audit message not queued'),
      );
  }

  /** Starts delivering unless it is already running or waiting to retry. */
  private kick(): void {
    if (this.pumping || this.retryTimer || this.closed) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const repo = this.opts.repository();
      if (!repo) return;
      const item = await this.queue.peek();
      if (!item) return;
      try {
        const channel = await this.channelFor(repo);
        await channel.send(item.message);
        await this.queue.remove(item.seq);
        if (this.outage) this.opts.logger.info({ queued: this.queue.length }, 'audit repository reachable again: sending the queued messages');
        this.outage = false;
        this.delay = this.opts.retryMs ?? 1000;
      } catch (err) {
        if (err instanceof AuditDeliveryError && err.permanent) {
          this.opts.logger.error({ err: err.message }, 'audit message dropped');
          await this.queue.remove(item.seq);
          continue;
        }
        this.channel?.channel.close();
        this.channel = undefined;
        if (!this.outage) this.opts.logger.warn({ err: (err as Error).message, queued: this.queue.length }, 'audit repository unreachable: messages are kept');
        this.outage = true;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.delay);
        this.delay = Math.min(this.delay * 2, this.opts.maxRetryMs ?? 60_000);
        return;
      }
    }
  }

  private async channelFor(repo: AuditRepository): Promise<Channel> {
    const key = JSON.stringify(repo);
    if (this.channel && this.channel.key === key && !this.channel.channel.closed) return this.channel.channel;
    this.channel?.channel.close();
    this.channel = undefined;
    const channel =
      repo.protocol === 'udp'
        ? await openUdpChannel(repo)
        : await openTlsChannel(
            repo,
            clientTlsOptions(
              { aeTitle: 'audit repository', connection: { host: repo.host, tls: true, tlsVerifyHost: repo.tlsVerifyHost } },
              this.opts.dataDir,
              {
                ca: repo.tlsCa,
                cert: repo.tlsCert,
                key: repo.tlsKey,
              },
            )!,
            this.opts.connectTimeoutMs ?? 10_000,
          );
    this.channel = { key, channel };
    return channel;
  }
}
