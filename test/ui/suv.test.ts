/**
 * PET SUV (body weight) from DICOM JSON headers, against values computed by hand:
 * SUVbw = C (Bq/ml) x weight (g) / (dose (Bq) x 2^(-t / half-life)), t from the injection
 * to the series start. And a named reason for each thing that makes an SUV impossible.
 */
import { describe, expect, it } from 'vitest';
import type { DicomJson } from '../../ui/src/dicom-json.js';
import { probeSuvLine, roiSuvLine, suvFactors } from '../../ui/src/viewer/suv.js';

const v = (vr: string, ...Value: unknown[]) => ({ vr, Value });

/** An F-18 PET instance: 370 MBq at 10:00:00, series at 11:49:46.2 (one half-life later), 74 kg. */
function pet(over: Record<string, unknown> = {}, drugOver: Record<string, unknown> = {}): DicomJson {
  const drug: Record<string, unknown> = {
    '00181072': v('TM', '100000'),
    '00181074': v('DS', 370e6),
    '00181075': v('DS', 6586.2),
    ...drugOver,
  };
  return {
    '00080060': v('CS', 'PT'),
    '00080021': v('DA', '20260102'),
    '00080031': v('TM', '114946.2'),
    '00080022': v('DA', '20260102'),
    '00080032': v('TM', '114946.2'),
    '00101030': v('DS', 74),
    '00280051': v('CS', 'ATTN', 'DECY'),
    '00540016': { vr: 'SQ', Value: [drug] },
    '00541001': v('CS', 'BQML'),
    '00541102': v('CS', 'START'),
    ...over,
  };
}

describe('suvFactors', () => {
  it('decays the dose to the series start: one half-life, 185 MBq left, 74 kg: 6250 Bq/ml is SUV 2.50', () => {
    const [f] = suvFactors([pet()]);
    // 74000 g / 185e6 Bq = 4e-4 g/Bq.
    expect('factor' in f && f.factor).toBeCloseTo(4e-4, 12);
    expect(probeSuvLine(6250, f)).toBe('SUV 2.50');
    expect(roiSuvLine({ max: 10000, mean: 6250 }, f)).toBe('SUVmax 4.00 SUVmean 2.50');
  });

  it('takes the injection date and time from RadiopharmaceuticalStartDateTime when given', () => {
    // Injected the day before at 23:00:00, series at 00:49:46.2: 6586.2 s later, one half-life.
    const inst = pet(
      { '00080021': v('DA', '20260103'), '00080031': v('TM', '004946.2'), '00080022': v('DA', '20260103'), '00080032': v('TM', '004946.2') },
      {
        '00181072': v('TM', '230000'),
        '00181078': v('DT', '20260102230000'),
      },
    );
    const [f] = suvFactors([inst]);
    expect('factor' in f && f.factor).toBeCloseTo(4e-4, 12);
  });

  it('uses the earliest acquisition when the series time comes after it', () => {
    // Series time 12:30 (after the reconstruction), acquisitions from 11:49:46.2: one half-life.
    const a = pet({ '00080031': v('TM', '123000') });
    const b = pet({ '00080031': v('TM', '123000'), '00080032': v('TM', '115500') });
    const fs = suvFactors([b, a]);
    for (const f of fs) expect('factor' in f && f.factor).toBeCloseTo(4e-4, 12);
  });

  it('reads Philips CNTS through the private SUV scale factor', () => {
    const inst = pet({ '00541001': v('CS', 'CNTS'), '70530010': v('LO', 'Philips PET Private Group'), '70531000': v('DS', 0.000123) });
    const [f] = suvFactors([inst]);
    expect('factor' in f && f.factor).toBe(0.000123);
  });

  it('names what is missing or not supported', () => {
    const reason = (inst: DicomJson) => {
      const [f] = suvFactors([inst]);
      return 'unavailable' in f ? f.unavailable : `factor ${f.factor}`;
    };
    expect(reason(pet({ '00101030': undefined }))).toBe('no Patient Weight (0010,1030)');
    expect(reason(pet({ '00101030': v('DS', 0) }))).toBe('Patient Weight (0010,1030) is 0');
    expect(reason(pet({ '00541001': v('CS', 'CNTS') }))).toBe('Units CNTS without Philips SUV or activity scale factor (7053)');
    expect(reason(pet({ '00541001': v('CS', 'PROPCNTS') }))).toBe('Units PROPCNTS: SUV needs BQML (or Philips CNTS)');
    expect(reason(pet({ '00541001': undefined }))).toBe('no Units (0054,1001)');
    expect(reason(pet({ '00541102': v('CS', 'ADMIN') }))).toBe('Decay Correction (0054,1102) ADMIN: only START is supported');
    expect(reason(pet({ '00280051': v('CS', 'ATTN') }))).toBe('Corrected Image (0028,0051) ATTN: needs ATTN and DECY');
    expect(reason(pet({ '00540016': undefined }))).toBe('no Radiopharmaceutical Information Sequence (0054,0016)');
    expect(reason(pet({}, { '00181074': undefined }))).toBe('no Radionuclide Total Dose (0018,1074)');
    expect(reason(pet({}, { '00181075': undefined }))).toBe('no Radionuclide Half Life (0018,1075)');
    expect(reason(pet({}, { '00181072': undefined }))).toBe('no Radiopharmaceutical Start Time (0018,1072) or DateTime (0018,1078)');
    expect(reason(pet({ '00080032': undefined }))).toBe('no Acquisition Time (0008,0032)');
    // Injected after the scan started.
    expect(reason(pet({}, { '00181072': v('TM', '120000') }))).toBe('Decay time cannot be less than zero');
    expect(probeSuvLine(6250, { unavailable: 'no Patient Weight (0010,1030)' })).toBe('SUV n/a: no Patient Weight (0010,1030)');
  });
});
