/**
 * Conversion on retrieve is bounded (issue 15 item 6, transcoding): datasetIn, which
 * C-GET/C-MOVE sub-operations, WADO-RS and the router use to convert a stored instance,
 * refuses one whose stored file or decoded pixel data is over
 * limits.dataset.maxTranscodeBytes, before holding it in memory; as stored it still goes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import type { InstanceSummary } from '../../src/archive/index-types.js';
import { DEFAULT_LIMITS, type DatasetLimits } from '../../src/config/limits.js';
import { readMetaHeader } from '../../src/dicom/part10.js';
import { datasetIn } from '../../src/archive/retrieval.js';
import { TranscodeLimitError } from '../../src/archive/transcode-limit.js';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const RLE = '1.2.840.10008.1.2.5';
let archive: Archive;
let limits: DatasetLimits = DEFAULT_LIMITS.dataset;
let rle: InstanceSummary;
/** Rows x Columns x 2 bytes. */
const DECODED = 256 * 256 * 2;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-transcode-limit-');
  archive = await Archive.open({ dataDir: join(dir, 'data'), datasetLimits: () => limits });
  const s = await writeCtSeries({ dir: join(dir, 'ct'), count: 1, rows: 256, cols: 256 });
  const file = join(dir, 'rle.dcm');
  const c = await runDcmtk('dcmcrle', [s.files[0], file]);
  expect(c.code, c.stderr).toBe(0);
  const bytes = readFileSync(file);
  const { meta, dataSetOffset } = readMetaHeader(bytes);
  expect(meta.transferSyntaxUid).toBe(RLE);
  const sink = archive.beginStore({
    sopClassUid: meta.mediaStorageSopClassUid,
    sopInstanceUid: meta.mediaStorageSopInstanceUid,
    transferSyntaxUid: RLE,
    callingAeTitle: 'TEST',
  });
  await sink.write(bytes.subarray(dataSetOffset));
  await sink.end();
  rle = (await archive.index.getInstance(meta.mediaStorageSopInstanceUid))!;
  expect(rle.fileSize).toBeLessThan(DECODED);
});

afterAll(async () => {
  await archive?.close();
  await removeTempDirs();
});

describe('datasetIn converting a stored instance', () => {
  it('refuses a stored file over limits.dataset.maxTranscodeBytes before reading it', async () => {
    limits = { ...DEFAULT_LIMITS.dataset, maxTranscodeBytes: rle.fileSize - 1 };
    const err = await datasetIn(archive, rle, EXPLICIT_LE).catch((e) => e);
    expect(err).toBeInstanceOf(TranscodeLimitError);
    expect(err.message).toMatch(/^over limits\.dataset\.maxTranscodeBytes \(\d+\): the stored file of /);
  });

  it('refuses one whose decoded pixel data would be over the limit, before decoding', async () => {
    limits = { ...DEFAULT_LIMITS.dataset, maxTranscodeBytes: rle.fileSize + 100 };
    const err = await datasetIn(archive, rle, EXPLICIT_LE).catch((e) => e);
    expect(err).toBeInstanceOf(TranscodeLimitError);
    expect(err.message).toMatch(new RegExp(`the decoded pixel data of ${rle.sopInstanceUid.replace(/\./g, '\\.')} has ${DECODED} bytes`));
  });

  it('converts within the limit, and sends as stored whatever the limit', async () => {
    limits = { ...DEFAULT_LIMITS.dataset, maxTranscodeBytes: DECODED * 2 };
    const converted = await datasetIn(archive, rle, EXPLICIT_LE);
    expect((converted.data as Buffer).length).toBeGreaterThan(DECODED);
    converted.close();
    limits = { ...DEFAULT_LIMITS.dataset, maxTranscodeBytes: 1 };
    const stored = await datasetIn(archive, rle, RLE);
    expect((stored.data as Buffer).length).toBeGreaterThan(0);
    stored.close();
  });
});
