/**
 * Hostile datasets against a running `pacs serve`, sent with DCMTK's storescu (issue 15):
 * item 3, one C-STORE whose header holds 500 private UC elements of 1 MB each, must be
 * refused with a status while the server's RSS stays within 64 MB of where it was, leave
 * nothing stored, and the next association must be served; item 7, an instance whose
 * Series Instance UID is not a UID must be refused and leave the study's WADO-RS
 * metadata parseable, with the patient name QIDO-RS reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDicomFiles, echoscu, startPacsServe, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeSecondaryCapture, type HostileInstance } from './hostile-instances.js';

const PASSWORD = 'hostile-datasets';
const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
const ROOT = '1.2.826.0.1.3680043.10.1015';

let dir: string;
let pacs: PacsPeer;
let base: string;

beforeAll(async () => {
  dir = await makeTempDir('pacs-hostile-');
  ({ pacs, base } = await startPacsServe(join(dir, 'pacs'), PASSWORD));
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

/** The server's resident set and its high-water mark (kB), from /proc. */
function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

function instanceFile(name: string, o: HostileInstance): string {
  const file = join(dir, `${name}.dcm`);
  writeSecondaryCapture(file, o);
  return file;
}

async function qidoInstances(study: string): Promise<unknown[]> {
  const r = await fetch(`${base}/dicomweb/studies/${study}/instances`, { headers: { ...auth, accept: 'application/dicom+json' } });
  if (r.status === 204) return [];
  expect(r.status).toBe(200);
  return (await r.json()) as unknown[];
}

describe('a C-STORE whose header would exhaust memory (issue 15 item 3)', () => {
  it('is refused with a status, the RSS grows by less than 64 MB, nothing is stored, the next association is served', async () => {
    const study = `${ROOT}.1`;
    const normal = (n: number) => instanceFile(`normal-${n}`, { sopInstanceUid: `${study}.1.${n}`, studyInstanceUid: study, seriesInstanceUid: `${study}.1` });
    const hostile: HostileInstance = {
      sopInstanceUid: `${study}.2.1`,
      studyInstanceUid: study,
      seriesInstanceUid: `${study}.2`,
      privateUc: { count: 500, bytes: 1_000_000 },
    };
    const big = instanceFile('big-header', hostile);

    // Warm up (first store loads the code paths), then take the baseline.
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS' })).code).toBe(0);
    const warm = await storescu({ port: pacs.port, calledAet: 'PACS', files: [normal(1)] });
    expect(warm.code, warm.stderr).toBe(0);
    const before = memoryKb(pacs.pid);
    let peakRss = before.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryKb(pacs.pid).rss)), 20);
    let r;
    try {
      r = await storescu({ port: pacs.port, calledAet: 'PACS', files: [big], args: ['-d'], timeoutMs: 300_000 });
    } finally {
      clearInterval(sampler);
    }
    const after = memoryKb(pacs.pid);
    const growthMb = (Math.max(peakRss, after.hwm) - Math.max(before.rss, before.hwm)) / 1024;
    console.log(
      `500 x 1 MB private UC: server RSS ${Math.round(before.rss / 1024)} MB before (high-water ${Math.round(before.hwm / 1024)} MB), ` +
        `peak ${Math.round(peakRss / 1024)} MB, high-water after ${Math.round(after.hwm / 1024)} MB: +${growthMb.toFixed(1)} MB`,
    );
    const out = r.stdout + r.stderr;
    // Refused with a failure status whose comment names the limit.
    expect(out).toMatch(/Store Failed|Status.*0xa700|Out ?Of ?Resources/i);
    expect(out).toMatch(/maxHeaderBytes/);
    expect(growthMb).toBeLessThan(64);

    // Nothing stored: no file, no index row.
    expect(await countDicomFiles(pacs.dataDir, new Set([hostile.sopInstanceUid]))).toBe(0);
    expect((await qidoInstances(study)).length).toBe(1);

    // The next association is served.
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS' })).code).toBe(0);
    const next = await storescu({ port: pacs.port, calledAet: 'PACS', files: [normal(2)] });
    expect(next.code, next.stderr).toBe(0);
    expect((await qidoInstances(study)).length).toBe(2);
  }, 600_000);
});

describe('a C-STORE whose Series Instance UID is not a UID (issue 15 item 7)', () => {
  async function metadata(study: string): Promise<Record<string, { Value?: unknown[] }>[]> {
    const r = await fetch(`${base}/dicomweb/studies/${study}/metadata`, { headers: { ...auth, accept: 'application/dicom+json' } });
    expect(r.status).toBe(200);
    const text = await r.text();
    return JSON.parse(text) as Record<string, { Value?: unknown[] }>[]; // throws on invalid JSON
  }

  it('is refused with a status naming the attribute, and the study metadata still parses', async () => {
    const study = `${ROOT}.2`;
    const good = instanceFile('good', {
      sopInstanceUid: `${study}.1.1`,
      studyInstanceUid: study,
      seriesInstanceUid: `${study}.1`,
      patientName: 'Real^Patient',
    });
    const quote = instanceFile('quote', { sopInstanceUid: `${study}.1.2`, studyInstanceUid: study, seriesInstanceUid: '1.2.3"x', patientName: 'Real^Patient' });
    expect((await storescu({ port: pacs.port, calledAet: 'PACS', files: [good] })).code).toBe(0);
    const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: [quote], args: ['-d'] });
    const md = await metadata(study);
    expect(md).toHaveLength(1);
    expect(md[0]['0020000E'].Value).toEqual([`${study}.1`]);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/0xa900|Data ?Set ?does ?not ?match/i);
    expect(out).toMatch(/SeriesInstanceUID/);
  });

  it('cannot change the patient name /metadata reports (injection in the Series Instance UID)', async () => {
    // Closes the BulkDataURI string /metadata pastes the series UID into, adds a later
    // (so winning) Patient Name, and opens a string that the rest of the URI closes.
    const injected = '1"},"00100010":{"vr":"PN","Value":[{"Alphabetic":"INJECTED^NAME"}]},"00090010":{"vr":"LO","BulkDataURI":"x';
    const study = `${ROOT}.3`;
    const good = instanceFile('good-3', {
      sopInstanceUid: `${study}.1.1`,
      studyInstanceUid: study,
      seriesInstanceUid: `${study}.1`,
      patientName: 'Real^Patient',
    });
    expect((await storescu({ port: pacs.port, calledAet: 'PACS', files: [good] })).code).toBe(0);
    const file = instanceFile('inject', { sopInstanceUid: `${study}.1.3`, studyInstanceUid: study, seriesInstanceUid: injected, patientName: 'Real^Patient' });
    const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: [file], args: ['-d'] });
    const md = await metadata(study);
    const names = md.map((i) => (i['00100010'].Value as { Alphabetic: string }[])[0].Alphabetic);
    const q = await fetch(`${base}/dicomweb/studies?StudyInstanceUID=${study}`, { headers: { ...auth, accept: 'application/dicom+json' } });
    const qido = (await q.json()) as Record<string, { Value?: { Alphabetic: string }[] }>[];
    expect(qido.map((s) => s['00100010'].Value?.[0].Alphabetic)).toEqual(['Real^Patient']);
    expect(names).toEqual(names.map(() => 'Real^Patient'));
    expect(r.stdout + r.stderr).toMatch(/0xa900|Data ?Set ?does ?not ?match/i);
  });
});
