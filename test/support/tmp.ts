// Temporary directories for tests and benchmarks. Each is tracked and removed by
// removeTempDirs() (call it in afterAll) and, as a last resort, when the process exits.
// Set PACS_KEEP_TMP=1 to keep them for inspection.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const created = new Set<string>();
const keep = (): boolean => process.env.PACS_KEEP_TMP === '1';

/** Creates a new empty directory under the OS temp dir (e.g. /tmp/pacs-test-XXXXXX). */
export async function makeTempDir(prefix = 'pacs-test-'): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Same, synchronous. */
export function makeTempDirSync(prefix = 'pacs-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Removes one directory (recursively) made by makeTempDir. */
export async function removeTempDir(dir: string): Promise<void> {
  created.delete(dir);
  if (!keep()) await fs.promises.rm(dir, { recursive: true, force: true });
}

/** Removes every directory made by makeTempDir that is still there. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all([...created].map((d) => removeTempDir(d)));
}

/** Runs fn with a fresh temp dir and removes the dir afterwards, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}

process.on('exit', () => {
  if (keep()) return;
  for (const d of created) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
});
