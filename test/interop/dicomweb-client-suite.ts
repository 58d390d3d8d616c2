/**
 * Shared body: DICOMweb against a real `pacs serve` with the npm dicomweb-client (the library OHIF
 * uses): STOW-RS, QIDO-RS, WADO-RS instances (bytes as stored with transfer-syntax=*)
 * and metadata, over HTTP with Basic authentication.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api as dwc } from 'dicomweb-client';
import { readMetaHeader } from '../../src/dicom/part10.js';
import { freePort, REPO_ROOT, startPacs, stopAllPeers, waitForPort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { installXhr } from '../support/xhr-over-fetch.js';
import { ctSeries, parseMultipart } from '../web/dicomweb-setup.js';
import type { ServeIndex } from './serve-index.js';
import { indexPart10Files } from './dicom-files.js';

/** Registers the suite against a `pacs serve` whose Main Server index is `db`. */
export function dicomwebClientSuite(db: ServeIndex): void {
  installXhr();
  // The package's typings mark every option required; the client itself does not need them.
  type Call = (options: Record<string, unknown>) => Promise<unknown>;
  interface Client {
    storeInstances: Call;
    searchForStudies: Call;
    searchForSeries: Call;
    searchForInstances: Call;
    retrieveInstance: Call;
    retrieveSeries: Call;
    retrieveStudy: Call;
    retrieveStudyMetadata: Call;
    retrieveInstanceMetadata: Call;
  }
  let client: Client;
  let series: Awaited<ReturnType<typeof ctSeries>>;
  let base: string;
  let dataDir: string;
  const auth = `Basic ${Buffer.from('admin:password1').toString('base64')}`;

  /** The stored Part 10 file of an instance, found by its meta header in the archive's blob folder. */
  async function storedFile(sop: string): Promise<Buffer> {
    const info = (await indexPart10Files(path.join(dataDir, 'blobs'))).get(sop);
    if (!info) throw new Error(`no stored file for ${sop}`);
    return fs.promises.readFile(info.path);
  }

  const dataSet = (b: ArrayBuffer | Buffer): Buffer => {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
    return buf.subarray(readMetaHeader(buf).dataSetOffset);
  };

  beforeAll(async () => {
    const dir = await makeTempDir('pacs-dwc-');
    const webPort = await freePort();
    const pacs = await startPacs({
      dir,
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
    dataDir = pacs.dataDir;
    base = `http://127.0.0.1:${webPort}/dicomweb`;
    const Ctor = dwc.DICOMwebClient as unknown as new (o: Record<string, unknown>) => Client;
    client = new Ctor({
      url: base,
      headers: { Authorization: auth },
      verbose: false,
    });
    series = await ctSeries(path.join(dir, 'files'), { count: 5, patientName: 'DWC^CLIENT', patientId: 'DWC1' });
  }, 120_000);

  afterAll(async () => {
    await stopAllPeers();
    await db.cleanup();
    await removeTempDirs();
  });

  describe(`dicomweb-client against pacs serve (${db.name})`, () => {
    it('stores with STOW-RS', async () => {
      const datasets = series.bytes.map((b) => new Uint8Array(b).buffer);
      const text = (await client.storeInstances({ datasets })) as string;
      const res = JSON.parse(text) as Record<string, { Value: Record<string, { Value: string[] }>[] }>;
      expect(res['00081199'].Value.map((x) => x['00081155'].Value[0])).toEqual(series.sopInstanceUids);
    });

    it('finds the study, its series and instances with QIDO-RS', async () => {
      const studies = (await client.searchForStudies({ queryParams: { PatientName: 'dwc*' } })) as Record<string, { Value?: unknown[] }>[];
      expect(studies).toHaveLength(1);
      expect(studies[0]['0020000D'].Value).toEqual([series.studyUid]);
      expect(studies[0]['00201208'].Value).toEqual([5]);
      const none = await client.searchForStudies({ queryParams: { PatientID: 'nobody' } });
      expect(none).toEqual([]);
      const s = (await client.searchForSeries({ studyInstanceUID: series.studyUid })) as Record<string, { Value?: unknown[] }>[];
      expect(s.map((x) => x['0020000E'].Value![0])).toEqual([series.seriesUid]);
      const inst = (await client.searchForInstances({
        studyInstanceUID: series.studyUid,
        seriesInstanceUID: series.seriesUid,
        queryParams: { limit: '2', offset: '1' },
      })) as Record<string, { Value?: unknown[] }>[];
      expect(inst.map((x) => x['00080018'].Value![0])).toEqual(series.sopInstanceUids.slice(1, 3));
    });

    it('retrieves instances with WADO-RS (the client asks for the default syntax; transfer-syntax=* gives the stored bytes)', async () => {
      // dicomweb-client 0.11.3 refuses its own mediaTypes option for instances ("application/" is
      // not "application/dicom"), so it asks without a transfer-syntax: Explicit VR Little Endian, as stored here.
      const one = (await client.retrieveInstance({
        studyInstanceUID: series.studyUid,
        seriesInstanceUID: series.seriesUid,
        sopInstanceUID: series.sopInstanceUids[2],
      })) as ArrayBuffer;
      expect(dataSet(one).equals(dataSet(series.bytes[2]))).toBe(true);
      const all = (await client.retrieveSeries({ studyInstanceUID: series.studyUid, seriesInstanceUID: series.seriesUid })) as ArrayBuffer[];
      expect(all).toHaveLength(5);
      all.forEach((b, i) => expect(dataSet(b).equals(dataSet(series.bytes[i])), `instance ${i}`).toBe(true));
      const study = (await client.retrieveStudy({ studyInstanceUID: series.studyUid })) as ArrayBuffer[];
      expect(study).toHaveLength(5);
      expect(readMetaHeader(Buffer.from(study[0])).meta.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
      // transfer-syntax=*: the files exactly as the archive stored them.
      const res = await fetch(`${base}/studies/${series.studyUid}`, {
        headers: { authorization: auth, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      expect(res.status).toBe(200);
      const parts = parseMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!);
      expect(parts).toHaveLength(5);
      for (const [i, p] of parts.entries()) {
        const stored = await storedFile(series.sopInstanceUids[i]);
        expect(p.body.equals(stored), `instance ${i}`).toBe(true);
        expect(Buffer.from(study[i]).equals(stored)).toBe(true);
      }
    });

    it('retrieves metadata with WADO-RS, with a BulkDataURI for the pixel data', async () => {
      const meta = (await client.retrieveStudyMetadata({ studyInstanceUID: series.studyUid })) as Record<string, { Value?: unknown[]; BulkDataURI?: string }>[];
      expect(meta).toHaveLength(5);
      const first = meta.find((m) => m['00080018'].Value![0] === series.sopInstanceUids[0])!;
      expect(first['00100010'].Value).toEqual([{ Alphabetic: 'DWC^CLIENT' }]);
      expect(first['7FE00010'].BulkDataURI).toMatch(
        new RegExp(`/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances/${series.sopInstanceUids[0]}/bulkdata/7FE00010$`),
      );
      const inst = (await client.retrieveInstanceMetadata({
        studyInstanceUID: series.studyUid,
        seriesInstanceUID: series.seriesUid,
        sopInstanceUID: series.sopInstanceUids[4],
      })) as Record<string, { Value?: unknown[] }>[];
      expect(inst[0]['00200013'].Value).toEqual([5]);
    });
  });
}
