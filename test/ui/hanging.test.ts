// Hanging protocols without a browser: the glob patterns, which protocol applies, which
// series goes where (current and prior), the prior's choice, and scrolling by position.
import { describe, expect, it } from 'vitest';
import type { HangingProtocol } from '../../src/api-types/index.js';
import type { DicomJson } from '../../ui/src/dicom-json.js';
import { BUILT_IN_PROTOCOLS, globMatch, planHanging, protocolApplies, type SeriesFacts, type StudyFacts } from '../../ui/src/viewer/hanging.js';
import { nearestSliceByPosition, parallel, type SlicePlane, type Vec3 } from '../../ui/src/viewer/position-sync.js';
import { choosePrior, dayBefore, priorModality, type StudyIdentity } from '../../ui/src/viewer/prior-study.js';

let n = 0;
const series = (modality: string, description: string, more: Partial<SeriesFacts> = {}): SeriesFacts => ({
  key: `s${++n}-${description}`,
  modality,
  description,
  bodyPart: '',
  seriesNumber: n,
  ...more,
});
const study = (...s: SeriesFacts[]): StudyFacts => ({ description: '', series: s });
const keys = (plan: ReturnType<typeof planHanging>) => plan.viewports.map((v) => v && `${v.study}:${v.key.replace(/^s\d+-/, '')}`);

describe('globMatch', () => {
  it('matches the whole value, ignoring case, with * ? and | alternatives', () => {
    expect(globMatch('CT', 'ct')).toBe(true);
    expect(globMatch('CT', 'CTX')).toBe(false);
    expect(globMatch('*t2*', 'AX T2 TSE')).toBe(true);
    expect(globMatch('t2*', 'AX T2 TSE')).toBe(false);
    expect(globMatch('?CC', 'RCC')).toBe(true);
    expect(globMatch('?CC', 'R CC')).toBe(false);
    expect(globMatch('CR|DX', 'DX')).toBe(true);
    expect(globMatch('CR|DX', 'MG')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*b*c', 'aXbYbZc')).toBe(true);
    expect(globMatch('a*b*c', 'aXbYbZ')).toBe(false);
    expect(globMatch('  chest ', 'CHEST')).toBe(true);
  });

  it('stays linear on patterns that make backtracking matchers explode', () => {
    const value = 'a'.repeat(5000);
    const pattern = `${'*a'.repeat(60)}b`;
    // No timing: the answer must come back at all (a backtracking matcher would take on
    // the order of 5000^60 steps; this one at most pattern x value).
    expect(globMatch(pattern, value)).toBe(false);
    expect(globMatch(`${'*a'.repeat(60)}`, value)).toBe(true);
  });
});

describe('protocolApplies', () => {
  const p: HangingProtocol = {
    name: 'chest',
    match: { modality: 'CT', bodyPart: 'CHEST|THORAX', studyDescription: '*thorax*' },
    rows: 1,
    cols: 1,
    viewports: [{}],
  };

  it('holds when every field given matches (series fields: any series)', () => {
    const s = { description: 'CT Thorax w/o', series: [series('SR', 'report'), series('CT', 'axial', { bodyPart: 'CHEST' })] };
    expect(protocolApplies(p, s)).toBe(true);
    expect(protocolApplies(p, { ...s, description: 'CT Abdomen' })).toBe(false);
    expect(protocolApplies(p, { ...s, series: [series('CT', 'axial', { bodyPart: 'ABDOMEN' })] })).toBe(false);
    expect(protocolApplies({ ...p, match: {} }, study())).toBe(true);
  });
});

describe('planHanging', () => {
  it('hangs a CT beside its prior: the axial series, and the prior\u2019s like it', () => {
    const current = study(series('CT', 'Scout'), series('CT', 'Body 5mm Axial'), series('CT', 'Coronal MPR'));
    const prior = study(series('CT', 'Scout'), series('CT', 'Coronal MPR'), series('CT', 'BODY 5MM AXIAL'));
    const plan = planHanging(BUILT_IN_PROTOCOLS, current, prior);
    expect(plan).toMatchObject({ protocol: 'CT current and prior', rows: 1, cols: 2 });
    expect(keys(plan)).toEqual(['current:Body 5mm Axial', 'prior:BODY 5MM AXIAL']);
  });

  it('takes the prior\u2019s series of the same modality when none has the same description', () => {
    const plan = planHanging(BUILT_IN_PROTOCOLS, study(series('CT', 'thin')), study(series('SC', 'screen'), series('CT', 'other')));
    expect(keys(plan)).toEqual(['current:thin', 'prior:other']);
  });

  it('compares a CT of one series with its prior of one series', () => {
    const plan = planHanging(BUILT_IN_PROTOCOLS, study(series('CT', 'head')), study(series('CT', 'head')));
    expect(plan).toMatchObject({ protocol: 'CT current and prior', rows: 1, cols: 2 });
    expect(keys(plan)).toEqual(['current:head', 'prior:head']);
  });

  it('falls back to the default without a prior', () => {
    const plan = planHanging(BUILT_IN_PROTOCOLS, study(series('CT', 'thin'), series('CT', 'thick'), series('CT', 'cor')));
    expect(plan.protocol).toBeUndefined();
    expect([plan.rows, plan.cols]).toEqual([2, 2]);
    expect(keys(plan)).toEqual(['current:thin', 'current:thick', 'current:cor', undefined]);
  });

  it('lays an MR out 2x2 by sequence, T2 not taking the FLAIR', () => {
    const mr = study(series('MR', 'DWI b1000'), series('MR', 'AX T2 FLAIR'), series('MR', 'SAG T1'), series('MR', 'AX T2 TSE'), series('MR', 'localizer'));
    const plan = planHanging(BUILT_IN_PROTOCOLS, mr);
    expect(plan).toMatchObject({ protocol: 'MR by sequence', rows: 2, cols: 2 });
    expect(keys(plan)).toEqual(['current:SAG T1', 'current:AX T2 TSE', 'current:AX T2 FLAIR', 'current:DWI b1000']);
  });

  it('fills a sequence the MR lacks with the next series not shown, and skips the protocol when no sequence is named', () => {
    const plan = planHanging(BUILT_IN_PROTOCOLS, study(series('MR', 'localizer'), series('MR', 'T1 post'), series('MR', 'T2')));
    expect(keys(plan)).toEqual(['current:T1 post', 'current:T2', 'current:localizer', undefined]);
    const plain = planHanging(BUILT_IN_PROTOCOLS, study(series('MR', 'phantom'), series('MR', 'localizer')));
    expect(plain.protocol).toBeUndefined();
    expect([plain.rows, plain.cols]).toEqual([1, 2]);
    // One series named by the protocol is still one series: shown alone, not in a 2x2.
    const single = planHanging(BUILT_IN_PROTOCOLS, study(series('MR', 'T1')));
    expect(single.protocol).toBeUndefined();
    expect([single.rows, single.cols]).toEqual([1, 1]);
  });

  it('puts the MG views in their places', () => {
    const mg = study(series('MG', 'L MLO'), series('MG', 'R MLO'), series('MG', 'L CC'), series('MG', 'R CC'));
    expect(keys(planHanging(BUILT_IN_PROTOCOLS, mg))).toEqual(['current:R CC', 'current:L CC', 'current:R MLO', 'current:L MLO']);
  });

  it('tries the administrators\u2019 protocols first', () => {
    const mine: HangingProtocol = {
      name: 'CT thick over thin',
      match: { modality: 'CT' },
      rows: 2,
      cols: 1,
      viewports: [{ series: { description: 'thick' } }, { series: { description: 'thin' } }],
    };
    const plan = planHanging([mine, ...BUILT_IN_PROTOCOLS], study(series('CT', 'thin'), series('CT', 'thick')), study(series('CT', 'thin')));
    expect(plan).toMatchObject({ protocol: 'CT thick over thin', rows: 2, cols: 1 });
    expect(keys(plan)).toEqual(['current:thick', 'current:thin']);
  });
});

describe('choosePrior', () => {
  const current: StudyIdentity = { studyUid: '1.9', patientId: 'P1', issuer: 'HOSP', date: '20260310' };
  const answer = (uid: string, patientId: string, issuer: string, date: string, time = ''): DicomJson => ({
    '0020000D': { vr: 'UI', Value: [uid] },
    '00100020': { vr: 'LO', Value: [patientId] },
    ...(issuer ? { '00100021': { vr: 'LO', Value: [issuer] } } : {}),
    '00080020': { vr: 'DA', Value: [date] },
    ...(time ? { '00080030': { vr: 'TM', Value: [time] } } : {}),
  });

  it('takes the newest study of an earlier date of the same patient and issuer', () => {
    const found = [
      answer('1.1', 'P1', 'HOSP', '20240101'),
      answer('1.2', 'P1', 'HOSP', '20250601', '080000'),
      answer('1.3', 'P1', 'HOSP', '20250601', '170000'),
      answer('1.4', 'P1', 'OTHER', '20260101'),
      answer('1.5', 'P1*', 'HOSP', '20260102'),
      answer('1.6', 'P1', 'HOSP', '20260310'),
      answer('1.9', 'P1', 'HOSP', '20200101'),
      answer('1.7', 'P1', 'HOSP', ''),
    ];
    expect(choosePrior(current, found)?.['0020000D'].Value).toEqual(['1.3']);
    expect(choosePrior({ ...current, issuer: '' }, found)).toBeUndefined();
    expect(choosePrior({ ...current, date: '' }, found)).toBeUndefined();
  });

  it('is searched for the main modality only when a protocol that applies asks for a prior', () => {
    // Asked early (early.ts) and again by the viewer: both ask the same search.
    expect(priorModality(BUILT_IN_PROTOCOLS, study(series('CT', 'axial'), series('CT', 'cor'), series('SR', 'report')))).toBe('CT');
    expect(priorModality(BUILT_IN_PROTOCOLS, study(series('MR', 'T1'), series('MR', 'T2')))).toBeUndefined();
    expect(priorModality([], study(series('CT', 'axial')))).toBeUndefined();
  });

  it('ends a date range the day before, across months and years', () => {
    expect(dayBefore('20260301')).toBe('20260228');
    expect(dayBefore('20240301')).toBe('20240229');
    expect(dayBefore('20260101')).toBe('20251231');
  });
});

describe('nearestSliceByPosition', () => {
  const axial: Vec3 = [0, 0, 1];
  const at = (z: number, normal: Vec3 = axial): SlicePlane => ({ position: [-100, -100, z], normal });
  const prior = [0, 2.5, 5, 7.5, 10].map((z) => at(z + 3)); // 3, 5.5, 8, 10.5, 13

  it('finds the target slice nearest along the normal, whatever the spacing and offset', () => {
    expect(nearestSliceByPosition(at(0), prior)).toBe(0);
    expect(nearestSliceByPosition(at(5), prior)).toBe(1);
    expect(nearestSliceByPosition(at(7.1), prior)).toBe(2);
    expect(nearestSliceByPosition(at(12.5), prior)).toBe(4);
    expect(nearestSliceByPosition(at(99), prior)).toBe(4);
    // In-plane position does not count: only the distance along the normal.
    expect(nearestSliceByPosition({ position: [50, 20, 10.4], normal: axial }, prior)).toBe(3);
  });

  it('works on a stack ordered the other way and refuses planes that are not parallel', () => {
    expect(nearestSliceByPosition(at(8.2), [...prior].reverse())).toBe(2);
    expect(nearestSliceByPosition(at(5, [0, 1, 0]), prior)).toBeUndefined();
    expect(nearestSliceByPosition(at(5), [at(1), undefined])).toBeUndefined();
    expect(parallel([0, 0, 1], [0, 0, -1])).toBe(true);
    expect(parallel([0, 0, 1], [0, Math.sin(0.3), Math.cos(0.3)])).toBe(false);
  });
});
