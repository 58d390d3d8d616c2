/**
 * Reading stored files for retrieval (datasetIn): the data set bytes exactly as stored,
 * read buffers reused only when the caller says nothing reads the previous bytes any more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Archive } from '../../src/archive/archive.js';
import type { InstanceSummary } from '../../src/archive/index-types.js';
import { datasetIn } from '../../src/archive/retrieval.js';
import { makeTempDirSync, removeTempDirs } from '../support/tmp.js';

const TS = '1.2.840.10008.1.2.1';
const dir = makeTempDirSync('pacs-retrieve-read-');
afterAll(() => removeTempDirs());

/** A stored file as ingest writes it: preamble, DICM, (0002,0000) UL first, then the data set. */
function storedFile(name: string, dataset: Buffer): InstanceSummary {
  const meta = Buffer.from('meta-elements!'); // datasetStart only needs the group length
  const head = Buffer.alloc(144);
  head.write('DICM', 128, 'latin1');
  head.writeUInt32LE(0x00000002, 132);
  head.write('UL', 136, 'latin1');
  head.writeUInt16LE(4, 138);
  head.writeUInt32LE(meta.length, 140);
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([head, meta, dataset]));
  return {
    sopInstanceUid: name,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    seriesInstanceUid: '1',
    studyInstanceUid: '1',
    instanceNumber: null,
    transferSyntaxUid: TS,
    fileKey: file,
    fileSize: fs.statSync(file).size,
    receivedAt: '',
    callingAeTitle: 'X',
    calledAeTitle: null,
  };
}

const archive = { blobs: { path: (key: string) => key, open: (key: string) => fs.createReadStream(key) } } as unknown as Archive;
const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

describe('datasetIn, stored syntax, file read whole', () => {
  it('reuses the read buffer once the bytes are released, and the next file reads exactly its own bytes', async () => {
    const a = storedFile('a', bytes(5000, 1));
    const b = storedFile('b', bytes(3000, 2)); // shorter: bytes of a left in the buffer must not show
    const ra = await datasetIn(archive, a, TS, { bytesReleased: () => true });
    const bufA = (ra.data as Buffer).buffer;
    expect(ra.data).toEqual(bytes(5000, 1));
    ra.close();
    const rb = await datasetIn(archive, b, TS, { bytesReleased: () => true });
    expect((rb.data as Buffer).buffer).toBe(bufA);
    expect(rb.data).toEqual(bytes(3000, 2));
    rb.close();
  });

  it('does not reuse a buffer whose bytes may still be read, nor one closed twice', async () => {
    const a = storedFile('c', bytes(4000, 3));
    let released = false;
    const ra = await datasetIn(archive, a, TS, { bytesReleased: () => released });
    ra.close(); // still being written: must not go back
    released = true;
    ra.close(); // a second close changes nothing
    const rb = await datasetIn(archive, a, TS, { bytesReleased: () => true });
    const rc = await datasetIn(archive, a, TS, { bytesReleased: () => true });
    expect((rb.data as Buffer).buffer).not.toBe((ra.data as Buffer).buffer);
    expect((rc.data as Buffer).buffer).not.toBe((ra.data as Buffer).buffer);
    expect((rc.data as Buffer).buffer).not.toBe((rb.data as Buffer).buffer);
    expect(ra.data).toEqual(bytes(4000, 3));
    rb.close();
    rc.close();
  });

  it('pads an odd data set with one NUL, in a reused buffer too', async () => {
    const odd = storedFile('odd', bytes(2999, 4));
    for (let i = 0; i < 2; i++) {
      const r = await datasetIn(archive, odd, TS, { bytesReleased: () => true });
      expect(r.data).toEqual(Buffer.concat([bytes(2999, 4), Buffer.alloc(1)]));
      r.close();
    }
  });

  it('without bytesReleased, each file gets a buffer of its own size', async () => {
    const a = storedFile('d', bytes(1000, 5));
    const r = await datasetIn(archive, a, TS);
    expect((r.data as Buffer).buffer.byteLength).toBe(a.fileSize + 1);
    expect(r.data).toEqual(bytes(1000, 5));
    r.close();
  });

  it('a missing file fails; the next read is unaffected', async () => {
    const gone = { ...storedFile('e', bytes(100, 6)), fileKey: path.join(dir, 'missing') };
    await expect(datasetIn(archive, gone, TS, { bytesReleased: () => true })).rejects.toThrow(/ENOENT/);
    const ok = await datasetIn(archive, storedFile('f', bytes(100, 7)), TS, { bytesReleased: () => true });
    expect(ok.data).toEqual(bytes(100, 7));
    ok.close();
  });
});
