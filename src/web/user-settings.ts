/**
 * Per-user viewer settings, kept next to users.json in `<data>/user-settings.json`: for now
 * each user's own window presets (W/L). Written atomically under a lock like users.json, so
 * two servers on one data directory do not lose each other's changes. With several nodes on
 * PostgreSQL each user's settings are a row of `shared_documents` instead (named
 * `user-settings:<user>`, a bound parameter), since the data directory may be on NFS; a user
 * with no row yet still gets what the file held. Bounded: at most MAX_PRESETS presets of
 * short labels per user.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { withFileLock, writeFileAtomic } from '../config/index.js';
import type { SharedDocuments } from '../archive/shared-documents.js';

export const USER_SETTINGS_FILE = 'user-settings.json';
export const MAX_PRESETS = 50;

export const windowPresetSchema = z.strictObject({
  label: z.string().trim().min(1, 'a preset needs a label').max(64, 'a preset label has at most 64 characters'),
  center: z.number().finite('center must be a finite number'),
  width: z.number().finite('width must be a finite number').min(1, 'width must be at least 1'),
  /** The modality the preset is for (CT, MR, ...); none: every modality. */
  modality: z
    .string()
    .regex(/^[A-Z0-9]{1,16}$/, 'modality is a DICOM modality code such as CT or MR')
    .optional(),
});
export const windowPresetsSchema = z.array(windowPresetSchema).max(MAX_PRESETS, `at most ${MAX_PRESETS} presets per user`);
export type UserWindowPreset = z.infer<typeof windowPresetSchema>;

const userEntry = z.object({ windowPresets: windowPresetsSchema.default([]) });
const fileSchema = z.object({ users: z.record(z.string(), userEntry) });
type SettingsFile = z.infer<typeof fileSchema>;

type Documents = Pick<SharedDocuments, 'getChecked' | 'put' | 'delete'>;
const documentName = (user: string): string => `user-settings:${user}`;

export class UserSettingsStore {
  private constructor(
    private readonly file: string,
    private readonly shared?: Documents,
  ) {}

  static forDataDir(dataDir: string): UserSettingsStore {
    return new UserSettingsStore(join(dataDir, USER_SETTINGS_FILE));
  }

  /** Each user's settings in PostgreSQL (several nodes on one database). */
  static shared(dataDir: string, documents: Documents): UserSettingsStore {
    return new UserSettingsStore(join(dataDir, USER_SETTINGS_FILE), documents);
  }

  private async read(): Promise<SettingsFile> {
    try {
      return fileSchema.parse(JSON.parse(await readFile(this.file, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { users: {} };
      throw new Error(`${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async windowPresets(user: string): Promise<UserWindowPreset[]> {
    const stored = await this.shared?.getChecked(documentName(user), userEntry, `settings of user ${user}`);
    if (stored) return stored.windowPresets;
    const users = (await this.read()).users;
    return Object.hasOwn(users, user) ? users[user].windowPresets : [];
  }

  async setWindowPresets(user: string, presets: UserWindowPreset[]): Promise<void> {
    if (this.shared) return this.shared.put(documentName(user), { windowPresets: presets });
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await withFileLock(this.file, async () => {
      const current = await this.read();
      current.users[user] = { ...(Object.hasOwn(current.users, user) ? current.users[user] : {}), windowPresets: presets };
      await writeFileAtomic(this.file, `${JSON.stringify(current, null, 2)}\n`);
    });
  }

  /** A removed user's settings go with them. */
  async forget(user: string): Promise<void> {
    if (this.shared) return this.shared.delete(documentName(user));
    await withFileLock(this.file, async () => {
      const current = await this.read();
      if (!Object.hasOwn(current.users, user)) return;
      delete current.users[user];
      await writeFileAtomic(this.file, `${JSON.stringify(current, null, 2)}\n`);
    });
  }
}
