/**
 * The web's users and sessions in PostgreSQL, for several nodes on one database
 * (`web_users`, `web_sessions`). A session row holds the SHA-256 of its token, never the
 * token, with its user and expiry. Every change of the users runs under one advisory lock
 * and, in the same transaction, deletes the sessions of users removed or given a new
 * password and sends NOTIFY `pacs_auth` `<schema>:users:<name,...>` naming them; a logout
 * sends `<schema>:logout:<sha256>`. The nodes' caches (web/users.ts, web/auth.ts) drop
 * what a notification names as soon as it is committed.
 */
import type pg from 'pg';
import type { SharedDatabase } from './shared-database.js';
import { listenChannel, notifyChannel } from './shared-notify.js';

export const AUTH_CHANNEL = 'pacs_auth';
/** Expired sessions are deleted at most this often (by whichever node creates one). */
const SWEEP_MS = 60_000;

export interface StoredUser {
  name: string;
  hash: string;
  salt: string;
  role: string;
  created: string;
}

/** What a node hears of another's changes. */
export type AuthEvent = { kind: 'users'; ended: string[] } | { kind: 'logout'; tokenSha256: string };

export interface AuthListener {
  changed(event: AuthEvent): void;
  up(): void;
  down(err: Error): void;
}

export class SharedAuthTables {
  private sweptAt = 0;
  private readonly listeners = new Set<AuthListener>();
  private up = false;
  private stopListening?: () => void;

  constructor(
    private readonly db: SharedDatabase,
    /** Who writes (the node id), in the session rows. */
    private readonly writer: string,
  ) {}

  get schema(): string {
    return this.db.schema;
  }

  /** Whether this node hears the others' changes now (its caches are trusted only then). */
  get listening(): boolean {
    return this.up;
  }

  async listUsers(): Promise<StoredUser[]> {
    return (await this.db.pool.query('SELECT name, hash, salt, role, created FROM web_users ORDER BY created, name')).rows as StoredUser[];
  }

  /**
   * The first node on an empty database imports the users of `load` (users.json) once;
   * afterwards the table is the truth (a marker in shared_meta, so emptying it does not
   * import again). True when this call imported.
   */
  async importOnce(load: () => Promise<StoredUser[]>): Promise<{ imported: number } | undefined> {
    return this.db.transaction(async (c) => {
      await this.lock(c);
      const done = (await c.query(`SELECT 1 FROM shared_meta WHERE key = 'users_imported'`)).rowCount;
      if (done) return undefined;
      const users = await load();
      for (const u of users) await this.insert(c, u);
      await c.query(`INSERT INTO shared_meta (key, value) VALUES ('users_imported', 1) ON CONFLICT (key) DO NOTHING`);
      return { imported: users.length };
    });
  }

  /**
   * Applies `change` to the users under the lock and writes what differs. Sessions of a
   * user removed or given a new hash end in the same transaction; the other nodes hear of
   * it by NOTIFY.
   */
  async modify<T>(change: (users: StoredUser[]) => { users: StoredUser[]; result: T }): Promise<{ users: StoredUser[]; result: T }> {
    return this.db.transaction(async (c) => {
      await this.lock(c);
      const current = (await c.query('SELECT name, hash, salt, role, created FROM web_users ORDER BY created, name')).rows as StoredUser[];
      const { users, result } = change(current);
      if (users === current) return { users, result };
      const next = new Map(users.map((u) => [u.name, u]));
      const ended: string[] = [];
      for (const u of current) {
        const n = next.get(u.name);
        if (!n) {
          await c.query('DELETE FROM web_users WHERE name = $1', [u.name]);
          ended.push(u.name);
        } else if (n.hash !== u.hash || n.salt !== u.salt || n.role !== u.role) {
          await c.query('UPDATE web_users SET hash = $2, salt = $3, role = $4, created = $5 WHERE name = $1', [n.name, n.hash, n.salt, n.role, n.created]);
          if (n.hash !== u.hash) {
            await c.query('DELETE FROM web_sessions WHERE user_name = $1', [u.name]);
            ended.push(u.name);
          }
        }
      }
      const old = new Set(current.map((u) => u.name));
      for (const u of users) if (!old.has(u.name)) await this.insert(c, u);
      // NOTIFY payloads stay under 8000 bytes: past that the names are left out (the nodes read the users again and compare).
      const names = ended.join(',');
      await notifyChannel(c, this.db.schema, AUTH_CHANNEL, `users:${names.length < 7000 ? names : ''}`);
      return { users, result };
    });
  }

  async createSession(tokenSha256: string, user: string, expires: Date): Promise<void> {
    await this.db.pool.query('INSERT INTO web_sessions (token_sha256, user_name, expires_at, created_by) VALUES ($1, $2, $3, $4)', [
      tokenSha256,
      user,
      expires,
      this.writer,
    ]);
    if (Date.now() - this.sweptAt >= SWEEP_MS) {
      this.sweptAt = Date.now();
      await this.db.pool.query('DELETE FROM web_sessions WHERE expires_at < now()');
    }
  }

  /** The session's user and expiry (ms since the epoch), when it exists and has not expired. */
  async findSession(tokenSha256: string): Promise<{ user: string; expires: number } | undefined> {
    const r = (
      await this.db.pool.query(
        'SELECT user_name, (EXTRACT(EPOCH FROM expires_at) * 1000)::float8 AS expires FROM web_sessions WHERE token_sha256 = $1 AND expires_at > now()',
        [tokenSha256],
      )
    ).rows[0] as { user_name: string; expires: number } | undefined;
    return r && { user: r.user_name, expires: r.expires };
  }

  /** Ends one session (logout), on every node. */
  async dropSession(tokenSha256: string): Promise<void> {
    await this.db.transaction(async (c) => {
      await c.query('DELETE FROM web_sessions WHERE token_sha256 = $1', [tokenSha256]);
      await notifyChannel(c, this.db.schema, AUTH_CHANNEL, `logout:${tokenSha256}`);
    });
  }

  /**
   * Hears the other nodes' changes until the returned function is called. One LISTEN
   * connection serves every listener of this node; a listener added while it is up is
   * told `up` at once.
   */
  listen(listener: AuthListener): () => void {
    this.listeners.add(listener);
    if (this.up) listener.up();
    this.stopListening ??= listenChannel(this.db, AUTH_CHANNEL, {
      message: (m) => {
        let event: AuthEvent | undefined;
        if (m.startsWith('users:')) event = { kind: 'users', ended: m.slice(6) ? m.slice(6).split(',') : [] };
        else if (m.startsWith('logout:')) event = { kind: 'logout', tokenSha256: m.slice(7) };
        if (event) for (const l of this.listeners) l.changed(event);
      },
      up: () => {
        this.up = true;
        for (const l of this.listeners) l.up();
      },
      down: (err) => {
        this.up = false;
        for (const l of this.listeners) l.down(err);
      },
    });
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.stopListening?.();
        this.stopListening = undefined;
        this.up = false;
      }
    };
  }

  private async lock(c: pg.PoolClient): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pacs-users:${this.db.schema}`]);
  }

  private async insert(c: pg.PoolClient, u: StoredUser): Promise<void> {
    await c.query('INSERT INTO web_users (name, hash, salt, role, created) VALUES ($1, $2, $3, $4, $5)', [u.name, u.hash, u.salt, u.role, u.created]);
  }
}
