// The preview drawn before Cornerstone has loaded (ui/src/viewer/preview-image.ts): the
// grey levels Cornerstone's stack viewport gives the same frame (the header's first window
// as the loader reads it, else the image's range after the modality LUT; MONOCHROME1
// inverted; sign extension from Bits Stored), the fitted rectangle, and no preview for
// what the viewer would show otherwise.
import { describe, expect, it } from 'vitest';
import type { DicomJson } from '../../ui/src/dicom-json.js';
import { fitRect, previewableHeader, previewImage, voiRange } from '../../ui/src/viewer/preview-image.js';

const RAW = 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1';

function header(o: Record<string, unknown> = {}): DicomJson {
  const el = (vr: string, v: unknown) => (v === undefined ? undefined : { vr, Value: Array.isArray(v) ? v : [v] });
  const all: Record<string, { vr: string; Value: unknown[] } | undefined> = {
    '00080060': el('CS', o.modality ?? 'CT'),
    '00280002': el('US', o.samples ?? 1),
    '00280004': el('CS', o.photometric ?? 'MONOCHROME2'),
    '00280010': el('US', o.rows ?? 1),
    '00280011': el('US', o.cols ?? 4),
    '00280100': el('US', o.bits ?? 16),
    '00280101': el('US', o.stored ?? o.bits ?? 16),
    '00280103': el('US', o.signed ? 1 : 0),
    '00281052': el('DS', o.intercept),
    '00281053': el('DS', o.slope),
    '00281050': el('DS', o.center),
    '00281051': el('DS', o.width),
    '00281056': el('CS', o.fn),
    '00280030': el('DS', o.spacing),
    ...(o.extra as object),
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as DicomJson;
}

const bytes = (values: number[], signed = false, bits: 8 | 16 = 16) =>
  new Uint8Array((bits === 8 ? Uint8Array.from(values) : signed ? Int16Array.from(values) : Uint16Array.from(values)).buffer);

describe('the preview image', () => {
  it("maps modality values through the header's first window as Cornerstone does", () => {
    // Stored 0, 1024, 2024, 3048 with intercept -1024: -1024, 0, 1000, 2024 HU; window 40/400 (and a second one ignored).
    const img = previewImage(header({ intercept: -1024, slope: 1, center: [40, 300], width: [400, 1500] }), RAW, bytes([0, 1024, 2024, 3048]))!;
    expect(img.voi).toEqual({ lower: -160, upper: 239 });
    expect([...img.grey]).toEqual([0, Math.round((160 / 399) * 255), 255, 255]);
  });

  it('takes LINEAR_EXACT as its own range', () => {
    expect(voiRange(40, 400, 'LINEAR_EXACT')).toEqual({ lower: -160, upper: 240 });
    const img = previewImage(header({ center: 100, width: 200, fn: 'LINEAR_EXACT' }), RAW, bytes([0, 100, 150, 200]))!;
    expect([...img.grey]).toEqual([0, 128, 191, 255]);
  });

  it("without a window, spans the image's range after the rescale; MONOCHROME1 inverted", () => {
    const img = previewImage(header({ slope: 2, intercept: -10 }), RAW, bytes([5, 10, 15, 55]))!;
    expect(img.voi).toEqual({ lower: 0, upper: 100 });
    expect([...img.grey]).toEqual([0, 26, 51, 255]);
    const inv = previewImage(header({ photometric: 'MONOCHROME1' }), RAW, bytes([0, 50, 100, 100]))!;
    expect([...inv.grey]).toEqual([255, 128, 0, 0]);
  });

  it('sign-extends from Bits Stored, as the loader does', () => {
    // 12 bits stored: 0x0FFF is -1, 0x0800 is -2048.
    const img = previewImage(header({ signed: true, stored: 12, center: 0, width: 4096 }), RAW, bytes([0x0fff, 0x0800, 0, 2047], true))!;
    expect(img.voi.lower).toBe(-2048);
    expect([...img.grey]).toEqual([Math.round((2047 / 4095) * 255), 0, Math.round((2048 / 4095) * 255), 255]);
  });

  it('has the extent of its pixels in mm and fits it whole, centred', () => {
    const img = previewImage(header({ rows: 2, cols: 2, spacing: [0.5, 1] }), RAW, bytes([0, 1, 2, 3]))!;
    expect([img.widthMm, img.heightMm]).toEqual([2, 1]);
    expect(fitRect(img, 400, 400)).toEqual({ x: 0, y: 100, w: 400, h: 200 });
    expect(fitRect({ widthMm: 100, heightMm: 100 }, 300, 200)).toEqual({ x: 50, y: 0, w: 200, h: 200 });
  });

  it('leaves to the viewer what it might show otherwise', () => {
    const four = bytes([0, 1, 2, 3]);
    expect(previewImage(header(), 'image/jls; transfer-syntax=1.2.840.10008.1.2.4.80', four)).toBeUndefined();
    expect(previewImage(header(), 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.2', four)).toBeUndefined();
    expect(previewImage(header(), 'application/octet-stream', four)).toBeUndefined();
    expect(previewImage(header({ photometric: 'RGB', samples: 3 }), RAW, four)).toBeUndefined();
    expect(previewImage(header({ modality: 'PT' }), RAW, four)).toBeUndefined();
    expect(previewImage(header({ fn: 'SIGMOID', center: 1, width: 2 }), RAW, four)).toBeUndefined();
    expect(previewImage(header({ extra: { '00283010': { vr: 'SQ', Value: [{}] } } }), RAW, four)).toBeUndefined();
    // A body that is not rows x columns of its samples.
    expect(previewImage(header(), RAW, bytes([0, 1, 2]))).toBeUndefined();
    expect(previewImage(header({ bits: 8 }), RAW, bytes([0, 1, 2, 3], false, 8))).toBeDefined();
  });

  it('knows from the metadata alone when no preview can come, before the frame is fetched', () => {
    const stored = (ts: string) => header({ extra: { '00083002': { vr: 'UI', Value: [ts] } } });
    expect(previewableHeader(header())).toBe(true); // no Available Transfer Syntax UID: the frame decides
    expect(previewableHeader(stored('1.2.840.10008.1.2.1'))).toBe(true);
    expect(previewableHeader(stored('1.2.840.10008.1.2'))).toBe(true);
    expect(previewableHeader(stored('1.2.840.10008.1.2.4.90'))).toBe(false); // JPEG 2000
    expect(previewableHeader(stored('1.2.840.10008.1.2.4.80'))).toBe(false); // JPEG-LS
    expect(previewableHeader(header({ modality: 'PT' }))).toBe(false);
    expect(previewableHeader(header({ photometric: 'RGB', samples: 3 }))).toBe(false);
    expect(previewableHeader(header({ fn: 'SIGMOID' }))).toBe(false);
    expect(previewableHeader(header({ rows: 0 }))).toBe(false);
    // What previewImage refuses by its header, previewableHeader refuses too.
    expect(previewImage(stored('1.2.840.10008.1.2.4.90'), RAW, bytes([0, 1, 2, 3]))).toBeUndefined();
  });
});
