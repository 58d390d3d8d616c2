/**
 * Prefetch of priors (src/roles/prefetch.ts) from a real Orthanc into the Workstation
 * Server of `pacs serve`: a worklist step scheduled for a patient with four studies at
 * Orthanc brings the three most recent in (C-FIND, then C-MOVE to WORKSTATION), shown as
 * a job; a study arriving at the Workstation brings its patient's priors likewise.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import type { Job } from '../../src/api-types/web.js';
import { freePort, runDcmtk, startOrthanc, startPacsServe, stopAllPeers, storescu, type OrthancPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const PASSWORD = 'prefetch-password';
const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
let base: string;
let orthanc: OrthancPeer;
let workstationPort: number;
let dir: string;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

/** A one-slice study of `patientId` dated `date` (YYYYMMDD), stored at Orthanc. */
async function priorAtOrthanc(name: string, patientId: string, date: string): Promise<CtSeriesResult> {
  const s = await writeCtSeries({ dir: join(dir, name), count: 1, rows: 32, cols: 32, patientName: 'PRIOR^PAT', patientId, studyDescription: name });
  const dated = await runDcmtk('dcmodify', ['-nb', '-m', `(0008,0020)=${date}`, ...s.files]);
  expect(dated.code, dated.stderr).toBe(0);
  const stored = await storescu({ port: orthanc.dicomPort, calledAet: orthanc.aet, files: s.files });
  expect(stored.code, stored.stderr).toBe(0);
  return s;
}

/** Study UIDs of `patientId` in the Workstation Server (QIDO-RS). */
async function workstationStudies(patientId: string): Promise<string[]> {
  const r = await api('GET', `/workstation/dicomweb/studies?PatientID=${patientId}`);
  if (r.status === 204) return [];
  const body = (await r.json()) as Array<Record<string, { Value: string[] }>>;
  return body.map((s) => s['0020000D'].Value[0]).sort();
}

/** The prefetch job whose label names the patient, once it has finished. */
async function finishedPrefetch(patientId: string): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const jobs = (await (await api('GET', '/api/jobs')).json()) as Job[];
    const job = jobs.find((j) => j.kind === 'prefetch' && j.label.includes(`patient ${patientId} `));
    if (job && job.state !== 'running') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no finished prefetch job for ${patientId}`);
}

beforeAll(async () => {
  dir = await makeTempDir('pacs-prefetch-');
  workstationPort = await freePort();
  const [served, orth] = await Promise.all([
    startPacsServe(join(dir, 'pacs'), PASSWORD, { workstation: workstationPort }),
    startOrthanc({
      dir: join(dir, 'orthanc'),
      // Orthanc answers C-FIND/C-MOVE from known AEs only (the prefetch calls as WS_CLIENT) and moves to known AEs.
      config: { DicomModalities: { WORKSTATION: ['WORKSTATION', '127.0.0.1', workstationPort], WS_CLIENT: ['WS_CLIENT', '127.0.0.1', 1] } },
    }),
  ]);
  base = served.base;
  orthanc = orth;
  const added = await api('POST', '/api/aes', { aeTitle: orthanc.aet, connection: { host: '127.0.0.1', port: orthanc.dicomPort } });
  expect(added.status, await added.text()).toBe(201);
}, 180_000);

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('prefetch of priors into the Workstation Server', () => {
  it('rejects bad settings by field, and is off until enabled', async () => {
    const bad = await api('PATCH', '/api/config/prefetch', { enabled: true, priors: 0 });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('priors must be at least 1');
    expect(((await (await api('GET', '/api/config')).json()) as { prefetch?: unknown }).prefetch).toBeUndefined();
  });

  it('brings the three most recent of four priors at Orthanc when a worklist step is scheduled', async () => {
    const priors = [];
    for (const [i, date] of ['20200110', '20210210', '20220310', '20230410'].entries()) priors.push(await priorAtOrthanc(`wl-${i}`, 'PF-WL', date));
    await priorAtOrthanc('other-patient', 'PF-OTHER', '20240101');
    const set = await api('PATCH', '/api/config/prefetch', { enabled: true, source: orthanc.aet, priors: 3, onArrival: false });
    expect(set.status, await set.text()).toBe(200);
    expect(await workstationStudies('PF-WL')).toEqual([]);

    const step = await api('POST', '/api/worklist', { patientId: 'PF-WL', patientName: 'PRIOR^PAT', modality: 'CT', startDate: '20261206' });
    expect(step.status, await step.text()).toBe(201);
    const job = await finishedPrefetch('PF-WL');
    expect(job.state, job.message).toBe('done');
    expect(job.total).toBe(3);
    expect(job.done).toBe(3);
    expect(job.message).toContain('3 prior(s) of 4 studies at ORTHANC: 3 moved, 0 already here, 0 failed');
    expect(await workstationStudies('PF-WL')).toEqual(
      priors
        .slice(1)
        .map((p) => p.studyUid)
        .sort(),
    );
    expect(await workstationStudies('PF-OTHER')).toEqual([]);
  });

  it('brings the priors of a patient whose new study arrives at the Workstation', async () => {
    const older = [await priorAtOrthanc('arr-0', 'PF-ARR', '20190101'), await priorAtOrthanc('arr-1', 'PF-ARR', '20200101')];
    const set = await api('PATCH', '/api/config/prefetch', { onArrival: true, onWorklist: false });
    expect(set.status, await set.text()).toBe(200);
    const current = await writeCtSeries({ dir: join(dir, 'arr-now'), count: 2, rows: 32, cols: 32, patientName: 'PRIOR^PAT', patientId: 'PF-ARR' });
    const sent = await storescu({ port: workstationPort, calledAet: 'WORKSTATION', files: current.files });
    expect(sent.code, sent.stderr).toBe(0);

    const job = await finishedPrefetch('PF-ARR');
    expect(job.state, job.message).toBe('done');
    expect(job.label).toContain(`study ${current.studyUid} arrived`);
    expect(job.done).toBe(2);
    expect(await workstationStudies('PF-ARR')).toEqual([current.studyUid, ...older.map((o) => o.studyUid)].sort());
  });
});
