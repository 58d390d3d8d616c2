/**
 * Local users of the web app and REST API: `<data>/users.json`, passwords hashed with
 * scrypt (salted, N=16384), written atomically under a lock (the CLI's `pacs user` and a
 * running server change it alike). Two roles: `admin` (everything) and `reader` (browse
 * and view). A file from before roles existed has no `role`: those users are admins.
 * There is always at least one admin: the last one cannot be removed or demoted.
 *
 * A running server sees changes made by the CLI: the file is read again when its
 * modification time changed (checked at most once a second).
 *
 * Several nodes on one PostgreSQL database keep the users there instead
 * (archive/shared-auth.ts), cached in memory and read again when another node's change is
 * notified; the first node imports users.json once.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { SharedAuthTables, StoredUser } from '../archive/shared-auth.js';
import { withFileLock, writeFileAtomic } from '../config/index.js';
import { HttpError } from './problem.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;
const PARAMS = { N: 16384, r: 8, p: 1 };

export const ROLES = ['admin', 'reader'] as const;
export type Role = (typeof ROLES)[number];

export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const userNameSchema = z.string().regex(USER_NAME, 'a user name is 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
export const passwordSchema = z.string().min(8, 'a password needs at least 8 characters').max(1024, 'a password has at most 1024 characters');
export const roleSchema = z.enum(ROLES, { error: 'role must be admin or reader' });

const userSchema = z.object({ name: z.string(), hash: z.string(), salt: z.string(), created: z.string(), role: roleSchema.default('admin') });
const fileSchema = z.object({ users: z.array(userSchema) });
type User = z.infer<typeof userSchema>;

/** A user as shown (no hash). */
export interface UserInfo {
  name: string;
  role: Role;
  created: string;
}

export const USERS_FILE = 'users.json';

const USER_ERROR_STATUS = { 'not-found': 404, conflict: 409, invalid: 422 } as const;

/** A user operation refused: `not-found` (404), `conflict` (409: exists already, last admin), `invalid` (422, naming the field). */
export class UserError extends HttpError {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly kind: 'not-found' | 'conflict' | 'invalid',
    field?: string,
  ) {
    super(USER_ERROR_STATUS[kind], message, { type: `urn:open-pacs:problem:${kind === 'invalid' ? 'validation' : kind}`, field });
  }
}

async function hash(password: string, salt: Buffer): Promise<Buffer> {
  return scrypt(password, salt, 32, PARAMS);
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UserError(r.error.issues[0]?.message ?? `invalid ${field}`, 'invalid', field);
  return r.data;
}

const info = (u: User): UserInfo => ({ name: u.name, role: u.role, created: u.created });
const admins = (users: User[]) => users.filter((u) => u.role === 'admin').length;

const RELOAD_CHECK_MS = 1000;

/** Where the users are kept: users.json (one node), or PostgreSQL when several nodes share a database. */
interface UserBackend {
  readonly location: string;
  /** The users when they may have changed since the last call (`force`: read them anyway), else undefined. */
  poll(force: boolean): Promise<User[] | undefined>;
  /** Applies `change` to the stored users under a lock and writes them when it returned new ones. */
  modify<T>(change: (users: User[]) => { users: User[]; result: T }): Promise<{ users: User[]; result: T }>;
  /** Hears another node's changes: the users whose sessions ended (empty: read them again and compare). */
  watch?(changed: (ended: string[]) => void): void;
  close?(): void;
}

async function readUsersFile(file: string): Promise<User[]> {
  try {
    return fileSchema.parse(JSON.parse(await readFile(file, 'utf8'))).users;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** users.json, read again when its modification time changed (checked at most once a second). */
class FileUsers implements UserBackend {
  private checkedAt = 0;
  private mtimeMs = 0;

  constructor(readonly location: string) {}

  private mtime(): Promise<number> {
    return stat(this.location).then(
      (s) => s.mtimeMs,
      () => 0,
    );
  }

  async poll(force: boolean): Promise<User[] | undefined> {
    if (!force && Date.now() - this.checkedAt < RELOAD_CHECK_MS) return undefined;
    const mtime = await this.mtime();
    this.checkedAt = Date.now();
    if (mtime === this.mtimeMs && this.mtimeMs !== 0) return undefined;
    const users = await readUsersFile(this.location);
    this.mtimeMs = mtime;
    return users;
  }

  async modify<T>(change: (users: User[]) => { users: User[]; result: T }): Promise<{ users: User[]; result: T }> {
    await mkdir(dirname(this.location), { recursive: true, mode: 0o700 });
    return withFileLock(this.location, async () => {
      const current = await readUsersFile(this.location);
      const changed = change(current);
      if (changed.users !== current) {
        await writeFileAtomic(this.location, `${JSON.stringify({ users: changed.users }, null, 2)}\n`, 0o600);
        this.mtimeMs = await this.mtime();
      }
      this.checkedAt = Date.now();
      return changed;
    });
  }
}

function parseStored(rows: StoredUser[], where: string): User[] {
  return rows.map((r) => {
    const u = userSchema.safeParse(r);
    if (!u.success) throw new Error(`${where}: user "${r.name}": ${u.error.issues[0]?.message}`);
    return u.data;
  });
}

/**
 * The users in PostgreSQL (archive/shared-auth.ts), cached in memory: read again only
 * after a notification (another node changed them), so checking a request's user costs no
 * round trip. While the LISTEN connection is down nothing is trusted: every check reads.
 */
class SharedUsers implements UserBackend {
  readonly location: string;
  /** Bumped by every notification and reconnection; the cache is good when it was read at the current one. */
  private generation = 1;
  private loaded = 0;
  private listening = false;
  private unlisten?: () => void;

  constructor(private readonly tables: SharedAuthTables) {
    this.location = `PostgreSQL schema "${tables.schema}"`;
  }

  async poll(force: boolean): Promise<User[] | undefined> {
    if (!force && this.listening && this.loaded === this.generation) return undefined;
    const at = this.generation;
    const users = parseStored(await this.tables.listUsers(), this.location);
    // A notification during the read leaves the cache stale: the next check reads again.
    this.loaded = Math.max(this.loaded, at);
    return users;
  }

  async modify<T>(change: (users: User[]) => { users: User[]; result: T }): Promise<{ users: User[]; result: T }> {
    const out = await this.tables.modify((rows) => {
      const current = parseStored(rows, this.location);
      const r = change(current);
      return { users: r.users === current ? rows : r.users, result: r };
    });
    return out.result;
  }

  watch(changed: (ended: string[]) => void): void {
    this.unlisten = this.tables.listen({
      changed: (e) => {
        if (e.kind !== 'users') return;
        this.generation++;
        changed(e.ended);
      },
      up: () => {
        this.listening = true;
        this.generation++;
        changed([]);
      },
      down: () => {
        this.listening = false;
        this.generation++;
      },
    });
  }

  close(): void {
    this.unlisten?.();
  }
}

export class UserStore {
  private readonly listeners = new Set<(name: string) => void>();
  private users: User[] = [];
  private reading?: Promise<void>;

  private constructor(
    /** The data directory (per-user settings live there). */
    readonly dataDir: string,
    private readonly backend: UserBackend,
  ) {}

  /** Where the users are kept (users.json, or the PostgreSQL schema), for messages. */
  get location(): string {
    return this.backend.location;
  }

  static async open(dataDir: string): Promise<UserStore> {
    const store = new UserStore(dataDir, new FileUsers(join(dataDir, USERS_FILE)));
    await store.reload(true);
    return store;
  }

  /**
   * The users of several nodes on one PostgreSQL database. The first node on an empty
   * database imports the data directory's users.json once (sessions are not carried over).
   */
  static async openShared(
    dataDir: string,
    tables: SharedAuthTables,
    logger?: { info(o: object, msg: string): void },
    /** Hear other nodes' changes (a server); a command (`pacs user`) reads the table on every call instead. */
    o: { listen?: boolean } = {},
  ): Promise<UserStore> {
    const file = join(dataDir, USERS_FILE);
    const imported = await tables.importOnce(() => readUsersFile(file));
    if (imported && imported.imported > 0)
      logger?.info(
        { file, schema: tables.schema, users: imported.imported },
        'imported the web users from users.json into PostgreSQL, once: nodes on this database read them from there now',
      );
    const backend = new SharedUsers(tables);
    const store = new UserStore(dataDir, backend);
    await store.reload(true);
    if (o.listen === false) return store;
    backend.watch((ended) => {
      // Sessions end at once; the rest (roles, new users) when read again, right away.
      for (const name of ended) store.changed(name);
      void store.reload(false).catch(() => undefined);
    });
    return store;
  }

  /** Stops listening for other nodes' changes. */
  close(): void {
    this.backend.close?.();
  }

  private async reload(force: boolean): Promise<void> {
    // One read at a time: a second caller waits for the first rather than read again.
    while (this.reading) await this.reading.catch(() => undefined);
    const p = (async () => {
      const next = await this.backend.poll(force);
      if (next) this.apply(next);
    })();
    this.reading = p.finally(() => {
      this.reading = undefined;
    });
    await p;
  }

  /** Takes `next` as the users; a user removed or given a new password elsewhere: their sessions end. */
  private apply(next: User[]): void {
    const before = new Map(this.users.map((u) => [u.name, u.hash]));
    this.users = next;
    for (const [name, h] of before) if (next.find((u) => u.name === name)?.hash !== h) this.changed(name);
  }

  /** The users as another node or process may have left them. */
  private async fresh(): Promise<void> {
    await this.reload(false);
  }

  /** Called with a user's name when their password changed or they were removed (sessions end then). */
  onInvalidate(listener: (name: string) => void): void {
    this.listeners.add(listener);
  }

  private changed(name: string): void {
    for (const l of this.listeners) l(name);
  }

  /** Applies `change` to the stored users under the lock and writes them (users.json: 0600). */
  private async modify<T>(change: (users: User[]) => { users: User[]; result: T }): Promise<T> {
    const { users, result } = await this.backend.modify(change);
    this.apply(users);
    return result;
  }

  /** Creates `admin` when there is no user yet; returns the generated password when one was made up. */
  async ensureAdmin(password = process.env.PACS_ADMIN_PASSWORD): Promise<{ created: boolean; generatedPassword?: string }> {
    if (this.users.length > 0) return { created: false };
    const generated = password ? undefined : randomBytes(18).toString('base64url');
    const user = await this.record('admin', password ?? generated!, 'admin');
    const created = await this.modify((users) => (users.length > 0 ? { users, result: false } : { users: [user], result: true }));
    return created ? { created: true, generatedPassword: generated } : { created: false };
  }

  private async record(name: string, password: string, role: Role): Promise<User> {
    check(userNameSchema, name, 'name');
    check(passwordSchema, password, 'password');
    const salt = randomBytes(16);
    const h = await hash(password, salt);
    return { name, hash: h.toString('base64'), salt: salt.toString('base64'), created: new Date().toISOString(), role };
  }

  async list(): Promise<UserInfo[]> {
    await this.fresh();
    return this.users.map(info);
  }

  /** The user's role, or undefined when there is no such user (any more). */
  async role(name: string): Promise<Role | undefined> {
    await this.fresh();
    return this.users.find((u) => u.name === name)?.role;
  }

  async add(name: string, password: string, role: Role = 'reader'): Promise<UserInfo> {
    const user = await this.record(name, password, check(roleSchema, role, 'role'));
    return this.modify((users) => {
      if (users.some((u) => u.name === name)) throw new UserError(`there is already a user "${name}"`, 'conflict', 'name');
      // Else a first start would find users, make no admin, and nobody could manage the rest.
      if (user.role !== 'admin' && admins(users) === 0) throw new UserError('there is no admin yet: add one first (role admin)', 'conflict', 'role');
      return { users: [...users, user], result: info(user) };
    });
  }

  /** A new password (sessions of the user end). */
  async setPassword(name: string, password: string): Promise<void> {
    if (!this.users.some((u) => u.name === name)) await this.reload(true);
    const existing = this.users.find((u) => u.name === name);
    if (!existing) throw new UserError(`no user "${name}"`, 'not-found', 'name');
    const next = await this.record(name, password, existing.role);
    await this.modify((users) => {
      const u = users.find((x) => x.name === name);
      if (!u) throw new UserError(`no user "${name}"`, 'not-found', 'name');
      return { users: users.map((x) => (x === u ? { ...next, role: u.role, created: u.created } : x)), result: undefined };
    });
    this.changed(name);
  }

  async setRole(name: string, role: Role): Promise<UserInfo> {
    check(roleSchema, role, 'role');
    return this.modify((users) => {
      const u = users.find((x) => x.name === name);
      if (!u) throw new UserError(`no user "${name}"`, 'not-found', 'name');
      if (u.role === 'admin' && role !== 'admin' && admins(users) === 1)
        throw new UserError(`"${name}" is the last admin: make another user admin first`, 'conflict', 'role');
      const changed = { ...u, role };
      return { users: users.map((x) => (x === u ? changed : x)), result: info(changed) };
    });
  }

  async remove(name: string): Promise<void> {
    await this.modify((users) => {
      const u = users.find((x) => x.name === name);
      if (!u) throw new UserError(`no user "${name}"`, 'not-found', 'name');
      if (u.role === 'admin' && admins(users) === 1) throw new UserError(`"${name}" is the last admin and cannot be removed`, 'conflict', 'name');
      return { users: users.filter((x) => x !== u), result: undefined };
    });
    this.changed(name);
  }

  /** The user (name and role) when the password is right. Always hashes, so timing does not tell which names exist. */
  async verify(name: string, password: string): Promise<UserInfo | undefined> {
    await this.fresh();
    const u = this.users.find((x) => x.name === name);
    const salt = u ? Buffer.from(u.salt, 'base64') : randomBytes(16);
    const h = await hash(password, salt);
    if (!u) return undefined;
    const stored = Buffer.from(u.hash, 'base64');
    return stored.length === h.length && timingSafeEqual(stored, h) ? info(u) : undefined;
  }
}
