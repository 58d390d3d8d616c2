/**
 * Local users of the web app and REST API: `<data>/users.json`, passwords hashed with
 * scrypt (salted, N=16384), written atomically. On a first start an `admin` account is
 * created with PACS_ADMIN_PASSWORD or, if unset, a random password printed once.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { withFileLock, writeFileAtomic } from '../config/index.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;
const PARAMS = { N: 16384, r: 8, p: 1 };

const userSchema = z.object({ name: z.string(), hash: z.string(), salt: z.string(), created: z.string() });
const fileSchema = z.object({ users: z.array(userSchema) });
type User = z.infer<typeof userSchema>;

export const USERS_FILE = 'users.json';

async function hash(password: string, salt: Buffer): Promise<Buffer> {
  return scrypt(password, salt, 32, PARAMS);
}

export class UserStore {
  private constructor(
    private readonly file: string,
    private users: User[],
  ) {}

  static async open(dataDir: string): Promise<UserStore> {
    const file = join(dataDir, USERS_FILE);
    return new UserStore(file, await UserStore.read(file));
  }

  private static async read(file: string): Promise<User[]> {
    try {
      return fileSchema.parse(JSON.parse(await readFile(file, 'utf8'))).users;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  }

  /** Creates `admin` when there is no user yet; returns the generated password when one was made up. */
  async ensureAdmin(password = process.env.PACS_ADMIN_PASSWORD): Promise<{ created: boolean; generatedPassword?: string }> {
    if (this.users.length > 0) return { created: false };
    const generated = password ? undefined : randomBytes(12).toString('base64url');
    const created = await this.setPassword('admin', password ?? generated!, { onlyIfNoUsers: true });
    return created ? { created: true, generatedPassword: generated } : { created: false };
  }

  async setPassword(name: string, password: string, opts: { onlyIfNoUsers?: boolean } = {}): Promise<boolean> {
    if (password.length < 8) throw new Error('a password needs at least 8 characters');
    const salt = randomBytes(16);
    const h = await hash(password, salt);
    return withFileLock(this.file, async () => {
      const users = await UserStore.read(this.file);
      if (opts.onlyIfNoUsers && users.length > 0) {
        this.users = users;
        return false;
      }
      const user: User = { name, hash: h.toString('base64'), salt: salt.toString('base64'), created: new Date().toISOString() };
      const next = [...users.filter((u) => u.name !== name), user];
      await writeFileAtomic(this.file, `${JSON.stringify({ users: next }, null, 2)}\n`, 0o600);
      this.users = next;
      return true;
    });
  }

  /** The user's name when the password is right. */
  async verify(name: string, password: string): Promise<string | undefined> {
    const u = this.users.find((x) => x.name === name);
    // Hash even for an unknown user, so timing does not tell which names exist.
    const salt = u ? Buffer.from(u.salt, 'base64') : randomBytes(16);
    const h = await hash(password, salt);
    if (!u) return undefined;
    const stored = Buffer.from(u.hash, 'base64');
    return stored.length === h.length && timingSafeEqual(stored, h) ? u.name : undefined;
  }
}
