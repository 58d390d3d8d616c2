/** Shared body: QIDO-RS (fastify inject): C-FIND matching through the archive's query, returned attributes, paging, bad parameters. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { basic, ctSeries, multipart, type DicomwebHarness } from './dicomweb-setup.js';

/** Registers the suite against the harness `open` starts (SQLite or PostgreSQL index). */
export function qidoSuite(index: string, open: () => Promise<DicomwebHarness>): void {
  type Json = Record<string, { vr: string; Value?: unknown[] }>;
  let h: DicomwebHarness;
  const studies: Awaited<ReturnType<typeof ctSeries>>[] = [];

  const qido = async (url: string, status = 200) => {
    const r = await h.app.inject({ method: 'GET', url, headers: { ...basic, accept: 'application/dicom+json' } });
    expect(r.statusCode, `${url}: ${r.body}`).toBe(status);
    return r;
  };
  const list = async (url: string) => (await qido(url)).json<Json[]>();
  const setQueryLimits = async (query: Record<string, number> | undefined) => {
    await h.store.update((reg) => ({ ...reg, limits: query ? { ...reg.limits, query } : undefined }));
  };
  const v = (x: Json, tag: string) => x[tag]?.Value?.[0];

  beforeAll(async () => {
    h = await open();
    const files = await makeTempDir('pacs-qido-files-');
    const people = [
      ['DOE^JOHN', 'P1'],
      ['DOE^JANE', 'P2'],
      ['SMITH^ANNA', 'P3'],
    ];
    for (const [i, [patientName, patientId]] of people.entries()) {
      studies.push(await ctSeries(join(files, String(i)), { count: i + 1, patientName, patientId }));
    }
    // A second series in the first study.
    studies.push(await ctSeries(join(files, 'x'), { count: 2, patientName: 'DOE^JOHN', patientId: 'P1', studyUid: studies[0].studyUid, seriesNumber: 2 }));
    const body = multipart(studies.flatMap((s) => s.bytes.map((b) => ({ body: b }))));
    const r = await h.app.inject({ method: 'POST', url: '/dicomweb/studies', payload: body.payload, headers: { ...basic, 'content-type': body.contentType } });
    expect(r.statusCode, r.body).toBe(200);
  });

  afterAll(async () => {
    await h?.close();
    await removeTempDirs();
  });

  describe(`QIDO-RS (${index})`, () => {
    it('searches studies with the study attributes the standard asks for, counts and ModalitiesInStudy included', async () => {
      const all = await list('/dicomweb/studies');
      expect(all.map((x) => v(x, '0020000D'))).toEqual(studies.slice(0, 3).map((s) => s.studyUid));
      const john = all[0];
      expect(john['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'DOE^JOHN' }] });
      expect(v(john, '00100020')).toBe('P1');
      expect(john['00201206']).toEqual({ vr: 'IS', Value: [2] });
      expect(john['00201208']).toEqual({ vr: 'IS', Value: [3] });
      expect(john['00080061']).toEqual({ vr: 'CS', Value: ['CT'] });
      expect(v(john, '00080056')).toBe('ONLINE');
      expect(v(john, '00081190')).toBe(`http://localhost:80/dicomweb/studies/${studies[0].studyUid}`);
      expect(Object.keys(john)).toEqual([...Object.keys(john)].sort());
      for (const tag of ['00080020', '00080030', '00080050', '00080090', '00200010', '00100030', '00100040']) expect(john[tag], tag).toBeDefined();
    });

    it('matches like C-FIND: wildcards (case-insensitive names), tags, date ranges, UID lists, ModalitiesInStudy', async () => {
      expect((await list('/dicomweb/studies?PatientName=doe*')).map((x) => v(x, '00100020'))).toEqual(['P1', 'P2']);
      expect((await list('/dicomweb/studies?PatientName=DOE^J?NE')).map((x) => v(x, '00100020'))).toEqual(['P2']);
      expect((await list('/dicomweb/studies?00100020=P3')).map((x) => v(x, '00100020'))).toEqual(['P3']);
      expect(await list('/dicomweb/studies?PatientID=P9')).toEqual([]);
      const today = String(v((await list('/dicomweb/studies'))[0], '00080020'));
      expect(await list(`/dicomweb/studies?StudyDate=${today}-`)).toHaveLength(3);
      expect(await list('/dicomweb/studies?StudyDate=19000101-19991231')).toHaveLength(0);
      expect(await list(`/dicomweb/studies?StudyInstanceUID=${studies[0].studyUid},${studies[2].studyUid}`)).toHaveLength(2);
      expect(await list(`/dicomweb/studies?StudyInstanceUID=${studies[0].studyUid}\\${studies[1].studyUid}`)).toHaveLength(2);
      expect(await list('/dicomweb/studies?ModalitiesInStudy=CT')).toHaveLength(3);
      expect(await list('/dicomweb/studies?ModalitiesInStudy=MR')).toHaveLength(0);
      // Attributes only the stored JSON holds are matched too (the C-FIND second step).
      expect(await list('/dicomweb/studies?StudyDescription=Synthetic*')).toHaveLength(3);
      expect(await list('/dicomweb/studies?00081030=nothing')).toHaveLength(0);
    });

    it('series and instances: under a study, across studies, with the level attributes and RetrieveURLs', async () => {
      const series = await list(`/dicomweb/studies/${studies[0].studyUid}/series`);
      expect(series.map((x) => v(x, '0020000E'))).toEqual([studies[0].seriesUid, studies[3].seriesUid]);
      expect(series[1]['00201209']).toEqual({ vr: 'IS', Value: [2] });
      expect(v(series[1], '00200011')).toBe(2);
      expect(v(series[0], '00080060')).toBe('CT');
      expect(v(series[0], '00081190')).toBe(`http://localhost:80/dicomweb/studies/${studies[0].studyUid}/series/${studies[0].seriesUid}`);
      expect(series[0]['00100010']).toBeUndefined(); // the study is fixed by the path
      const allSeries = await list('/dicomweb/series?Modality=CT');
      expect(allSeries).toHaveLength(4);
      expect(allSeries[0]['00100010']).toBeDefined(); // across studies: the study attributes too
      expect(await list(`/dicomweb/series?SeriesNumber=2`)).toHaveLength(1);
      const inst = await list(`/dicomweb/studies/${studies[2].studyUid}/series/${studies[2].seriesUid}/instances`);
      expect(inst.map((x) => v(x, '00080018'))).toEqual(studies[2].sopInstanceUids);
      expect(inst[0]['00280010']).toEqual({ vr: 'US', Value: [32] });
      expect(v(inst[0], '00080016')).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(v(inst[2], '00200013')).toBe(3);
      expect(v(inst[0], '00081190')).toMatch(new RegExp(`/series/${studies[2].seriesUid}/instances/${studies[2].sopInstanceUids[0]}$`));
      expect(await list(`/dicomweb/studies/${studies[0].studyUid}/instances`)).toHaveLength(3);
      expect(await list(`/dicomweb/instances?InstanceNumber=2`)).toHaveLength(3);
      expect(await list(`/dicomweb/instances?SOPInstanceUID=${studies[1].sopInstanceUids[1]}`)).toHaveLength(1);
    });

    it('includefield (repeated, comma lists, all), limit and offset in a stable order, fuzzymatching with its Warning', async () => {
      const plain = await list('/dicomweb/studies?PatientID=P1');
      expect(plain[0]['00081032']).toBeUndefined();
      const withFields = await list('/dicomweb/studies?PatientID=P1&includefield=StudyDescription,00200052&includefield=00080070');
      expect(v(withFields[0], '00081030')).toBe('Synthetic CT phantom');
      const all = await list('/dicomweb/instances?includefield=all&limit=1');
      expect(all[0]['00280030']).toBeDefined(); // Pixel Spacing: only with all
      expect(all[0]['00200032']).toBeDefined();
      const allStudy = await list('/dicomweb/studies?includefield=all&PatientID=P1');
      expect(allStudy[0]['00280010']).toBeUndefined(); // image attributes stay out of a study result
      const order = (await list('/dicomweb/instances')).map((x) => v(x, '00080018'));
      expect(order).toHaveLength(8);
      expect((await list('/dicomweb/instances?limit=3')).map((x) => v(x, '00080018'))).toEqual(order.slice(0, 3));
      expect((await list('/dicomweb/instances?limit=3&offset=3')).map((x) => v(x, '00080018'))).toEqual(order.slice(3, 6));
      expect((await list('/dicomweb/instances?offset=7')).map((x) => v(x, '00080018'))).toEqual(order.slice(7));
      expect(await list('/dicomweb/instances?limit=0')).toEqual([]);
      const fuzzy = await qido('/dicomweb/studies?PatientName=doe*&fuzzymatching=true');
      expect(fuzzy.json()).toHaveLength(2);
      expect(fuzzy.headers.warning).toMatch(/^299 .*fuzzymatching/);
    });

    it('limits.query: a default and a maximum limit, with the Warning of PS3.18 8.3.4.4 when more remain', async () => {
      const order = (await list('/dicomweb/instances')).map((x) => v(x, '00080018'));
      expect(order).toHaveLength(8);
      await setQueryLimits({ qidoDefaultLimit: 3, qidoMaxLimit: 5 });
      try {
        const more = /^299 .*"The number of results exceeded the maximum supported by the server\. Additional results can be requested\."$/;
        const dflt = await qido('/dicomweb/instances');
        expect(dflt.json().map((x: Json) => v(x, '00080018'))).toEqual(order.slice(0, 3));
        expect(dflt.headers.warning).toMatch(more);
        const big = await qido('/dicomweb/instances?limit=100');
        expect(big.json().map((x: Json) => v(x, '00080018'))).toEqual(order.slice(0, 5));
        expect(big.headers.warning).toMatch(more);
        // The rest, asked for with offset; the last page says nothing more remains.
        const rest = await qido('/dicomweb/instances?limit=100&offset=5');
        expect(rest.json().map((x: Json) => v(x, '00080018'))).toEqual(order.slice(5));
        expect(rest.headers.warning).toBeUndefined();
        // A limit the server honours: no Warning (the client asked for a page).
        const page = await qido('/dicomweb/instances?limit=2');
        expect(page.json()).toHaveLength(2);
        expect(page.headers.warning).toBeUndefined();
      } finally {
        await setQueryLimits(undefined);
      }
    });

    it('limits.query: past maxRowsExamined, what was found with a Warning, or 413 when nothing was', async () => {
      await setQueryLimits({ maxRowsExamined: 3 });
      try {
        // 8 instances, none with this manufacturer: stopped after examining 3, nothing found.
        const none = await h.app.inject({
          method: 'GET',
          url: '/dicomweb/instances?Manufacturer=Nobody',
          headers: { ...basic, accept: 'application/dicom+json' },
        });
        expect(none.statusCode, none.body).toBe(413);
        expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(none.json().detail).toMatch(/more than 3 rows.*limits\.query\.maxRowsExamined.*narrow/i);
        // Every instance matches: stopped after 3 of them.
        const some = await h.app.inject({
          method: 'GET',
          url: '/dicomweb/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.2&Manufacturer=*',
          headers: { ...basic, accept: 'application/dicom+json' },
        });
        expect(some.statusCode, some.body).toBe(200);
        expect(some.json()).toHaveLength(3);
        expect(some.headers.warning).toMatch(
          /^299 .*"The query was stopped after examining more than 3 rows \(limits\.query\.maxRowsExamined\): the results are incomplete; narrow the query\."$/,
        );
      } finally {
        await setQueryLimits(undefined);
      }
    });

    it('400 with a reason for bad parameters; 406 for other media types', async () => {
      const bad: [string, RegExp][] = [
        ['/dicomweb/studies?NoSuchAttribute=1', /unknown attribute "NoSuchAttribute"/],
        ['/dicomweb/studies?limit=-1', /limit must be a non-negative integer/],
        ['/dicomweb/studies?offset=abc', /offset/],
        ['/dicomweb/studies?StudyDate=2024-01-01', /StudyDate/],
        ['/dicomweb/studies?StudyDate=20240230x', /StudyDate/],
        ['/dicomweb/studies?Modality=CT', /ModalitiesInStudy/],
        ['/dicomweb/studies?PatientID=1&PatientID=2', /more than once/],
        ['/dicomweb/studies?fuzzymatching=maybe', /fuzzymatching/],
        ['/dicomweb/studies?includefield=Nonsense', /unknown attribute/],
        ['/dicomweb/series?SOPInstanceUID=1.2', /of the instance level.*series search/],
        ['/dicomweb/studies?SeriesNumber=x', /of the series level/],
        ['/dicomweb/instances?InstanceNumber=abc', /not a number/],
        ['/dicomweb/studies/1.2.x/series', /StudyInstanceUID must be a UID/],
      ];
      for (const [url, why] of bad) {
        const r = await qido(url, 400);
        expect(r.headers['content-type'], url).toMatch(/^application\/problem\+json/);
        expect(r.json().detail, url).toMatch(why);
      }
      const xml = await h.app.inject({ method: 'GET', url: '/dicomweb/studies', headers: { ...basic, accept: 'application/dicom+xml' } });
      expect(xml.statusCode).toBe(406);
    });
  });
}
