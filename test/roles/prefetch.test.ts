import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../src/config/defaults.js';
import { ConfigValidationError, setPrefetch } from '../../src/config/index.js';
import { choosePriors } from '../../src/roles/prefetch.js';

const study = (uid: string, date: string, modalities = ['CT'], time = '') => ({ uid, date, time, modalities });

describe('which priors are prefetched', () => {
  it('takes the most recent other studies, newest first, by date then time', () => {
    const found = [study('1', '20200101'), study('2', '20230101'), study('now', '20261206'), study('3', '20230101', ['CT'], '120000'), study('4', '20210101')];
    expect(choosePriors(found, 'now', { priors: 3 }).map((s) => s.uid)).toEqual(['3', '2', '4']);
    expect(choosePriors(found, 'now', {}).length).toBe(3);
    expect(choosePriors(found, undefined, { priors: 1 }).map((s) => s.uid)).toEqual(['now']);
  });

  it('keeps only studies with one of the wanted modalities, and never one without a UID', () => {
    const found = [study('mr', '20240101', ['MR', 'SR']), study('ct', '20230101'), study('', '20250101', ['MR']), study('pt', '20220101', ['PT', 'CT'])];
    expect(choosePriors(found, undefined, { priors: 5, modalities: ['MR', 'PT'] }).map((s) => s.uid)).toEqual(['mr', 'pt']);
  });
});

describe('the prefetch settings', () => {
  it('are changed field by field, a null goes back to the default, and bad values are named', () => {
    let reg = setPrefetch(defaultRegistry(), { enabled: true, source: 'ORTHANC', priors: 2, modalities: ['CT'] });
    expect(reg.prefetch).toEqual({ enabled: true, source: 'ORTHANC', priors: 2, modalities: ['CT'] });
    reg = setPrefetch(reg, { priors: null, onArrival: false });
    expect(reg.prefetch).toEqual({ enabled: true, source: 'ORTHANC', modalities: ['CT'], onArrival: false });
    expect(() => setPrefetch(reg, { priors: 51 })).toThrow(ConfigValidationError);
    expect(() => setPrefetch(reg, { modalities: ['ct'] })).toThrow(/modality is 1-16 upper-case/);
    expect(() => setPrefetch(reg, { bogus: 1 })).toThrow(/unknown field "bogus"/);
  });
});
