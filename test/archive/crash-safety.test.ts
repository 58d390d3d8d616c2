/**
 * Crash safety: a child process is killed (SIGKILL) at each step of a store (the protocol
 * at the top of src/archive/file-blob-store.ts) and during the start-up sweep; after
 * reopening the archive every data file has its index row, every row its file (with the
 * recorded size), and no batch is left open.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import { readMetaHeader } from '../../src/dicom/part10.js';
import { datasetBytes, listFiles, tempDir, writtenFiles } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

function runChild(dataDir: string, mode: string): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('KILLME')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== null && code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve({ signal, out });
    });
  });
}

/** Every final file has its row, every row its file (with the recorded size). */
async function checkConsistent(archive: Archive, dataDir: string): Promise<string[]> {
  const blobsDir = join(dataDir, 'blobs');
  const finals = writtenFiles(blobsDir);
  for (const key of finals) expect(await archive.index.hasFileKey(key), `row for ${key}`).toBe(true);
  const uids: string[] = [];
  for (const st of await archive.index.listStudies()) {
    for (const se of await archive.index.listSeries(st.studyInstanceUid)) {
      for (const i of await archive.index.listInstances(se.seriesInstanceUid)) {
        expect(statSync(join(blobsDir, i.fileKey)).size, `file of ${i.sopInstanceUid}`).toBe(i.fileSize);
        uids.push(i.sopInstanceUid);
      }
    }
  }
  expect(finals).toHaveLength(uids.length);
  // Unused pool files too: the sweep removes every file without a row, and every batch is sealed.
  expect(listFiles(join(blobsDir, 's'))).toHaveLength(uids.length);
  expect(listFiles(join(blobsDir, 'open'))).toEqual([]);
  return uids.sort();
}

describe('crash safety (SIGKILL)', () => {
  let dataDir: string;
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const SMALL = ['1.2.3.77.0', '1.2.3.77.1', '1.2.3.77.2'];
  const ALL = ['1.2.3.77.0', '1.2.3.77.1', '1.2.3.77.100', '1.2.3.77.2'];

  it('killed in the middle of a 200 MB store: nothing partial is visible, memory stayed bounded', async () => {
    dataDir = tempDir();
    const { signal, out } = await runChild(dataDir, 'mid-write');
    expect(signal).toBe('SIGKILL');
    const growth = Number(/rssGrowth=(-?\d+)/.exec(out)?.[1]);
    expect(growth).toBeLessThan(32 << 20); // 96 MB written through a bounded queue
    expect(writtenFiles(join(dataDir, 'blobs'))).toHaveLength(4); // the interrupted file beside the 3 stored
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 1, removedFinalFiles: 0 });
      expect(await checkConsistent(archive, dataDir)).toEqual(SMALL);
    } finally {
      await archive.close();
    }
  });

  it('killed after the answer, as the row commit starts: the sealed file is indexed at the next start', async () => {
    dataDir = tempDir();
    const { signal, out } = await runChild(dataDir, 'before-commit');
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('END-RESOLVED'); // deferred rows: answered before the commit
    expect(writtenFiles(join(dataDir, 'blobs'))).toHaveLength(4);
    expect(listFiles(join(dataDir, 'blobs', 'open'))).toHaveLength(1); // its batch is open
    const archive = await Archive.open({ dataDir });
    try {
      // Whole: its own seal proves it.
      expect(archive.recovery).toEqual({ tempFiles: 0, removedFinalFiles: 0, reindexed: 1 });
      expect(await checkConsistent(archive, dataDir)).toEqual(ALL);
    } finally {
      await archive.close();
    }
  });

  it('lost-index-tail: an acknowledged store whose row was in the unsynced WAL tail lost by a power cut is indexed again from its file', async () => {
    dataDir = tempDir();
    const { signal, out } = await runChild(dataDir, 'lost-index-tail');
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('END-RESOLVED'); // the store was acknowledged before the tail was lost
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 0, removedFinalFiles: 0, reindexed: 1 });
      expect(await checkConsistent(archive, dataDir)).toEqual(ALL);
      const row = await archive.index.getInstance('1.2.3.77.100');
      expect(row).toMatchObject({ instanceNumber: 100, callingAeTitle: 'MODALITY', seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1' });
      const file = readFileSync(join(dataDir, 'blobs', row!.fileKey));
      expect((await archive.index.fileCheck(row!.fileKey))?.fileCrc32).toBe(crc32(file.subarray(128)));
    } finally {
      await archive.close();
    }
  });

  it('killed while indexing a file again at start (its row committed, the batch still open): the next start keeps it', async () => {
    dataDir = tempDir();
    expect((await runChild(dataDir, 'lost-index-tail')).signal).toBe('SIGKILL');
    const { signal, out } = await runChild(dataDir, 'reindex-crash');
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('ROW-REINDEXED');
    expect(listFiles(join(dataDir, 'blobs', 'open'))).toHaveLength(1); // still open: swept again
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 0, removedFinalFiles: 0 }); // its row is there and matches
      expect(await checkConsistent(archive, dataDir)).toEqual(ALL);
    } finally {
      await archive.close();
    }
  });

  it('undurable-data: a committed row whose file then lost its data (as a power cut may lose what the device had not written): the sweep finds the CRC-32 wrong and drops row and file', async () => {
    dataDir = tempDir();
    const { signal } = await runChild(dataDir, 'undurable-data');
    expect(signal).toBe('SIGKILL');
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 1, removedFinalFiles: 0, droppedRows: 1 });
      expect(await archive.index.getInstance('1.2.3.77.100')).toBeUndefined();
      expect(await checkConsistent(archive, dataDir)).toEqual(SMALL);
    } finally {
      await archive.close();
    }
  });

  it('killed during the start-up sweep (row dropped, file and marker not yet gone): the next start finishes it', async () => {
    dataDir = tempDir();
    expect((await runChild(dataDir, 'undurable-data')).signal).toBe('SIGKILL');
    const { signal, out } = await runChild(dataDir, 'sweep-crash');
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('ROW-DROPPED');
    expect(listFiles(join(dataDir, 'blobs', 'open'))).toHaveLength(1); // still open: swept again
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 1, removedFinalFiles: 0 }); // now a file without a row
      expect(await archive.index.getInstance('1.2.3.77.100')).toBeUndefined();
      expect(await checkConsistent(archive, dataDir)).toEqual(SMALL);
    } finally {
      await archive.close();
    }
  });

  it('killed right after the success answer, its row not yet committed: after the restart the instance is indexed again and its bytes read back', async () => {
    dataDir = tempDir();
    const { signal, out } = await runChild(dataDir, 'after-response');
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('END-RESOLVED');
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 0, removedFinalFiles: 0, reindexed: 1 });
      expect(await checkConsistent(archive, dataDir)).toEqual(ALL);
      const row = await archive.index.getInstance('1.2.3.77.100');
      const file = readFileSync(join(dataDir, 'blobs', row!.fileKey));
      const sent = datasetBytes({ sopInstanceUid: '1.2.3.77.100', instanceNumber: 100, pixelBytes: 1_000_000 });
      expect(file.subarray(file.length - sent.length).equals(sent)).toBe(true);
      expect(readMetaHeader(file).meta.mediaStorageSopInstanceUid).toBe('1.2.3.77.100');
    } finally {
      await archive.close();
    }
  });

  it('killed right after the row commit (after the answer), its file not yet settled: kept as it is (its file matches the CRC-32)', async () => {
    dataDir = tempDir();
    const { signal, out } = await runChild(dataDir, 'after-commit');
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('END-RESOLVED');
    expect(listFiles(join(dataDir, 'blobs', 'open'))).toHaveLength(1); // its batch is open
    const archive = await Archive.open({ dataDir });
    try {
      expect(archive.recovery).toEqual({ tempFiles: 0, removedFinalFiles: 0 });
      expect(await checkConsistent(archive, dataDir)).toEqual(ALL);
    } finally {
      await archive.close();
    }
  });
});
