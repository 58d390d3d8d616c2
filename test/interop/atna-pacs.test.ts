/**
 * The audit trail wired into a running PACS (startPacs, in process) with a real rsyslogd
 * as its audit repository over TLS: each event point of the Main Server and the web
 * server, driven by DCMTK and HTTP as a site would, produces its DICOM audit message,
 * and every message rsyslog wrote is valid against the PS3.15 A.5.1 schema.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPacs, type Pacs } from '../../src/cli/serve.js';
import { tlsInit } from '../../src/cli/tls-commands.js';
import { addAe, ConfigStore, setAe, setAudit, tlsPaths } from '../../src/config/index.js';
import { validateAuditMessage } from '../support/audit-schema.js';
import { freePort, runDcmtk, startStorescp, stopAllPeers, storescu, echoscu, type StorescpPeer } from '../support/peers.js';
import { startRsyslog, type RsyslogRepository } from '../support/rsyslog.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';
import { writeInstances } from './instance-files.js';

const PASSWORD = 'atna-admin-password';
const STUDY = '1.2.826.0.1.3680043.10.1.1'; // the study of writeInstances' files (test/archive/helpers.ts)
let dir: string;
let repo: RsyslogRepository;
let pacs: Pacs | undefined;
let storescp: StorescpPeer;
let port: number;
let webPort: number;
let savedPassword: string | undefined;

beforeAll(async () => {
  savedPassword = process.env.PACS_ADMIN_PASSWORD;
  process.env.PACS_ADMIN_PASSWORD = PASSWORD;
  dir = await makeTempDir('pacs-atna-serve-');
  const data = join(dir, 'data');
  await tlsInit(data, { host: 'localhost' });
  const p = tlsPaths(data);
  repo = await startRsyslog({ dir: join(dir, 'rsyslog'), tls: { ca: p.ca, cert: p.serverCert, key: p.serverKey } });
  storescp = await startStorescp({ dir: join(dir, 'storescp'), aet: 'AUDIT_SCP' });
  // The registry before the first start: the repository, a registered SCU allowed to query and retrieve, a move destination.
  const config = await ConfigStore.open(data);
  await config.update((reg) => {
    let r = setAudit(reg, { host: '127.0.0.1', port: repo.tlsPort, protocol: 'tls' });
    r = addAe(r, { aeTitle: 'AUDIT_SCU', connection: { host: '127.0.0.1' }, permissions: ['echo', 'store', 'find', 'move', 'get', 'worklist'] });
    r = addAe(r, { aeTitle: 'AUDIT_SCP', connection: { host: '127.0.0.1', port: storescp.port }, moveDestination: true });
    return r;
  });
  config.close();
  [port, webPort] = await Promise.all([freePort(), freePort()]);
  const [workstationPort, routerPort] = await Promise.all([freePort(), freePort()]);
  pacs = await startPacs({ dataDir: data, logger: pino({ level: 'silent' }), overrides: { port, workstationPort, routerPort, webPort, webHost: '127.0.0.1' } });
}, 120_000);

afterAll(async () => {
  await pacs?.close();
  await stopAllPeers();
  await repo?.stop();
  if (savedPassword === undefined) delete process.env.PACS_ADMIN_PASSWORD;
  else process.env.PACS_ADMIN_PASSWORD = savedPassword;
  await removeTempDirs();
});

/** The messages rsyslog wrote whose EventID is `code`, once there are at least `n`. */
async function withEvent(code: string, n = 1, extra = ''): Promise<string[]> {
  return until(`${n} audit message(s) with EventID ${code}${extra ? ` and ${extra}` : ''}`, async () => {
    const xml = (await repo.messages()).map((m) => m.xml).filter((x) => x.includes(`<EventID csd-code="${code}"`) && x.includes(extra));
    return xml.length >= n ? xml : undefined;
  });
}

const web = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${webPort}${path}`, init);
async function login(user: string, password: string): Promise<Response> {
  return web('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
}

describe('the audit trail of a running PACS, into rsyslog over TLS', () => {
  it('Application Activity: each role reports its start', async () => {
    const starts = await withEvent('110100', 3);
    for (const aet of ['PACS', 'WORKSTATION', 'ROUTER']) expect(starts.some((x) => x.includes(`UserID="${aet}"`))).toBe(true);
  });

  it('DICOM Instances Transferred: storescu of 3 instances, one message when the association ends', async () => {
    mkdirSync(join(dir, 'files'), { recursive: true });
    const files = writeInstances(join(dir, 'files'), '1.2.826.0.1.3680043.10.543.18.1', 3);
    const r = await storescu({ port, calledAet: 'PACS', callingAet: 'AUDIT_SCU', files: files.map((f) => f.path) });
    expect(r.code, r.stderr).toBe(0);
    const [xml] = await withEvent('110104', 1, 'EventActionCode="C"');
    expect(xml).toContain('UserID="AUDIT_SCU" AlternativeUserID="AETITLES=AUDIT_SCU" UserIsRequestor="true"');
    expect(xml).toContain(`ParticipantObjectID="${STUDY}"`);
    expect(xml).toContain('NumberOfInstances="3"');
    expect(xml).toContain('<ParticipantObjectName>Doe^Jane</ParticipantObjectName>');
  });

  it('Query: a C-FIND by findscu', async () => {
    const out = join(dir, 'find');
    mkdirSync(out, { recursive: true });
    const r = await runDcmtk('findscu', [
      '-S',
      '-aet',
      'AUDIT_SCU',
      '-aec',
      'PACS',
      '-X',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'PatientID=PID42',
      '-k',
      'StudyInstanceUID',
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).toHaveLength(1);
    const [xml] = await withEvent('110112', 1, 'UserID="AUDIT_SCU"');
    expect(xml).toContain('ParticipantObjectID="1.2.840.10008.5.1.4.1.2.2.1"');
    // The identifier itself, base64: it holds the PatientID matched on.
    const query = /<ParticipantObjectQuery>([^<]+)</.exec(xml)![1];
    expect(Buffer.from(query, 'base64').toString('latin1')).toContain('PID42');
  });

  it('Query: a Modality Worklist C-FIND', async () => {
    const r = await runDcmtk('findscu', [
      '-W',
      '-aet',
      'AUDIT_SCU',
      '-aec',
      'PACS',
      '-k',
      'ScheduledProcedureStepSequence[0].Modality=CT',
      '-k',
      'PatientName',
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [xml] = await withEvent('110112', 1, 'ParticipantObjectID="1.2.840.10008.5.1.4.31"');
    expect(xml).toContain('UserID="AUDIT_SCU" AlternativeUserID="AETITLES=AUDIT_SCU" UserIsRequestor="true"');
  });

  it('Begin Transferring and DICOM Instances Transferred: a C-MOVE to a registered destination', async () => {
    const r = await runDcmtk('movescu', [
      '-S',
      '-aet',
      'AUDIT_SCU',
      '-aec',
      'PACS',
      '-aem',
      'AUDIT_SCP',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${STUDY}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await storescp.countFiles()).toBe(3);
    const [begin] = await withEvent('110102', 1, 'UserID="AUDIT_SCP"');
    expect(begin).toContain('UserID="AUDIT_SCU" AlternativeUserID="AETITLES=AUDIT_SCU" UserIsRequestor="true"');
    expect(begin).toContain(`ParticipantObjectID="${STUDY}"`);
    const [done] = await withEvent('110104', 1, 'UserID="AUDIT_SCP"');
    expect(done).toContain('EventActionCode="R"');
    expect(done).toContain('EventOutcomeIndicator="0"');
  });

  it('Begin Transferring and DICOM Instances Transferred: a C-GET', async () => {
    const out = join(dir, 'get');
    mkdirSync(out, { recursive: true });
    const r = await runDcmtk('getscu', [
      '-S',
      '-aet',
      'AUDIT_SCU',
      '-aec',
      'PACS',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${STUDY}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr).toBe(0);
    // The second Begin Transferring: to the requestor itself, no move destination in it.
    const begins = await withEvent('110102', 2);
    expect(begins[1]).toContain('UserID="AUDIT_SCU" AlternativeUserID="AETITLES=AUDIT_SCU" UserIsRequestor="true"');
    expect(begins[1]).not.toContain('AUDIT_SCP');
    const done = await withEvent('110104', 2, 'EventActionCode="R"');
    expect(done[1]).toContain('NumberOfInstances="3"');
  });

  it('Security Alert: an unknown AE refused by a strict Main Server', async () => {
    await pacs!.config.update((reg) => setAe(reg, 'PACS', { policy: { strict: true } }));
    await pacs!.roles.settled();
    const r = await echoscu({ port, calledAet: 'PACS', callingAet: 'NOBODY' });
    expect(r.code).not.toBe(0);
    const [xml] = await withEvent('110113', 1, 'UserID="NOBODY"');
    expect(xml).toContain('EventOutcomeIndicator="4"');
    expect(xml).toContain('<EventOutcomeDescription>calling AE title "NOBODY" is not registered (strict mode)</EventOutcomeDescription>');
  });

  let cookie = '';
  it('User Authentication: a failed login, then a login', async () => {
    expect((await login('admin', 'wrong')).status).toBe(401);
    const [failed] = await withEvent('110114', 1, 'EventOutcomeIndicator="4"');
    expect(failed).toContain('UserID="admin"');
    const ok = await login('admin', PASSWORD);
    expect(ok.status).toBe(200);
    cookie = ok.headers.get('set-cookie')!.split(';')[0];
    await withEvent('110114', 1, 'EventOutcomeIndicator="0"');
  });

  it('Query and Instances Transferred over DICOMweb: QIDO-RS and WADO-RS', async () => {
    const q = await web('/dicomweb/studies?PatientID=PID42', { headers: { cookie } });
    expect(q.status).toBe(200);
    const [qido] = await withEvent('110112', 1, 'UserID="admin"');
    expect(Buffer.from(/<ParticipantObjectQuery>([^<]+)</.exec(qido)![1], 'base64').toString()).toBe('/dicomweb/studies?PatientID=PID42');
    const w = await web(`/dicomweb/studies/${STUDY}`, { headers: { cookie, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
    expect(w.status).toBe(200);
    await w.arrayBuffer();
    const [wado] = await withEvent('110104', 1, 'UserID="admin"');
    expect(wado).toContain('EventActionCode="R"');
    expect(wado).toContain(`ParticipantObjectID="${STUDY}"`);
  });

  it('Export: the study downloaded as a zip file', async () => {
    const z = await web(`/api/studies/${STUDY}/archive.zip`, { headers: { cookie } });
    expect(z.status).toBe(200);
    await z.arrayBuffer();
    const [xml] = await withEvent('110106');
    expect(xml).toContain(`UserID="/api/studies/${STUDY}/archive.zip"`);
    expect(xml).toContain('<Anonymized>false</Anonymized>');
  });

  it('DICOM Study Deleted: the study deleted over REST', async () => {
    const d = await web(`/api/studies/${STUDY}`, { method: 'DELETE', headers: { cookie } });
    expect(d.status).toBe(200);
    expect(await d.json()).toEqual({ deleted: 3 });
    const [xml] = await withEvent('110105');
    expect(xml).toContain('UserID="admin"');
    expect(xml).toContain('ParticipantObjectID="PID42"');
  });

  it('User Authentication: logout', async () => {
    expect((await web('/api/logout', { method: 'POST', headers: { cookie } })).status).toBe(200);
    const [xml] = await withEvent('110114', 1, 'originalText="Logout"');
    expect(xml).toContain('UserID="admin"');
  });

  it('Application Activity: each role reports its stop, and every message is schema-valid', async () => {
    await pacs!.close();
    pacs = undefined;
    await withEvent('110100', 3, 'originalText="Application Stop"');
    const all = await repo.messages();
    expect(all.length).toBeGreaterThanOrEqual(20);
    for (const m of all) {
      const v = await validateAuditMessage(m.xml);
      expect(v.output).toBe('- validates\n');
    }
  });
});
