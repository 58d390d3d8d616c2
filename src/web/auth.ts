/**
 * Who is asking: a session cookie from POST /api/login, or HTTP Basic with the same
 * credentials (scripts, curl, DICOMweb clients). Sessions live in memory (a restart logs
 * everybody out) or, when several nodes share a PostgreSQL database, in its
 * `web_sessions` table (SharedSessions); they expire after 12 hours, and end when the
 * user's password changes or the user is removed. The role is looked up on every request, so a demotion applies at once.
 *
 * Every password check goes through the login throttle first (login-throttle.ts): past
 * the limit the answer is 429 without hashing. HTTP Basic is sent with every request, and
 * scrypt costs tens of milliseconds on purpose, so a verified header is remembered for a
 * minute (by its SHA-256, never the password itself).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SharedAuthTables } from '../archive/shared-auth.js';
import type { LoginThrottle } from './login-throttle.js';
import { HttpError, sendProblem } from './problem.js';
import type { Role, UserStore } from './users.js';

export const SESSION_COOKIE = 'pacs_session';
const SESSION_MS = 12 * 3600_000;
/** Live sessions kept at most; past it the oldest ends (every session needs a right password, so this is a backstop). */
const MAX_SESSIONS = 10_000;
const BASIC_CACHE_MS = 60_000;
const BASIC_CACHE_MAX = 1000;
/**
 * A throttled attempt is answered after this delay. Refusing costs no scrypt, but a client
 * that sends its next attempt as soon as it has an answer (16 of them in the issue's
 * flood) otherwise got ~400 429s a second, each still a parsed HTTP request: measured
 * here (bench/login-flood.ts, 60 CT, loaded machine) the store took 8.8 s instead of
 * 1.9 s. Held back, each such client gets one answer a second, for the price of a timer,
 * and the store was no slower (300 CT: 5.04 s against 4.85 s alone).
 */
export const THROTTLED_ANSWER_DELAY_MS = 1000;

export interface Identity {
  name: string;
  role: Role;
}

/** Where sessions live: in memory (one node), or in PostgreSQL with a cache per node (SharedSessions). */
export interface SessionStore {
  /** A new session of `user`: its token (the cookie's value). */
  create(user: string): Promise<string>;
  /** The user of a live session, else undefined. */
  user(token: string | undefined): Promise<string | undefined>;
  /** Ends one session (logout), on every node. */
  drop(token: string | undefined): Promise<void>;
  /** Forgets `user`'s sessions (new password, user removed; in PostgreSQL their rows went with the change). */
  dropUser(user: string): void;
  close?(): void;
}

export class Sessions implements SessionStore {
  private readonly byToken = new Map<string, { user: string; expires: number }>();

  async create(user: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    for (const [t, s] of this.byToken) {
      if (s.expires >= now && this.byToken.size < MAX_SESSIONS) break;
      this.byToken.delete(t); // insertion order: the oldest first
    }
    this.byToken.set(token, { user, expires: now + SESSION_MS });
    return token;
  }

  async user(token: string | undefined): Promise<string | undefined> {
    if (!token) return undefined;
    const s = this.byToken.get(token);
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.byToken.delete(token);
      return undefined;
    }
    return s.user;
  }

  async drop(token: string | undefined): Promise<void> {
    if (token) this.byToken.delete(token);
  }

  dropUser(user: string): void {
    for (const [t, s] of this.byToken) if (s.user === user) this.byToken.delete(t);
  }
}

/** A cached session is checked against the database again after this long, notifications or not. */
const SHARED_CACHE_MS = 60_000;

/**
 * Sessions of several nodes in PostgreSQL (archive/shared-auth.ts): a login on one node is
 * valid on every node at once. Each node caches the sessions it has seen, so a request
 * costs no round trip; a logout, a new password or a removed user elsewhere is notified
 * and drops the cache entries at once. While the LISTEN connection is down the cache is
 * not used (every request reads the row), and a lookup that raced a notification is not
 * cached.
 */
export class SharedSessions implements SessionStore {
  private readonly cache = new Map<string, { user: string; expires: number; checkUntil: number }>();
  private generation = 0;
  private listening = false;
  private readonly unlisten: () => void;

  constructor(private readonly tables: SharedAuthTables) {
    this.unlisten = tables.listen({
      changed: (e) => {
        this.generation++;
        if (e.kind === 'logout') this.cache.delete(e.tokenSha256);
        else for (const name of e.ended) this.dropUser(name);
      },
      up: () => {
        this.listening = true;
        this.generation++;
        this.cache.clear();
      },
      down: () => {
        this.listening = false;
        this.generation++;
        this.cache.clear();
      },
    });
  }

  private static key(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  async create(user: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const expires = Date.now() + SESSION_MS;
    await this.tables.createSession(SharedSessions.key(token), user, new Date(expires));
    return token;
  }

  async user(token: string | undefined): Promise<string | undefined> {
    if (!token || token.length > 128) return undefined;
    const key = SharedSessions.key(token);
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && this.listening && hit.checkUntil > now && hit.expires > now) return hit.user;
    this.cache.delete(key);
    const at = this.generation;
    const found = await this.tables.findSession(key);
    if (!found) return undefined;
    if (this.listening && at === this.generation) {
      if (this.cache.size >= MAX_SESSIONS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { ...found, checkUntil: now + SHARED_CACHE_MS });
    }
    return found.user;
  }

  async drop(token: string | undefined): Promise<void> {
    if (!token || token.length > 128) return;
    const key = SharedSessions.key(token);
    this.cache.delete(key);
    await this.tables.dropSession(key);
  }

  dropUser(user: string): void {
    this.generation++;
    for (const [k, s] of this.cache) if (s.user === user) this.cache.delete(k);
  }

  close(): void {
    this.unlisten();
  }
}

/** A cookie's raw value (our session tokens are base64url: nothing to decode). */
export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** The user name and password of an `Authorization: Basic` header, if it is one. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || header.length < 7 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** Too many failed logins for this user name from this address, or from this address: 429. */
export class TooManyLoginsError extends HttpError {
  override readonly name = 'TooManyLoginsError';
  constructor(
    readonly reason: 'user' | 'address',
    readonly user: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      reason === 'user'
        ? `too many failed logins for "${user}" from this address; try again in ${retryAfterSeconds} s`
        : `too many failed logins from this address; try again in ${retryAfterSeconds} s`,
      { type: 'urn:open-pacs:problem:too-many-logins', title: 'Too many failed logins', headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }
}

/** A user name or address reached the throttle's limit (reported once per limit reached, not per refused attempt). */
export type ThrottleListener = (event: { reason: 'user' | 'address'; user: string; address: string }) => void;

export class Authenticator {
  private readonly basicCache = new Map<string, { user: string; expires: number }>();

  constructor(
    readonly sessions: SessionStore,
    readonly users: UserStore,
    private readonly throttle: LoginThrottle,
    private readonly onThrottle: ThrottleListener = () => {},
    private readonly throttledDelayMs = THROTTLED_ANSWER_DELAY_MS,
  ) {
    users.onInvalidate((name) => {
      sessions.dropUser(name);
      for (const [k, v] of this.basicCache) if (v.user === name) this.basicCache.delete(k);
    });
  }

  private async refuse(reason: 'user' | 'address', user: string, retryAfterSeconds: number): Promise<never> {
    await new Promise((r) => setTimeout(r, this.throttledDelayMs));
    throw new TooManyLoginsError(reason, user, retryAfterSeconds);
  }

  /** Before a login's body is read: TooManyLoginsError (after the delay) when the address is over its limit. */
  async checkAddress(address: string): Promise<void> {
    const t = this.throttle.checkAddress(address);
    if (t.blocked) await this.refuse(t.blocked, '', t.retryAfterSeconds);
  }

  /** Checks a password, throttled: TooManyLoginsError before hashing when over the limit. */
  async login(user: string, password: string, address: string): Promise<Identity | undefined> {
    const t = this.throttle.check(user, address);
    if (t.blocked) return this.refuse(t.blocked, user, t.retryAfterSeconds);
    // Counted before hashing, taken back on success: concurrent attempts cannot overrun the limit.
    const reached = this.throttle.failed(user, address);
    const found = await this.users.verify(user, password);
    if (!found) {
      if (reached) this.onThrottle({ reason: reached, user, address });
      return undefined;
    }
    this.throttle.succeeded(user, address);
    return { name: found.name, role: found.role };
  }

  /** The user of a request: its session cookie, else its Basic credentials (throttled); undefined when neither holds. */
  async identify(req: FastifyRequest): Promise<Identity | undefined> {
    const fromCookie = await this.sessions.user(cookieValue(req, SESSION_COOKIE));
    if (fromCookie) {
      const role = await this.users.role(fromCookie);
      if (role) return { name: fromCookie, role };
    }
    const header = req.headers.authorization;
    const creds = basicCredentials(header);
    if (!creds || !header) return undefined;
    const key = createHash('sha256').update(header).digest('base64url');
    const hit = this.basicCache.get(key);
    if (hit && hit.expires > Date.now()) {
      const role = await this.users.role(hit.user);
      if (role) return { name: hit.user, role };
    }
    const who = await this.login(creds.user, creds.password, req.ip);
    if (who) {
      if (this.basicCache.size >= BASIC_CACHE_MAX) this.basicCache.delete(this.basicCache.keys().next().value!);
      this.basicCache.set(key, { user: who.name, expires: Date.now() + BASIC_CACHE_MS });
    }
    return who;
  }
}

/** 401. No WWW-Authenticate for the browser app (it would pop up the browser's own dialog). */
export function unauthorized(reply: FastifyReply, basicChallenge: boolean): FastifyReply {
  if (basicChallenge) reply.header('www-authenticate', 'Basic realm="open-pacs", charset="UTF-8"');
  return sendProblem(reply, {
    type: 'urn:open-pacs:problem:unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'log in (POST /api/login) or use HTTP Basic authentication',
  });
}

/** 403: logged in, but the route needs another role. */
export function forbidden(reply: FastifyReply, who: Identity, needed: Role): FastifyReply {
  return sendProblem(reply, {
    type: 'urn:open-pacs:problem:forbidden',
    title: 'Forbidden',
    status: 403,
    detail: `this needs the ${needed} role; "${who.name}" is a ${who.role}`,
  });
}
