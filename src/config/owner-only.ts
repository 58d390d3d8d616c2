/**
 * The data directory holds patient data, the index, user passwords and TLS keys: it is
 * owner-only (directories 0700, files 0600). Processes of the `pacs` command set a umask
 * of 077 at start (src/cli/main.ts), so everything they create is owner-only; the places
 * that create files also give the mode explicitly, for when the code runs in another
 * process (tests, an embedding). A data directory made wider by an earlier version or by
 * hand has its top directory tightened (which closes everything below it to other users).
 */
import { chmod, mkdir, stat } from 'node:fs/promises';
import type { Logger } from 'pino';

export const OWNER_ONLY_DIR = 0o700;
export const OWNER_ONLY_FILE = 0o600;
/** For processes that create the data directory's files: nothing for group and others. */
export const OWNER_ONLY_UMASK = 0o077;

/** Creates `dir` owner-only, or tightens it to 0700 when group or others have any access (logged). */
export async function ensureOwnerOnlyDir(dir: string, logger?: Pick<Logger, 'warn'>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: OWNER_ONLY_DIR });
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  await chmod(dir, OWNER_ONLY_DIR);
  logger?.warn(
    { dir, was: mode.toString(8), now: '700' },
    `data directory ${dir} was readable by other users (mode ${mode.toString(8)}): changed to 0700 (owner only)`,
  );
}
