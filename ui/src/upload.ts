// Upload: files, folders (webkitGetAsEntry traversal) and .zip archives (unzipped here with
// fflate) dropped or picked, sent with STOW-RS in batches, progress in instances.
import { unzip } from 'fflate';
import { h } from './dom.js';
import { mainArchive } from './dicomweb.js';

export interface Candidate {
  name: string;
  blob: Blob;
}
export interface UploadReport {
  stored: number;
  failed: { name: string; reason: string }[];
}

/** One STOW request carries at most this many instances or bytes. */
const BATCH_FILES = 25;
const BATCH_BYTES = 32 << 20;

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns the listing in pieces; an empty piece ends it.
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    out.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
  } else if (entry.isDirectory) {
    for (const e of await readAllEntries(entry as FileSystemDirectoryEntry)) await walk(e, out);
  }
}

/** The files of a drop, folders walked recursively. */
export async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...dt.files];
  const out: File[] = [];
  for (const e of entries) await walk(e, out);
  return out;
}

function unzipped(file: File): Promise<Candidate[]> {
  return file.arrayBuffer().then(
    (buf) =>
      new Promise((resolve, reject) => {
        unzip(new Uint8Array(buf), (err, entries) => {
          if (err) return reject(new Error(`${file.name}: not a readable zip (${err.message})`));
          resolve(
            Object.entries(entries)
              .filter(([name, data]) => !name.endsWith('/') && data.length > 0)
              .map(([name, data]) => ({ name: `${file.name}/${name}`, blob: new Blob([data]) })),
          );
        });
      }),
  );
}

async function isPart10(blob: Blob): Promise<boolean> {
  if (blob.size < 132) return false;
  const b = new Uint8Array(await blob.slice(128, 132).arrayBuffer());
  return b[0] === 0x44 && b[1] === 0x49 && b[2] === 0x43 && b[3] === 0x4d;
}

async function isZip(file: File): Promise<boolean> {
  if (/\.zip$/i.test(file.name)) return true;
  const b = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

/** Part 10 files among `files` (zips opened); the rest listed with why. */
export async function collect(files: readonly File[]): Promise<{ candidates: Candidate[]; skipped: { name: string; reason: string }[] }> {
  const candidates: Candidate[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const f of files) {
    const name = f.webkitRelativePath || f.name;
    let inner: Candidate[] = [{ name, blob: f }];
    if (await isZip(f)) {
      try {
        inner = await unzipped(f);
      } catch (err) {
        skipped.push({ name, reason: (err as Error).message });
        continue;
      }
    }
    for (const c of inner) {
      if (await isPart10(c.blob)) candidates.push(c);
      else if (!/(^|\/)DICOMDIR$/i.test(c.name)) skipped.push({ name: c.name, reason: 'not a DICOM Part 10 file' });
    }
  }
  return { candidates, skipped };
}

/** Sends in batches; `onProgress(done, total)` after each batch. */
export async function upload(candidates: readonly Candidate[], onProgress: (done: number, total: number) => void): Promise<UploadReport> {
  const report: UploadReport = { stored: 0, failed: [] };
  let done = 0;
  onProgress(0, candidates.length);
  for (let i = 0; i < candidates.length;) {
    const batch: Candidate[] = [];
    let bytes = 0;
    while (i < candidates.length && batch.length < BATCH_FILES && (batch.length === 0 || bytes + candidates[i].blob.size <= BATCH_BYTES)) {
      bytes += candidates[i].blob.size;
      batch.push(candidates[i++]);
    }
    try {
      const r = await mainArchive.stow(batch.map((c) => c.blob));
      report.stored += r.stored.length;
      for (const f of r.failed) report.failed.push({ name: f.uid, reason: f.reason });
      // Parts the server neither stored nor listed as failed (it could not read them).
      const unaccounted = batch.length - r.stored.length - r.failed.length;
      if (unaccounted > 0) report.failed.push({ name: `${unaccounted} file(s) of ${batch[0].name}...`, reason: 'not acknowledged by the server' });
    } catch (err) {
      for (const c of batch) report.failed.push({ name: c.name, reason: (err as Error).message });
    }
    done += batch.length;
    onProgress(done, candidates.length);
  }
  return report;
}

/** The drop zone, the two pickers (files and a folder), the progress bar and the failure list. */
export function uploadPanel(onUploaded: (report: UploadReport) => void): HTMLElement {
  const bar = h('progress', { id: 'upload-progress', max: 1, value: 0, hidden: true });
  const status = h('span', { id: 'upload-status', class: 'muted' });
  const failures = h('ul', { id: 'upload-failures', class: 'fail' });
  const filesInput = h('input', { type: 'file', id: 'upload-files', multiple: true });
  const folderInput = h('input', { type: 'file', id: 'upload-folder', webkitdirectory: true, multiple: true });
  let busy = false;

  const run = async (files: File[]) => {
    if (busy || files.length === 0) return;
    busy = true;
    failures.replaceChildren();
    status.textContent = `reading ${files.length} file(s)...`;
    try {
      const { candidates, skipped } = await collect(files);
      bar.hidden = false;
      const report = await upload(candidates, (done, total) => {
        bar.max = Math.max(total, 1);
        bar.value = done;
        status.textContent = `${done} / ${total} instance(s) (${total ? Math.round((done / total) * 100) : 100}%)`;
      });
      report.failed.unshift(...skipped);
      status.textContent = `${report.stored} stored, ${report.failed.length} failed or skipped (100%)`;
      status.className = report.failed.length ? 'fail' : 'ok';
      failures.replaceChildren(...report.failed.map((f) => h('li', {}, `${f.name}: ${f.reason}`)));
      onUploaded(report);
    } catch (err) {
      status.textContent = `upload failed: ${(err as Error).message}`;
      status.className = 'fail';
    } finally {
      busy = false;
      filesInput.value = '';
      folderInput.value = '';
    }
  };

  const zone = h('div', { id: 'upload-drop', class: 'drop-zone' }, 'Drop DICOM files, folders or .zip archives here');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(run);
  });
  filesInput.addEventListener('change', () => void run([...(filesInput.files ?? [])]));
  folderInput.addEventListener('change', () => void run([...(folderInput.files ?? [])]));
  return h(
    'section',
    { class: 'card upload' },
    zone,
    h('div', { class: 'pickers' }, h('label', {}, 'Files or .zip: ', filesInput), h('label', {}, 'A folder: ', folderInput)),
    h('div', {}, bar, ' ', status),
    failures,
  );
}
