import { describe, expect, it } from 'vitest';
import { getNumber, getString, getStrings } from '../../src/dicom/dataset.js';
import { DatasetHeaderReader, readDataset } from '../../src/dicom/dataset-reader.js';
import { DatasetLimitError, DicomParseError } from '../../src/dicom/errors.js';
import { readMetaHeader, readPart10 } from '../../src/dicom/part10.js';
import { Tags } from '../../src/dicom/tag.js';
import { RICH_DUMP } from './fixtures.js';
import { convert, dcmdump, dumpToFile, readBytes, XFER_UIDS, type Xfer } from './helpers/dcmtk.js';
import { normaliseDump, ourLines, roundFloats } from './helpers/compare.js';

const XFERS: Xfer[] = ['+te', '+ti', '+tb', '+td'];

function readInChunks(bytes: Uint8Array, ts: string, chunk: number, opts: { stopAtPixelData?: boolean; maxValueLength?: number } = {}) {
  const r = new DatasetHeaderReader({ transferSyntaxUid: ts, stopAtPixelData: false, ...opts });
  for (let i = 0; i < bytes.length && !r.done; i += chunk) r.push(bytes.subarray(i, i + chunk));
  r.end();
  return r;
}

describe('DatasetHeaderReader against dcmdump', () => {
  for (const xfer of XFERS) {
    for (const lengths of ['defined', 'undefined'] as const) {
      it(`reads a DCMTK file (${xfer}, ${lengths} lengths) like dcmdump does`, () => {
        const path = dumpToFile(RICH_DUMP, xfer, lengths === 'undefined' ? ['-e'] : []);
        const bytes = readBytes(path);
        const { meta, dataSetOffset } = readMetaHeader(bytes);
        expect(meta.transferSyntaxUid).toBe(XFER_UIDS[xfer]);
        const ds = readDataset(bytes.subarray(dataSetOffset), meta.transferSyntaxUid);
        const expected = normaliseDump(dcmdump(path)).filter((l) => l.tag !== '00080005');
        const ours = ourLines(ds).filter((l) => l.tag !== '00080005');
        expect(roundFloats(ours)).toEqual(roundFloats(expected));
        expect(getString(ds, Tags.PatientName)).toBe('Müller^Hans^^Dr.');
        expect(getString(ds, 0x00081030)).toBe('Thorax étude');
        expect(getStrings(ds, 0x00080008)).toEqual(['ORIGINAL', 'PRIMARY', 'AXIAL']);
        expect(getString(ds, 0x00104000)).toBe('line one\\ not a separator');
        expect(getNumber(ds, 0x00280011)).toBe(4);
        expect(getNumber(ds, 0x00280106)).toBe(-5);
        expect(getNumber(ds, 0x00201052 + 0x80000)).toBe(-1024); // (0028,1052)
        expect(getNumber(ds, 0x00180050)).toBe(1.25);
        const seq = ds.get(0x00400275)!;
        expect(seq.items).toHaveLength(2);
        expect(getString(seq.items![0].get(0x00400008)!.items![0], 0x00080104)).toBe('Nested meaning');
        expect(seq.items![0].characterSets()).toEqual(['ISO_IR 100']);
      });
    }
  }

  it('is chunk-size independent (1 byte, 7 bytes, whole) in every syntax', () => {
    for (const xfer of XFERS) {
      const bytes = readBytes(dumpToFile(RICH_DUMP, xfer, ['-e']));
      const { meta, dataSetOffset } = readMetaHeader(bytes);
      const body = bytes.subarray(dataSetOffset);
      const whole = readInChunks(body, meta.transferSyntaxUid, body.length).dataset;
      for (const n of [1, 7, 64]) {
        expect(readInChunks(body, meta.transferSyntaxUid, n).dataset).toEqual(whole);
      }
    }
  });
});

describe('stopping at pixel data and skipping bulk', () => {
  it('stops at top-level Pixel Data; done; the rest is not parsed', () => {
    for (const xfer of XFERS) {
      const bytes = readBytes(dumpToFile(RICH_DUMP, xfer));
      const { meta, dataSetOffset } = readMetaHeader(bytes);
      const r = new DatasetHeaderReader({ transferSyntaxUid: meta.transferSyntaxUid });
      const body = bytes.subarray(dataSetOffset);
      let pushed = 0;
      for (let i = 0; i < body.length && !r.done; i += 3) {
        r.push(body.subarray(i, i + 3));
        pushed = i + 3;
      }
      expect(r.done).toBe(true);
      r.end();
      if (xfer !== '+td') expect(pushed).toBeLessThan(body.length);
      const pd = r.dataset.get(Tags.PixelData)!;
      expect(pd.skipped).toBe(true);
      expect(pd.value).toBeUndefined();
      expect(getString(r.dataset, Tags.PatientID)).toBe('PID-001');
    }
  });

  it('skips long bulk values without keeping them and keeps parsing', () => {
    const words = Array.from({ length: 40000 }, (_, i) => (i & 0xffff).toString(16).padStart(4, '0')).join('\\');
    const dump = Buffer.from(
      `(0010,0020) LO [X]\n(0042,0011) OB ${Array.from({ length: 70000 }, () => '7f').join('\\')}\n(0054,0081) US 3\n(7fe0,0010) OW ${words}\n`,
      'latin1',
    );
    for (const xfer of XFERS) {
      const bytes = readBytes(dumpToFile(dump, xfer, ['+l', '1000000']));
      const { meta, dataSetOffset } = readMetaHeader(bytes);
      const r = readInChunks(bytes.subarray(dataSetOffset), meta.transferSyntaxUid, 4096, { maxValueLength: 65536 });
      const doc = r.dataset.get(0x00420011)!;
      expect(doc.skipped).toBe(true);
      expect(doc.length).toBe(70000);
      expect(getNumber(r.dataset, 0x00540081)).toBe(3);
      expect(r.dataset.get(Tags.PixelData)!.skipped).toBe(true);
      expect(r.bytesSkipped).toBe(70000 + 80000);
    }
  });
});

describe('encapsulated pixel data', () => {
  it('reads fragments and the basic offset table of RLE and JPEG-LS files', () => {
    const pixels = Array.from({ length: 64 }, (_, i) => ((i * 97) % 4096).toString(16).padStart(4, '0')).join('\\');
    const dump = Buffer.from(
      [
        '(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]',
        '(0008,0018) UI [1.2.3.9]',
        '(0010,0010) PN [Enc^Test]',
        '(0028,0002) US 1',
        '(0028,0004) CS [MONOCHROME2]',
        '(0028,0008) IS [2]',
        '(0028,0010) US 4',
        '(0028,0011) US 8',
        '(0028,0100) US 16',
        '(0028,0101) US 12',
        '(0028,0102) US 11',
        '(0028,0103) US 0',
        `(7fe0,0010) OW ${pixels}`,
        '',
      ].join('\n'),
      'latin1',
    );
    const src = dumpToFile(dump, '+te');
    for (const [tool, args] of [
      ['dcmcrle', []],
      ['dcmcjpls', []],
      ['dcmcjpeg', ['+e1']],
    ] as const) {
      const path = convert(tool, src, [...args]);
      const { meta, dataset } = readPart10(readBytes(path));
      const pd = dataset.get(Tags.PixelData)!;
      expect(pd.fragments!.length).toBeGreaterThanOrEqual(2);
      const expected = normaliseDump(dcmdump(path)).filter((l) => l.tag !== '00080005');
      expect(ourLines(dataset).map((l) => [l.tag, l.vr, l.tag === '7FE00010' ? l.value : ''])).toEqual(
        expected.map((l) => [l.tag, l.vr, l.tag === '7FE00010' ? l.value : '']),
      );
      expect(meta.transferSyntaxUid).toMatch(/^1\.2\.840\.10008\.1\.2\.(5|4\.\d+)$/);
      expect(getString(dataset, Tags.PatientName)).toBe('Enc^Test');
    }
  });
});

describe('malformed input', () => {
  const good = (() => {
    const bytes = readBytes(dumpToFile(RICH_DUMP, '+te', ['-e']));
    return bytes.subarray(readMetaHeader(bytes).dataSetOffset);
  })();

  it('throws DicomParseError("truncated ...") for every truncation point', () => {
    let truncated = 0;
    for (let n = 1; n < good.length; n++) {
      try {
        readDataset(good.subarray(0, n), XFER_UIDS['+te']);
      } catch (e) {
        expect(e).toBeInstanceOf(DicomParseError);
        expect((e as Error).message).toMatch(/truncated/);
        truncated++;
      }
    }
    expect(truncated).toBeGreaterThan(good.length * 0.9);
  });

  it('throws only DicomParseError on a seeded fuzz of mutated files (all syntaxes)', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    let errors = 0,
      cases = 0;
    for (const xfer of XFERS) {
      const bytes = readBytes(dumpToFile(RICH_DUMP, xfer, rnd() < 0.5 ? ['-e'] : []));
      const body = bytes.subarray(readMetaHeader(bytes).dataSetOffset);
      for (let c = 0; c < 1000; c++) {
        const m = Buffer.from(body);
        const k = 1 + Math.floor(rnd() * 4);
        for (let j = 0; j < k; j++) {
          const pos = Math.floor(rnd() * m.length);
          m[pos] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
        }
        const input = rnd() < 0.2 ? m.subarray(0, Math.floor(rnd() * m.length)) : m;
        cases++;
        try {
          const r = readInChunks(input, XFER_UIDS[xfer], 1 + Math.floor(rnd() * 50), { maxValueLength: 1024 });
          void r.dataset;
        } catch (e) {
          if (!(e instanceof DicomParseError)) throw e;
          errors++;
        }
      }
    }
    expect(cases).toBe(4000);
    expect(errors).toBeGreaterThan(100);
  });

  it('rejects a file without DICM', () => {
    expect(() => readMetaHeader(new Uint8Array(200))).toThrow(DicomParseError);
    expect(() => readMetaHeader(new Uint8Array(10))).toThrow(DicomParseError);
  });
});

describe('the cap on retained header bytes (issue 15 item 3)', () => {
  const EXPLICIT = XFER_UIDS['+te'];
  /** Explicit VR LE elements (0009,xxyy) UC of `bytes` bytes each, after a private creator, then a small Pixel Data. */
  function privateUcHeader(count: number, bytes: number): Buffer {
    const parts: Buffer[] = [];
    const el = (tag: number, vr: string, value: Buffer, long: boolean): void => {
      const h = Buffer.alloc(long ? 12 : 8);
      h.writeUInt16LE(tag >>> 16, 0);
      h.writeUInt16LE(tag & 0xffff, 2);
      h.write(vr, 4, 'latin1');
      if (long) h.writeUInt32LE(value.length, 8);
      else h.writeUInt16LE(value.length, 6);
      parts.push(h, value);
    };
    for (let b = 0; b < Math.ceil(count / 256); b++) el(0x00090010 + b, 'LO', Buffer.from('CAP TEST'), false);
    const value = Buffer.alloc(bytes, 0x41);
    for (let i = 0; i < count; i++) el((0x0009 << 16) | ((0x10 + (i >> 8)) << 8) | (i & 0xff), 'UC', value, true);
    el(0x00100020, 'LO', Buffer.from('PID1'), false);
    el(0x7fe00010, 'OB', Buffer.alloc(16), true);
    return Buffer.concat(parts);
  }

  it('stops keeping values once the limit would be passed: DatasetLimitError, values dropped at once', () => {
    const bytes = privateUcHeader(50, 100_000); // 5 MB of header values
    const r = new DatasetHeaderReader({ transferSyntaxUid: EXPLICIT, maxRetainedBytes: 1_000_000 });
    let thrown: unknown;
    let pushedWhenThrown = 0;
    for (let i = 0; i < bytes.length && !thrown; i += 8192) {
      try {
        r.push(bytes.subarray(i, i + 8192));
      } catch (e) {
        thrown = e;
        pushedWhenThrown = i + 8192;
      }
    }
    expect(thrown).toBeInstanceOf(DatasetLimitError);
    expect((thrown as Error).message).toMatch(/1000000 bytes/);
    expect((thrown as DatasetLimitError).limit).toBe(1_000_000);
    // Thrown at the element that would pass the limit, not at the end of the header.
    expect(pushedWhenThrown).toBeLessThan(1_200_000);
    expect(r.bytesRetained).toBe(0); // the kept values are dropped with the failure
    expect(r.dataset.size).toBe(0);
    expect(() => r.push(new Uint8Array(4))).toThrow(DatasetLimitError); // stays failed
  });

  it('counts a cost per element, so a flood of empty elements is capped too', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(0x0009, 0);
      h.writeUInt16LE(0x1000 + (i % 0xefff), 2);
      h.write('LO', 4, 'latin1');
      parts.push(h);
    }
    const r = new DatasetHeaderReader({ transferSyntaxUid: EXPLICIT, stopAtPixelData: false, maxRetainedBytes: 1_000_000 });
    expect(() => r.push(Buffer.concat(parts))).toThrow(DatasetLimitError);
  });

  it('reads a header below the limit as before, skipped bulk values not counted', () => {
    const r = new DatasetHeaderReader({ transferSyntaxUid: EXPLICIT, maxRetainedBytes: 1_000_000 });
    r.push(privateUcHeader(5, 100_000));
    expect(r.done).toBe(true);
    expect(getString(r.dataset, Tags.PatientID)).toBe('PID1');
    expect(r.bytesRetained).toBeGreaterThan(500_000);
    expect(r.bytesRetained).toBeLessThan(1_000_000);
  });
});
