// The C-FIND response encoder writes the response identifier straight into one buffer;
// it must give exactly the bytes of the general path (build a Dataset, then write it).
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dicom/dataset.js';
import { putNumbers, putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import type { MatchTarget } from '../../src/dicom/matching.js';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from '../../src/dicom/transfer-syntax.js';
import { encodeIdentifier, parseIdentifier, responseEncoder, responseIdentifier } from '../../src/services/qr-identifier.js';

const RETURN_KEYS: [number, 'UI' | 'PN' | 'LO' | 'DA' | 'TM' | 'SH' | 'CS' | 'AE' | 'IS' | 'DS' | 'US'][] = [
  [0x0020000d, 'UI'],
  [0x00100010, 'PN'],
  [0x00100020, 'LO'],
  [0x00080020, 'DA'],
  [0x00080030, 'TM'],
  [0x00080050, 'SH'],
  [0x00081030, 'LO'],
  [0x00080061, 'CS'],
  [0x00080054, 'AE'],
  [0x00201208, 'IS'],
  [0x00181050, 'DS'],
  [0x00280010, 'US'],
  [0x00100021, 'LO'],
];

const VALUES: Record<number, string[]> = {
  0x0020000d: ['1.2.826.0.1.3680043.10.1'],
  0x00100010: ['MÜLLER^Hans'],
  0x00100020: ['PID1'],
  0x00080020: ['20220301'],
  0x00080030: ['101500'],
  0x00080050: [],
  0x00081030: ['Study 7'],
  0x00080061: ['CT', 'MR'],
  0x00201208: ['123'],
  0x00181050: ['1.5'],
  0x00280010: ['512', '7'],
  0x00100021: ['日本'],
  0x00280011: ['x'],
};

function identifier(charset: string | undefined, numericKey: boolean): Dataset {
  const ds = new Dataset();
  putString(ds, 0x00080052, 'CS', 'STUDY');
  if (charset) putString(ds, 0x00080005, 'CS', charset);
  for (const [tag, vr] of RETURN_KEYS) putString(ds, tag, vr, '');
  if (numericKey) putNumbers(ds, 0x00280011, 'US', [3]);
  return ds;
}

/** Targets that leave out, replace or keep values, by the bits of `mask`. */
function target(mask: number): MatchTarget {
  return {
    values: (tag) => {
      if (mask & 1 && tag % 3 === 0) return undefined;
      if (mask & 2 && tag === 0x00100010) return ['SMITH^JOHN'];
      if (mask & 4 && tag === 0x00100021) return ['ascii'];
      if (mask & 8 && tag === 0x00280010) return [''];
      return VALUES[tag];
    },
    items: () => undefined,
  };
}

describe('responseEncoder', () => {
  for (const ts of [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]) {
    it(`gives the bytes of the general path in ${ts}`, () => {
      for (const charset of [undefined, 'ISO_IR 100']) {
        for (const numericKey of [false, true]) {
          // The request's own syntax does not matter here: parse it from explicit VR LE.
          const p = parseIdentifier(writeDataset(identifier(charset, numericKey), EXPLICIT_VR_LITTLE_ENDIAN), EXPLICIT_VR_LITTLE_ENDIAN, 'STUDY');
          const encode = responseEncoder(p, 'PACS', ts);
          for (let mask = 0; mask < 16; mask++) {
            expect(encode(target(mask))).toEqual(encodeIdentifier(responseIdentifier(p, target(mask), 'PACS'), ts));
          }
        }
      }
    });
  }

  it('takes the general path for sequence keys', () => {
    const ds = identifier(undefined, false);
    const item = new Dataset(ds);
    putString(item, 0x00081150, 'UI', '');
    ds.put({ tag: 0x00081110, vr: 'SQ', length: 0, items: [item] });
    const p = parseIdentifier(writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN), EXPLICIT_VR_LITTLE_ENDIAN, 'STUDY');
    const t: MatchTarget = {
      values: (tag) => target(0).values(tag),
      items: (tag) => (tag === 0x00081110 ? [{ values: () => ['1.2.3'], items: () => undefined }] : undefined),
    };
    expect(responseEncoder(p, 'PACS', EXPLICIT_VR_LITTLE_ENDIAN)(t)).toEqual(encodeIdentifier(responseIdentifier(p, t, 'PACS'), EXPLICIT_VR_LITTLE_ENDIAN));
  });
});
