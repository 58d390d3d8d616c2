/**
 * Start-up recovery of the file blob store (the protocol is at the top of
 * file-blob-store.ts): every open batch is reconciled with the index, then its marker
 * goes; and the leftovers of the layout before batches (tmp/, pool/) are resolved as that
 * layout's protocol said. Assumes no store is running. Every step is idempotent, so a
 * crash during the sweep is repaired by the next one.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, open, readdir, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from './crc32.js';
import type { SweepCheck, SweepReport } from './blob-store.js';
import { readMetaHeader } from './dicom-deps.js';
import { BATCH_KEY_RE, LEGACY_KEY_RE, MARKER_RE } from './blob-keys.js';
import { decodeSeal, PREAMBLE_BYTES, type Seal } from './blob-seal.js';
import { fsyncPath } from './fsync.js';

type IsReferenced = (key: string) => Promise<boolean>;

/**
 * Every batch with a marker in `markerDir` (`open`, or a node's `open-by-node/<id>`): files
 * without a (matching) row deleted, then the marker. Returns the number of batches.
 */
export async function sweepOpenBatches(
  root: string,
  markerDir: string,
  isReferenced: IsReferenced,
  check: SweepCheck | undefined,
  report: SweepReport,
): Promise<number> {
  const openDir = join(root, markerDir);
  const markers = await readdirIfAny(openDir);
  let dropped = 0;
  for (const m of markers) {
    const parts = MARKER_RE.exec(m);
    if (!parts) continue;
    const rel = `s/${parts[1]}/${parts[2]}`;
    const dir = join(root, rel);
    let removed = false;
    for (const name of await readdirIfAny(dir)) {
      const key = `${rel}/${name}`;
      if (!BATCH_KEY_RE.test(key)) continue;
      const path = join(dir, name);
      let referenced = await isReferenced(key);
      if (referenced && check) {
        // The row may have been committed while the final fdatasync still ran: only a
        // file with the recorded size and CRC-32 holds durable data.
        const want = await check.expected(key);
        if (want && want.crc32 !== null && !(await fileMatches(path, want.size, want.crc32))) {
          await check.dropRow(key);
          referenced = false;
          dropped++;
        }
      }
      if (referenced) continue;
      // Sealed and whole, but no row: stored, its row lost with the index's unsynced tail (or
      // never committed): indexed again from the file itself, unless the index refuses it.
      if (check?.recover && (await readSealedFile(path)) && (await check.recover(key))) {
        report.reindexed = (report.reindexed ?? 0) + 1;
        continue;
      }
      if (!(await isEmpty(path))) report.tempFiles++; // an interrupted store; empty: an unused pool file
      await unlinkIfAny(path);
      removed = true;
    }
    if (removed) await fsyncPath(dir);
    await unlinkIfAny(join(openDir, m));
  }
  if (markers.length > 0) await fsyncPath(openDir);
  if (dropped > 0) report.droppedRows = (report.droppedRows ?? 0) + dropped;
  return markers.filter((m) => MARKER_RE.test(m)).length;
}

// ---------------------------------------------------------------------------
// The layout before batches: keys `ab/cd/<sha256(uid)>.<rand>.dcm` linked from a durable
// temp name (`tmp/<sha256(uid)>.<rand>.dcm`, or a pool file `pool/pool.<rand>.dcm` naming its
// SOP Instance UID in its meta header). The temp name was the intent journal: referenced
// and matching the row's size and CRC-32 -> (re)link the final name and fsync its
// directories; referenced but not matching -> the row is dropped, as unreferenced;
// unreferenced -> delete the final file(s); then the temp name goes.

const TEMP_RE = /^([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;
const POOL_RE = /^pool\.([0-9a-f]{16})\.dcm$/;

export async function sweepLegacy(root: string, isReferenced: IsReferenced, check: SweepCheck | undefined, report: SweepReport): Promise<void> {
  const tmpDir = join(root, 'tmp');
  const poolDir = join(root, 'pool');
  const counts = { restored: 0, dropped: 0 };
  const names = (await readdirIfAny(tmpDir)).map((n) => join(tmpDir, n));
  const pooled = (await readdirIfAny(poolDir)).map((n) => join(poolDir, n));
  for (const path of [...names, ...pooled]) {
    const name = basename(path);
    const temp = path.startsWith(tmpDir) ? TEMP_RE.exec(name) : null;
    const pool = path.startsWith(poolDir) ? POOL_RE.exec(name) : null;
    if (temp) {
      report.tempFiles++;
      await resolveTemp(root, path, temp[1], name, isReferenced, check, report, counts);
    } else if (pool) {
      const { uid, empty } = await part10Uid(path);
      if (!empty || uid !== undefined) report.tempFiles++; // else: a pool file never used
      if (uid !== undefined) {
        const h = uidHash(uid);
        await resolveTemp(root, path, h, `${h}.${pool[1]}.dcm`, isReferenced, check, report, counts);
      } else if (check) {
        // Its meta header was lost, so the key it served is unknown: a row may have been
        // committed meanwhile; its data is not durable.
        const keys = await check.keysEndingWith(`.${pool[1]}.dcm`);
        if (empty && keys.length > 0) report.tempFiles++;
        for (const key of keys) {
          if (!LEGACY_KEY_RE.test(key)) continue;
          await check.dropRow(key);
          counts.dropped++;
          await unlinkIfAny(join(root, key));
          report.removedFinalFiles++;
        }
      }
    } else {
      report.tempFiles++;
    }
    await rm(path, { force: true, recursive: true });
  }
  if (names.length > 0) await fsyncPath(tmpDir);
  if (pooled.length > 0) await fsyncPath(poolDir);
  if (counts.restored > 0) report.restoredFiles = (report.restoredFiles ?? 0) + counts.restored;
  if (counts.dropped > 0) report.droppedRows = (report.droppedRows ?? 0) + counts.dropped;
}

/** One temp file (`tempPath`) of the layout before batches, which served the key `<h>/<finalName>`. */
async function resolveTemp(
  root: string,
  tempPath: string,
  h: string,
  finalName: string,
  isReferenced: IsReferenced,
  check: SweepCheck | undefined,
  report: SweepReport,
  counts: { restored: number; dropped: number },
): Promise<void> {
  const own = `${h.slice(0, 2)}/${h.slice(2, 4)}/${finalName}`;
  const dir = join(root, h.slice(0, 2), h.slice(2, 4));
  let referenced = await isReferenced(own);
  if (referenced && check) {
    const want = await check.expected(own);
    if (want && want.crc32 !== null && !(await fileMatches(tempPath, want.size, want.crc32))) {
      await check.dropRow(own);
      referenced = false;
      counts.dropped++;
    }
  }
  if (referenced) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await link(tempPath, join(root, own));
      counts.restored++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException)?.code !== 'EEXIST') throw e;
    }
    await fsyncPath(dir);
    await fsyncPath(join(root, h.slice(0, 2)));
    await fsyncPath(root);
  }
  let removed = false;
  for (const s of await readdirIfAny(dir)) {
    if (!s.startsWith(`${h}.`)) continue;
    const key = `${h.slice(0, 2)}/${h.slice(2, 4)}/${s}`;
    if (LEGACY_KEY_RE.test(key) && !(await isReferenced(key))) {
      await unlink(join(dir, s));
      report.removedFinalFiles++;
      removed = true;
    }
  }
  if (removed) await fsyncPath(dir);
}

export async function readdirIfAny(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

async function unlinkIfAny(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

async function isEmpty(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return true;
  try {
    return (await fh.stat()).size === 0;
  } finally {
    await fh.close();
  }
}

/** The SOP Instance UID in the meta header of a Part 10 file (undefined if unreadable), and whether the file is empty. */
async function part10Uid(path: string): Promise<{ uid?: string; empty: boolean }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (isNotFound(e)) return { empty: true };
    throw e;
  }
  try {
    const buf = Buffer.alloc(16 << 10);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead === 0) return { empty: true };
    try {
      const uid = readMetaHeader(buf.subarray(0, bytesRead)).meta.mediaStorageSopInstanceUid;
      return { uid: uid || undefined, empty: false };
    } catch {
      return { empty: false };
    }
  } finally {
    await fh.close();
  }
}

/**
 * True when the file has exactly `size` bytes and `crc` is the CRC-32 of its bytes after
 * the preamble (rows since the seal) or of all of them (rows before it).
 */
async function fileMatches(path: string, size: number, crc: number): Promise<boolean> {
  const crcs = await fileCrcs(path, size);
  return crcs !== undefined && (crcs.body === crc || crcs.whole === crc);
}

/** The file's seal when it is intact and the file's size and bytes match it (blob-seal.ts), else undefined. */
export async function readSealedFile(path: string): Promise<Seal | undefined> {
  const head = Buffer.alloc(PREAMBLE_BYTES);
  const fh = await openIfAny(path);
  if (!fh) return undefined;
  try {
    const { bytesRead } = await fh.read(head, 0, PREAMBLE_BYTES, 0);
    if (bytesRead < PREAMBLE_BYTES) return undefined;
  } finally {
    await fh.close();
  }
  const seal = decodeSeal(head);
  if (!seal) return undefined;
  const crcs = await fileCrcs(path, seal.size);
  return crcs?.body === seal.bodyCrc32 ? seal : undefined;
}

/** CRC-32 of the file's bytes after the preamble and of all of them, when it has exactly `size` bytes. */
async function fileCrcs(path: string, size: number): Promise<{ body: number; whole: number } | undefined> {
  const fh = await openIfAny(path);
  if (!fh) return undefined;
  try {
    if ((await fh.stat()).size !== size) return undefined;
    const buf = Buffer.allocUnsafe(1 << 20);
    let whole = 0;
    let body = 0;
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return undefined;
      const chunk = buf.subarray(0, bytesRead);
      whole = crc32(chunk, whole);
      const skip = pos < PREAMBLE_BYTES ? Math.min(PREAMBLE_BYTES - pos, bytesRead) : 0;
      if (skip < bytesRead) body = crc32(chunk.subarray(skip), body);
      pos += bytesRead;
    }
    return { body, whole };
  } finally {
    await fh.close();
  }
}

/** The file opened for reading, or undefined when it is gone. */
async function openIfAny(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

function uidHash(sopInstanceUid: string): string {
  return createHash('sha256').update(sopInstanceUid, 'latin1').digest('hex');
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}
