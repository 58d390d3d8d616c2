/**
 * Query conformance: C-FIND matching over the index and retrieve selection, the same
 * tests for every backend (SQLite, PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Index, InstanceRecord } from '../../src/archive/index-types.js';
import { describeRetrieve, describeSubjects, iterateInstanceJson, iterateRetrieve, queryIndex, type QueryLevel } from '../../src/archive/query.js';
import { compileMatcher, type QueryKey } from '../../src/dicom/matching.js';
import { lookupKeyword } from '../../src/dicom/dictionary.js';
import type { IndexFactory } from './index-conformance.js';

let seq = 0;
function record(o: {
  patientId: string;
  patientName: string;
  study: string;
  studyDate: string;
  studyTime?: string;
  series: string;
  modality: string;
  sopClass?: string;
  description?: string;
  institution?: string;
  json?: Record<string, unknown>;
}): InstanceRecord {
  seq++;
  const json = {
    '00080020': { vr: 'DA', Value: [o.studyDate] },
    '00080060': { vr: 'CS', Value: [o.modality] },
    '00080080': { vr: 'LO', Value: [o.institution ?? 'General Hospital'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: o.patientName }] },
    '00100020': { vr: 'LO', Value: [o.patientId] },
    ...o.json,
  };
  return {
    sopInstanceUid: `1.2.9.${seq}`,
    sopClassUid: o.sopClass ?? '1.2.840.10008.5.1.4.1.1.2',
    studyInstanceUid: o.study,
    seriesInstanceUid: o.series,
    patientId: o.patientId,
    patientName: o.patientName,
    studyDate: o.studyDate,
    studyTime: o.studyTime ?? '101500',
    studyDescription: o.description ?? 'CT Head',
    accessionNumber: `ACC${o.study.slice(-2)}`,
    modality: o.modality,
    seriesNumber: 1,
    instanceNumber: seq,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    fileKey: `k/${seq}.dcm`,
    fileSize: 100,
    receivedAt: '2024-01-01T00:00:00.000Z',
    callingAeTitle: 'MOD',
    json: JSON.stringify(json),
  };
}

const RECORDS: InstanceRecord[] = [
  // Patient 1: two studies
  record({ patientId: 'P1', patientName: 'Doe^Jane', study: '1.2.1.01', studyDate: '20240105', series: '1.2.1.01.1', modality: 'CT' }),
  record({ patientId: 'P1', patientName: 'Doe^Jane', study: '1.2.1.01', studyDate: '20240105', series: '1.2.1.01.1', modality: 'CT' }),
  record({
    patientId: 'P1',
    patientName: 'Doe^Jane',
    study: '1.2.1.01',
    studyDate: '20240105',
    series: '1.2.1.01.2',
    modality: 'SR',
    sopClass: '1.2.840.10008.5.1.4.1.1.88.11',
  }),
  record({
    patientId: 'P1',
    patientName: 'Doe^Jane',
    study: '1.2.1.02',
    studyDate: '20240301',
    studyTime: '0830',
    series: '1.2.1.02.1',
    modality: 'MR',
    description: 'MR Knee',
  }),
  // Patient 2
  record({
    patientId: 'P2',
    patientName: 'DOE^JOHN',
    study: '1.2.2.03',
    studyDate: '20231231',
    series: '1.2.2.03.1',
    modality: 'CT',
    institution: 'Clinic',
    json: { '00081032': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['T-04000'] } }] } },
  }),
  // Patient 3, non-ASCII name
  record({ patientId: 'P3', patientName: 'Müller^Hans', study: '1.2.3.04', studyDate: '20240610', series: '1.2.3.04.1', modality: 'MR' }),
  // Patient 4 with SQL LIKE metacharacters in the ID
  record({ patientId: 'P_4%', patientName: 'Smith^Ann', study: '1.2.4.05', studyDate: '20240611', series: '1.2.4.05.1', modality: 'US' }),
];

/** A key from 'Keyword=value' (value '' = universal). */
function key(spec: string, opts = {}): QueryKey {
  const [kw, ...rest] = spec.split('=');
  const e = lookupKeyword(kw);
  if (!e) throw new Error(kw);
  const v = rest.join('=');
  return { tag: e.tag, vr: e.vr, matcher: compileMatcher(e.tag, e.vr, v === '' ? [] : v.split('\\'), opts) };
}

async function run(index: Index, level: QueryLevel, specs: string[], returnKw: string, opts = {}): Promise<string[]> {
  const keys = specs.map((s) => key(s, opts));
  const ret = key(`${returnKw}=`);
  if (!keys.some((k) => k.tag === ret.tag)) keys.push(ret);
  const out: string[] = [];
  for await (const m of queryIndex(index, level, keys, { pageSize: 2, ...opts })) out.push((m.target.values(ret.tag) ?? []).join('\\'));
  return out.sort();
}

// [description, level, keys, returned attribute, expected values of it]
const CASES: [string, QueryLevel, string[], string, string[]][] = [
  ['all patients', 'PATIENT', [], 'PatientID', ['P1', 'P2', 'P3', 'P_4%']],
  ['patient name wildcard, case-insensitive', 'PATIENT', ['PatientName=doe*'], 'PatientID', ['P1', 'P2']],
  ['patient name single value, case-insensitive', 'PATIENT', ['PatientName=DOE^JANE'], 'PatientID', ['P1']],
  ['non-ASCII name, case-insensitive', 'PATIENT', ['PatientName=müller*'], 'PatientID', ['P3']],
  ['LIKE metacharacters are literal', 'PATIENT', ['PatientID=P_4%'], 'PatientName', ['Smith^Ann']],
  ['LIKE metacharacters do not match others', 'PATIENT', ['PatientID=P_?'], 'PatientName', []],
  ['? wildcard on patient ID', 'PATIENT', ['PatientID=P?'], 'PatientID', ['P1', 'P2', 'P3']],
  ['patient related studies', 'PATIENT', ['PatientID=P1'], 'NumberOfPatientRelatedStudies', ['2']],
  ['patient related instances', 'PATIENT', ['PatientID=P1'], 'NumberOfPatientRelatedInstances', ['4']],
  ['study by exact patient ID', 'STUDY', ['PatientID=P1'], 'StudyInstanceUID', ['1.2.1.01', '1.2.1.02']],
  ['study date closed range', 'STUDY', ['StudyDate=20240101-20240331'], 'StudyInstanceUID', ['1.2.1.01', '1.2.1.02']],
  ['study date open start', 'STUDY', ['StudyDate=-20240105'], 'StudyInstanceUID', ['1.2.1.01', '1.2.2.03']],
  ['study date open end', 'STUDY', ['StudyDate=20240610-'], 'StudyInstanceUID', ['1.2.3.04', '1.2.4.05']],
  ['study date single', 'STUDY', ['StudyDate=20231231'], 'PatientID', ['P2']],
  ['study time range (JavaScript only)', 'STUDY', ['StudyTime=0800-0900'], 'StudyInstanceUID', ['1.2.1.02']],
  ['study UID list', 'STUDY', ['StudyInstanceUID=1.2.1.02\\1.2.3.04\\9.9'], 'PatientID', ['P1', 'P3']],
  ['modalities in study: one of', 'STUDY', ['ModalitiesInStudy=SR'], 'StudyInstanceUID', ['1.2.1.01']],
  ['modalities in study returned', 'STUDY', ['StudyInstanceUID=1.2.1.01'], 'ModalitiesInStudy', ['CT\\SR']],
  ['modality list plus date range', 'STUDY', ['ModalitiesInStudy=CT\\US', 'StudyDate=20240101-'], 'StudyInstanceUID', ['1.2.1.01', '1.2.4.05']],
  ['study related series', 'STUDY', ['StudyInstanceUID=1.2.1.01'], 'NumberOfStudyRelatedSeries', ['2']],
  ['study related instances', 'STUDY', ['StudyInstanceUID=1.2.1.01'], 'NumberOfStudyRelatedInstances', ['3']],
  ['SOP classes in study', 'STUDY', ['StudyInstanceUID=1.2.1.01'], 'SOPClassesInStudy', ['1.2.840.10008.5.1.4.1.1.2\\1.2.840.10008.5.1.4.1.1.88.11']],
  ['attribute only in JSON', 'STUDY', ['InstitutionName=Clinic'], 'StudyInstanceUID', ['1.2.2.03']],
  ['attribute only in JSON, wildcard', 'STUDY', ['InstitutionName=Gen*'], 'PatientID', ['P1', 'P1', 'P3', 'P_4%']],
  ['attribute only in JSON returned', 'STUDY', ['PatientID=P2'], 'InstitutionName', ['Clinic']],
  ['sequence matching', 'STUDY', [], 'StudyInstanceUID', []], // replaced below
  ['description wildcard', 'STUDY', ['StudyDescription=*Knee'], 'StudyInstanceUID', ['1.2.1.02']],
  ['series of a study', 'SERIES', ['StudyInstanceUID=1.2.1.01'], 'SeriesInstanceUID', ['1.2.1.01.1', '1.2.1.01.2']],
  ['series by modality', 'SERIES', ['Modality=MR'], 'SeriesInstanceUID', ['1.2.1.02.1', '1.2.3.04.1']],
  ['series related instances', 'SERIES', ['SeriesInstanceUID=1.2.1.01.1'], 'NumberOfSeriesRelatedInstances', ['2']],
  ['images of a series', 'IMAGE', ['SeriesInstanceUID=1.2.1.01.1'], 'SOPClassUID', ['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.2']],
  ['images by SOP class', 'IMAGE', ['SOPClassUID=1.2.840.10008.5.1.4.1.1.88.11'], 'SeriesInstanceUID', ['1.2.1.01.2']],
  ['no match', 'STUDY', ['PatientName=Nobody'], 'StudyInstanceUID', []],
];

export function registerQueryConformance(name: string, factory: IndexFactory): void {
  describe(`Query conformance: ${name}`, () => {
    let index: Index;
    beforeAll(async () => {
      index = await factory.open();
      await index.insertInstances(RECORDS);
    });
    afterAll(async () => {
      await index.close();
      await factory.destroy();
    });

    it.each(CASES.filter((c) => c[0] !== 'sequence matching'))('%s (%s %j -> %s)', async (_d, level, specs, ret, expected) => {
      expect(await run(index, level, specs, ret)).toEqual([...expected].sort());
    });

    // The SQL pre-filter must not refuse what the matcher can decide: SQLite refuses LIKE
    // patterns over 50,000 bytes ("LIKE or GLOB pattern too complex") and expressions
    // nested over 1,000 deep (a key of many values was one OR per value).
    it('a wildcard key of 60,000 characters', async () => {
      expect(await run(index, 'PATIENT', [`PatientName=D${'*'.repeat(60_000)}e^jane`], 'PatientID')).toEqual(['P1']);
      expect(await run(index, 'STUDY', [`StudyDescription=${'?'.repeat(30_000)}*`], 'PatientID')).toEqual([]);
      expect(await run(index, 'STUDY', [`StudyDescription=*${'*?'.repeat(30_000)}`], 'PatientID')).toEqual([]);
    });

    it('a key of 1,000 wildcard values', async () => {
      const values = [...Array.from({ length: 999 }, (_, i) => `X${i}*`), 'doe^j*'];
      expect(await run(index, 'PATIENT', [`PatientName=${values.join('\\')}`], 'PatientID')).toEqual(['P1', 'P2']);
      const ids = [...Array.from({ length: 999 }, (_, i) => `Q${i}?`), 'P?'];
      expect(await run(index, 'PATIENT', [`PatientID=${ids.join('\\')}`], 'PatientID')).toEqual(['P1', 'P2', 'P3']);
    });

    it('sequence matching on an attribute only in the JSON', async () => {
      const seqKey: QueryKey = {
        tag: 0x00081032,
        vr: 'SQ',
        matcher: { kind: 'sequence', keys: [{ tag: 0x00080100, vr: 'SH', matcher: compileMatcher(0x00080100, 'SH', ['T-04000']) }] },
      };
      const uid = key('StudyInstanceUID=');
      const out: string[] = [];
      for await (const m of queryIndex(index, 'STUDY', [seqKey, uid])) out.push(m.target.values(uid.tag)!.join());
      expect(out).toEqual(['1.2.2.03']);
    });

    it('person names case-sensitive when configured', async () => {
      expect(await run(index, 'PATIENT', ['PatientName=doe*'], 'PatientID', { caseInsensitivePersonNames: false })).toEqual([]);
      expect(await run(index, 'PATIENT', ['PatientName=DOE*'], 'PatientID', { caseInsensitivePersonNames: false })).toEqual(['P2']);
    });

    it('stops when the signal aborts', async () => {
      const ac = new AbortController();
      const out: unknown[] = [];
      for await (const m of queryIndex(index, 'IMAGE', [key('SOPInstanceUID=')], { pageSize: 2, signal: ac.signal })) {
        out.push(m);
        if (out.length === 3) ac.abort();
      }
      expect(out).toHaveLength(3);
    });

    it('names the patients and studies a selection touches, for the audit trail', async () => {
      expect(await describeSubjects(index, { studyInstanceUids: ['1.2.1.01', '1.2.2.03'] })).toEqual({
        patients: [
          { id: 'P1', name: 'Doe^Jane' },
          { id: 'P2', name: 'DOE^JOHN' },
        ],
        studies: [
          {
            studyInstanceUid: '1.2.1.01',
            accessionNumbers: ['ACC01'],
            sopClasses: [
              { uid: '1.2.840.10008.5.1.4.1.1.2', count: 2 },
              { uid: '1.2.840.10008.5.1.4.1.1.88.11', count: 1 },
            ],
          },
          { studyInstanceUid: '1.2.2.03', accessionNumbers: ['ACC03'], sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.2', count: 1 }] },
        ],
      });
      // Bounded: at most maxGroups (study, SOP class) groups.
      expect((await describeSubjects(index, { studyInstanceUids: ['1.2.1.01', '1.2.2.03'] }, { maxGroups: 1 })).studies).toEqual([
        { studyInstanceUid: '1.2.1.01', accessionNumbers: ['ACC01'], sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.2', count: 2 }] },
      ]);
      expect(await describeSubjects(index, { sopInstanceUids: ['no.such.uid'] })).toEqual({ patients: [], studies: [] });
    });

    it('selects instances for a retrieve, in pages', async () => {
      const d = await describeRetrieve(index, { studyInstanceUids: ['1.2.1.01', '1.2.2.03'] });
      expect(d.count).toBe(4);
      expect(d.pairs.map((p) => p.sopClassUid)).toEqual(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.88.11']);
      // Counted page by page: the same answer with pages of one row.
      expect(await describeRetrieve(index, { studyInstanceUids: ['1.2.1.01', '1.2.2.03'] }, { pageSize: 1 })).toEqual(d);
      const all = [];
      for await (const i of iterateRetrieve(index, { studyInstanceUids: ['1.2.1.01', '1.2.2.03'] }, { pageSize: 3 })) all.push(i);
      expect(all.map((i) => i.studyInstanceUid).sort()).toEqual(['1.2.1.01', '1.2.1.01', '1.2.1.01', '1.2.2.03']);
      const one = [];
      for await (const i of iterateRetrieve(index, { patientIds: ['P1'], seriesInstanceUids: ['1.2.1.01.2'] })) one.push(i);
      expect(one).toHaveLength(1);
      expect(one[0].fileKey).toMatch(/^k\//);
      expect((await describeRetrieve(index, { sopInstanceUids: [] })).count).toBe(0);
    });

    it('streams the stored JSON of a selection page by page, in storage order, each row once', async () => {
      const sel = { studyInstanceUids: ['1.2.1.01', '1.2.2.03', '1.2.1.02'] };
      const order = [];
      for await (const i of iterateRetrieve(index, sel)) order.push(i.sopInstanceUid);
      for (const pageSize of [1, 2, 3, 500]) {
        const pages = [];
        for await (const page of iterateInstanceJson(index, sel, { pageSize })) pages.push(page);
        expect(pages.every((p) => p.length <= pageSize)).toBe(true);
        const rows = pages.flat();
        expect(rows.map((r) => r.sopInstanceUid)).toEqual(order);
        for (const r of rows) {
          const rec = RECORDS.find((x) => x.sopInstanceUid === r.sopInstanceUid)!;
          expect([r.studyInstanceUid, r.seriesInstanceUid, r.transferSyntaxUid]).toEqual([rec.studyInstanceUid, rec.seriesInstanceUid, rec.transferSyntaxUid]);
          expect(JSON.parse(r.json)).toEqual(JSON.parse(rec.json));
        }
      }
      expect(order).toHaveLength(5);
      const none = [];
      for await (const page of iterateInstanceJson(index, { seriesInstanceUids: ['9.9.9'] })) none.push(page);
      expect(none).toEqual([]);
    });
  });
}
