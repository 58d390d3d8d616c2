/**
 * The audit trail against a real rsyslogd (Debian rsyslog + rsyslog-gnutls), over UDP and
 * over TLS: one test per event kind, each message as rsyslog wrote it validated against
 * the DICOM audit message schema (PS3.15 A.5.1, test/fixtures/atna/); and the durable
 * queue holding messages while the repository is down, delivering them in order after.
 */
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail, QUEUE_DIR, type AuditEvent } from '../../src/audit/index.js';
import { tlsInit } from '../../src/cli/tls-commands.js';
import { tlsPaths, type AuditRepository } from '../../src/config/index.js';
import { validateAuditMessage } from '../support/audit-schema.js';
import { startRsyslog, type ReceivedMessage, type RsyslogRepository } from '../support/rsyslog.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

const logger = pino({ level: 'silent' });
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const subjects = {
  patients: [{ id: 'PID-1', name: 'Doe^Jane' }],
  studies: [{ studyInstanceUid: STUDY, accessionNumbers: ['ACC1'], sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.2', count: 3 }] }],
};

let dir: string;
let repo: RsyslogRepository;
const trails: AuditTrail[] = [];
let udp: AuditTrail;
let tls: AuditTrail;

async function openTrail(dataDir: string, hostname: string, repository: () => AuditRepository): Promise<AuditTrail> {
  const t = await AuditTrail.open({ dataDir, repository, sourceId: () => 'TEST-PACS', hostname, logger, retryMs: 100, maxRetryMs: 200 });
  trails.push(t);
  return t;
}

beforeAll(async () => {
  dir = await makeTempDir('pacs-atna-');
  await tlsInit(dir, { host: 'localhost' });
  const p = tlsPaths(dir);
  repo = await startRsyslog({ dir: join(dir, 'rsyslog'), tls: { ca: p.ca, cert: p.serverCert, key: p.serverKey } });
  udp = await openTrail(join(dir, 'udp'), 'udp-sender', () => ({ host: '127.0.0.1', port: repo.udpPort, protocol: 'udp', siteId: 'Site A' }));
  tls = await openTrail(dir, 'tls-sender', () => ({ host: '127.0.0.1', port: repo.tlsPort, protocol: 'tls', siteId: 'Site A' }));
}, 60_000);

afterAll(async () => {
  await Promise.all(trails.map((t) => t.close(0)));
  await repo?.stop();
  await removeTempDirs();
});

const from = (all: ReceivedMessage[], host: string) => all.filter((m) => m.hostname === host);

/** Records `event` on both trails; returns the new message each delivered, checked against the schema and the syslog header. */
async function emit(record: (t: AuditTrail) => void, expected = 1): Promise<string[]> {
  const before = await repo.messages();
  const counts = [from(before, 'udp-sender').length, from(before, 'tls-sender').length];
  record(udp);
  record(tls);
  const after = await until('the messages of both transports', async () => {
    const all = await repo.messages();
    return from(all, 'udp-sender').length >= counts[0] + expected && from(all, 'tls-sender').length >= counts[1] + expected ? all : undefined;
  });
  const fresh = [...from(after, 'udp-sender').slice(counts[0]), ...from(after, 'tls-sender').slice(counts[1])];
  expect(fresh).toHaveLength(2 * expected);
  for (const m of fresh) {
    expect([m.pri, m.appName, m.msgId]).toEqual(['85', 'open-pacs', 'IHE+RFC-3881']);
    const verdict = await validateAuditMessage(m.xml);
    expect(verdict.output).not.toContain('fails to validate');
    expect(verdict.valid).toBe(true);
    expect(m.xml).toContain('<AuditSourceIdentification AuditEnterpriseSiteID="Site A" AuditSourceID="TEST-PACS">');
  }
  // Both transports carried the same message.
  expect(fresh[0].xml.replace(/EventDateTime="[^"]+"/, '')).toBe(fresh[expected].xml.replace(/EventDateTime="[^"]+"/, ''));
  return fresh.slice(0, expected).map((m) => m.xml);
}

const recordEach = (e: AuditEvent) => (t: AuditTrail) => t.record(e);

describe('audit messages through rsyslog (UDP and TLS)', () => {
  it('Application Activity: a role starts and stops', async () => {
    const [start] = await emit(recordEach({ kind: 'application-start', aeTitle: 'PACS' }));
    expect(start).toContain('<EventID csd-code="110100" codeSystemName="DCM" originalText="Application Activity"/>');
    expect(start).toContain('<EventTypeCode csd-code="110120" codeSystemName="DCM" originalText="Application Start"/>');
    expect(start).toContain('UserID="PACS" AlternativeUserID="AETITLES=PACS" UserIsRequestor="false"');
    const [stop] = await emit(recordEach({ kind: 'application-stop', aeTitle: 'PACS' }));
    expect(stop).toContain('csd-code="110121"');
  });

  it('Security Alert: an association refused', async () => {
    const [xml] = await emit(
      recordEach({
        kind: 'association-rejected',
        calling: 'INTRUDER',
        called: 'PACS',
        address: '10.9.8.7',
        reason: 'calling AE title "INTRUDER" is not registered (strict mode)',
      }),
    );
    expect(xml).toContain('<EventID csd-code="110113"');
    expect(xml).toContain('EventOutcomeIndicator="4"');
    expect(xml).toContain('<EventTypeCode csd-code="110126" codeSystemName="DCM" originalText="Node Authentication"/>');
    expect(xml).toContain(
      'UserID="INTRUDER" AlternativeUserID="AETITLES=INTRUDER" UserIsRequestor="true" NetworkAccessPointID="10.9.8.7" NetworkAccessPointTypeCode="2"',
    );
    expect(xml).toContain('<EventOutcomeDescription>calling AE title "INTRUDER" is not registered (strict mode)</EventOutcomeDescription>');
  });

  it('Security Alert: a TLS handshake failed', async () => {
    const [xml] = await emit(
      recordEach({
        kind: 'tls-failure',
        called: 'PACS',
        address: '10.9.8.7',
        reason: 'peer did not return a certificate (ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE)',
      }),
    );
    expect(xml).toContain('<EventID csd-code="110113"');
    expect(xml).toContain('<EventTypeCode csd-code="110126" codeSystemName="DCM" originalText="Node Authentication"/>');
    expect(xml).toContain('EventOutcomeIndicator="4"');
    expect(xml).toContain('UserID="10.9.8.7" UserIsRequestor="true" NetworkAccessPointID="10.9.8.7" NetworkAccessPointTypeCode="2"');
    expect(xml).toContain('ParticipantObjectID="10.9.8.7" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="13"');
  });

  it('DICOM Instances Transferred (C): stores of one association reported per study when it ends', async () => {
    const connection = new EventEmitter();
    const association = { callingAeTitle: 'CT01', calledAeTitle: 'PACS', peerAddress: '127.0.0.1' };
    const conns = new Map([
      [udp, new EventEmitter()],
      [tls, connection],
    ]);
    const xmls = await emit((t) => {
      const c = conns.get(t)!;
      for (let i = 0; i < 3; i++) {
        t.record({
          kind: 'instance-stored',
          association,
          connection: c,
          sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
          studyInstanceUid: STUDY,
          patientId: 'PID-1',
          patientName: 'Doe^Jane',
          accessionNumber: 'ACC1',
        });
      }
      t.record({
        kind: 'instance-stored',
        association,
        connection: c,
        sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
        studyInstanceUid: `${STUDY}.2`,
        patientId: 'PID-2',
      });
      c.emit('closed');
    }, 2);
    const [first, second] = xmls;
    expect(first).toContain('<EventIdentification EventActionCode="C"');
    expect(first).toContain('<EventID csd-code="110104"');
    expect(first).toContain('UserID="CT01" AlternativeUserID="AETITLES=CT01" UserIsRequestor="true" NetworkAccessPointID="127.0.0.1"');
    expect(first).toContain('<RoleIDCode csd-code="110153" codeSystemName="DCM" originalText="Source Role ID"/>');
    expect(first).toContain(`<ParticipantObjectIdentification ParticipantObjectID="${STUDY}" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3">`);
    expect(first).toContain('<SOPClass UID="1.2.840.10008.5.1.4.1.1.2" NumberOfInstances="3"/>');
    expect(first).toContain('<Accession Number="ACC1"/>');
    expect(first).toContain('ParticipantObjectID="PID-1" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1"');
    expect(first).toContain('<ParticipantObjectName>Doe^Jane</ParticipantObjectName>');
    expect(second).toContain(`ParticipantObjectID="${STUDY}.2"`);
    expect(second).toContain('NumberOfInstances="1"');
  });

  it('Begin Transferring and DICOM Instances Transferred (R): a C-MOVE', async () => {
    const base = {
      via: 'C-MOVE' as const,
      requestor: { aeTitle: 'VIEWER', address: '10.0.0.5' },
      source: 'PACS',
      destination: { aeTitle: 'STORE_SCP', address: '10.0.0.6' },
      subjects,
    };
    const [begin] = await emit(recordEach({ kind: 'retrieve-begin', ...base }));
    expect(begin).toContain('<EventIdentification EventActionCode="E"');
    expect(begin).toContain('<EventID csd-code="110102"');
    expect(begin).toContain('UserID="STORE_SCP"');
    expect(begin).toContain('<RoleIDCode csd-code="110152" codeSystemName="DCM" originalText="Destination Role ID"/>');
    expect(begin).toContain('UserID="VIEWER" AlternativeUserID="AETITLES=VIEWER" UserIsRequestor="true"');
    const [done] = await emit(recordEach({ kind: 'retrieve-done', ...base, completed: 2, failed: 1 }));
    expect(done).toContain('<EventIdentification EventActionCode="R"');
    expect(done).toContain('EventOutcomeIndicator="4"');
    expect(done).toContain('<EventOutcomeDescription>1 of 3 sub-operations failed</EventOutcomeDescription>');
  });

  it('Query: a C-FIND identifier and a QIDO-RS request', async () => {
    const identifier = Buffer.from([0x08, 0x00, 0x52, 0x00, 0x06, 0x00, 0x00, 0x00, 0x53, 0x54, 0x55, 0x44, 0x59, 0x20]);
    const [find] = await emit(
      recordEach({
        kind: 'query',
        via: 'C-FIND',
        requestor: { aeTitle: 'VIEWER', address: '10.0.0.5' },
        responder: 'PACS',
        sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1',
        request: identifier,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      }),
    );
    expect(find).toContain('<EventID csd-code="110112"');
    expect(find).toContain('ParticipantObjectID="1.2.840.10008.5.1.4.1.2.2.1"');
    expect(find).toContain(`<ParticipantObjectQuery>${identifier.toString('base64')}</ParticipantObjectQuery>`);
    expect(find).toContain(`<ParticipantObjectDetail type="TransferSyntax" value="${Buffer.from('1.2.840.10008.1.2.1').toString('base64')}"/>`);
    const url = '/dicomweb/studies?PatientID=PID-1&<script>';
    const [qido] = await emit(
      recordEach({
        kind: 'query',
        via: 'QIDO-RS',
        requestor: { user: 'alice', address: '10.0.0.9' },
        responder: 'PACS',
        sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1',
        request: Buffer.from(url),
      }),
    );
    expect(qido).toContain('UserID="alice" UserIsRequestor="true" NetworkAccessPointID="10.0.0.9"');
    expect(qido).toContain(`<ParticipantObjectQuery>${Buffer.from(url).toString('base64')}</ParticipantObjectQuery>`);
  });

  it('User Authentication: login, failed login, logout', async () => {
    const [ok] = await emit(recordEach({ kind: 'login', ok: true, user: 'alice', address: '10.0.0.9' }));
    expect(ok).toContain('<EventID csd-code="110114"');
    expect(ok).toContain('<EventTypeCode csd-code="110122" codeSystemName="DCM" originalText="Login"/>');
    expect(ok).toContain('EventOutcomeIndicator="0"');
    const [failed] = await emit(recordEach({ kind: 'login', ok: false, user: 'mallory<&>', address: '10.0.0.66', reason: 'wrong user name or password' }));
    expect(failed).toContain('EventOutcomeIndicator="4"');
    expect(failed).toContain('UserID="mallory&lt;&amp;&gt;"');
    const [out] = await emit(recordEach({ kind: 'logout', user: 'alice', address: '10.0.0.9' }));
    expect(out).toContain('<EventTypeCode csd-code="110123" codeSystemName="DCM" originalText="Logout"/>');
  });

  it('DICOM Instances Transferred (R): a WADO retrieve by a web user', async () => {
    const [xml] = await emit(recordEach({ kind: 'web-retrieve', via: 'WADO-RS', user: 'alice', address: '10.0.0.9', source: 'PACS', subjects }));
    expect(xml).toContain('<EventIdentification EventActionCode="R"');
    expect(xml).toContain('<EventID csd-code="110104"');
    expect(xml).toContain('UserID="alice" UserIsRequestor="true"');
  });

  it('Export: a study downloaded as a zip file', async () => {
    const url = '/api/studies/1.2.3/archive.zip?anonymize=1';
    const [xml] = await emit(recordEach({ kind: 'export', user: 'admin', address: '10.0.0.9', url, source: 'PACS', subjects, anonymized: true }));
    expect(xml).toContain('<EventIdentification EventActionCode="R"');
    expect(xml).toContain('<EventID csd-code="110106"');
    expect(xml).toContain(`UserID="${url}"`);
    expect(xml).toContain('<MediaIdentifier><MediaType csd-code="110037" codeSystemName="DCM" originalText="URI"/></MediaIdentifier>');
    expect(xml).toContain('ParticipantObjectDataLifeCycle="10"');
    expect(xml).toContain('<Anonymized>true</Anonymized>');
  });

  it('DICOM Study Deleted and DICOM Instances Accessed (D): deletions', async () => {
    const [study] = await emit(recordEach({ kind: 'deleted', level: 'study', user: 'admin', address: '10.0.0.9', subjects, ok: true }));
    expect(study).toContain('<EventIdentification EventActionCode="D"');
    expect(study).toContain('<EventID csd-code="110105"');
    expect(study).toContain('ParticipantObjectDataLifeCycle="14"');
    const [series] = await emit(recordEach({ kind: 'deleted', level: 'series', user: 'admin', address: '10.0.0.9', subjects, ok: false }));
    expect(series).toContain('<EventID csd-code="110103"');
    expect(series).toContain('EventOutcomeIndicator="4"');
  });
});

describe('the durable queue', () => {
  const login = (n: number): AuditEvent => ({ kind: 'login', ok: true, user: `queued-${n}`, address: '127.0.0.1' });
  const users = (all: ReceivedMessage[]) => from(all, 'queue-sender').map((m) => /UserID="(queued-\d+)"/.exec(m.xml)?.[1]);

  it('keeps messages while rsyslog is down, across a restart of the PACS, and delivers them in order when it is back', async () => {
    const dataDir = join(dir, 'queue');
    // Its own data directory, without certificates: the repository's CA and our client certificate are named in the registry entry.
    const p = tlsPaths(dir);
    const trustRsyslog = (): AuditRepository => ({
      host: '127.0.0.1',
      port: repo.tlsPort,
      protocol: 'tls',
      tlsCa: p.ca,
      tlsCert: p.clientCert,
      tlsKey: p.clientKey,
    });
    let trail = await AuditTrail.open({
      dataDir,
      repository: trustRsyslog,
      sourceId: () => 'TEST-PACS',
      hostname: 'queue-sender',
      logger,
      retryMs: 100,
      maxRetryMs: 200,
    });
    trails.push(trail);
    trail.record(login(1));
    await until('queued-1 delivered', async () => users(await repo.messages()).includes('queued-1'));
    expect(trail.connected).toBe(true);

    await repo.stop();
    await until('the trail to see the repository gone', async () => !trail.connected || undefined);
    for (let n = 2; n <= 4; n++) trail.record(login(n));
    await until('3 messages queued', async () => trail.queued === 3 || undefined);
    expect((await readdir(join(dataDir, QUEUE_DIR))).filter((f) => f.endsWith('.syslog'))).toHaveLength(3);

    // The PACS stops while the repository is down: the queue stays on disk ...
    await trail.close(200);
    expect((await readdir(join(dataDir, QUEUE_DIR))).filter((f) => f.endsWith('.syslog'))).toHaveLength(3);
    trail = await AuditTrail.open({
      dataDir,
      repository: trustRsyslog,
      sourceId: () => 'TEST-PACS',
      hostname: 'queue-sender',
      logger,
      retryMs: 100,
      maxRetryMs: 200,
    });
    trails.push(trail);
    trail.record(login(5));
    await until('4 messages queued', async () => trail.queued === 4 || undefined);
    expect(users(await repo.messages())).toEqual(['queued-1']);

    // ... and rsyslog coming back gets them all, in the order they happened.
    await repo.start();
    await until('the queue to drain', async () => trail.queued === 0 || undefined);
    await until('5 messages from the queue', async () => users(await repo.messages()).length === 5 || undefined);
    expect(users(await repo.messages())).toEqual(['queued-1', 'queued-2', 'queued-3', 'queued-4', 'queued-5']);
    for (const m of from(await repo.messages(), 'queue-sender')) expect((await validateAuditMessage(m.xml)).valid).toBe(true);
  }, 60_000);
});
