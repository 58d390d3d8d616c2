/**
 * Shared body: Orthanc with its DICOMweb plugin as a client of ours: Orthanc's REST API drives
 * /dicom-web/servers/pacs/{stow,get,retrieve} against a real `pacs serve` (HTTP Basic):
 * Orthanc stores a study into us with STOW-RS, lists it with QIDO-RS and retrieves it back
 * with WADO-RS, the data sets unchanged.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetaHeader } from '../../src/dicom/part10.js';
import { freePort, REPO_ROOT, startOrthanc, startPacs, stopAllPeers, waitForPort, type OrthancPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { ctSeries } from '../web/dicomweb-setup.js';
import type { ServeIndex } from './serve-index.js';

/** Registers the suite against a `pacs serve` whose Main Server index is `db`. */
export function dicomwebOrthancSuite(db: ServeIndex): void {
  const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
  let orthanc: OrthancPeer;
  let base: string;
  let series: Awaited<ReturnType<typeof ctSeries>>;
  const auth = `Basic ${Buffer.from('admin:password1').toString('base64')}`;

  const dataSet = (b: Buffer): Buffer => b.subarray(readMetaHeader(b).dataSetOffset);
  const post = <T>(url: string, body: unknown) => orthanc.rest<T>(url, { method: 'POST', body: JSON.stringify(body) });

  beforeAll(async () => {
    const dir = await makeTempDir('pacs-dw-orthanc-');
    const webPort = await freePort();
    await startPacs({
      dir: path.join(dir, 'pacs'),
      args: [
        path.join(REPO_ROOT, 'bin/pacs.js'),
        'serve',
        '--data',
        '{data}',
        '--port',
        '{port}',
        '--aet',
        '{aet}',
        '--web-port',
        String(webPort),
        '--web-host',
        '127.0.0.1',
        ...(await db.args()),
      ],
      env: { PACS_ADMIN_PASSWORD: 'password1' },
    });
    await waitForPort(webPort);
    base = `http://127.0.0.1:${webPort}/dicomweb`;
    orthanc = await startOrthanc({
      dir: path.join(dir, 'orthanc'),
      plugins: [DICOMWEB_PLUGIN],
      config: { DicomWeb: { Enable: true, Root: '/dicom-web/', Servers: { pacs: [`${base}/`, 'admin', 'password1'] } } },
    });
    series = await ctSeries(path.join(dir, 'files'), { count: 4, patientName: 'ORTHANC^DICOMWEB', patientId: 'ODW1' });
    for (const b of series.bytes) await orthanc.rest('/instances', { method: 'POST', body: b });
  }, 120_000);

  afterAll(async () => {
    await stopAllPeers();
    await db.cleanup();
    await removeTempDirs();
  });

  describe(`Orthanc DICOMweb client against pacs serve (${db.name})`, () => {
    it('Orthanc stores a study into us with STOW-RS', async () => {
      const [study] = await orthanc.rest<string[]>('/studies');
      await post('/dicom-web/servers/pacs/stow', { Resources: [study] });
      const res = await fetch(`${base}/studies?PatientID=ODW1`, { headers: { authorization: auth } });
      const found = (await res.json()) as Record<string, { Value: unknown[] }>[];
      expect(found).toHaveLength(1);
      expect(found[0]['00201208'].Value).toEqual([4]);
    });

    it('Orthanc lists it with QIDO-RS through /get', async () => {
      const studies = await post<Record<string, { Value: unknown[] }>[]>('/dicom-web/servers/pacs/get', {
        Uri: '/studies',
        Arguments: { PatientName: 'orthanc*' },
      });
      expect(studies.map((s) => s['0020000D'].Value[0])).toEqual([series.studyUid]);
      const inst = await post<Record<string, { Value: unknown[] }>[]>('/dicom-web/servers/pacs/get', {
        Uri: `/studies/${series.studyUid}/series/${series.seriesUid}/instances`,
      });
      expect(inst.map((i) => i['00080018'].Value[0]).sort()).toEqual([...series.sopInstanceUids].sort());
      const meta = await post<Record<string, { BulkDataURI?: string }>[]>('/dicom-web/servers/pacs/get', { Uri: `/studies/${series.studyUid}/metadata` });
      expect(meta).toHaveLength(4);
      expect(meta[0]['7FE00010'].BulkDataURI).toContain('/bulkdata/7FE00010');
    });

    it('Orthanc retrieves the study back with WADO-RS, data sets unchanged', async () => {
      for (const id of await orthanc.rest<string[]>('/studies')) await orthanc.rest(`/studies/${id}`, { method: 'DELETE' });
      expect((await orthanc.statistics()).CountInstances).toBe(0);
      await post('/dicom-web/servers/pacs/retrieve', { Resources: [{ Study: series.studyUid }] });
      expect((await orthanc.statistics()).CountInstances).toBe(4);
      for (const [i, sop] of series.sopInstanceUids.entries()) {
        const [found] = await orthanc.rest<{ ID: string; Type: string }[]>('/tools/lookup', { method: 'POST', body: sop });
        expect(found.Type).toBe('Instance');
        const id = found.ID;
        const res = await fetch(`${orthanc.url}/instances/${id}/file`);
        const file = Buffer.from(await res.arrayBuffer());
        expect(dataSet(file).equals(dataSet(series.bytes[i])), `instance ${i}`).toBe(true);
      }
    });
  });
}
