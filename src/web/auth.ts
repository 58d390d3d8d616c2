/**
 * Authentication for /api: a session cookie from POST /api/login, or HTTP Basic with
 * the same credentials (for scripts and curl). Sessions live in memory (a restart logs
 * everybody out) and expire after 12 hours.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserStore } from './users.js';

export const SESSION_COOKIE = 'pacs_session';
const SESSION_MS = 12 * 3600_000;

export class Sessions {
  private readonly byToken = new Map<string, { user: string; expires: number }>();

  create(user: string): string {
    const token = randomBytes(32).toString('base64url');
    this.byToken.set(token, { user, expires: Date.now() + SESSION_MS });
    return token;
  }

  user(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const s = this.byToken.get(token);
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.byToken.delete(token);
      return undefined;
    }
    return s.user;
  }

  drop(token: string | undefined): void {
    if (token) this.byToken.delete(token);
  }
}

export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
}

export const clearedCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The authenticated user of a request (cookie first, then Basic), or undefined. */
export async function authenticate(req: FastifyRequest, sessions: Sessions, users: UserStore): Promise<string | undefined> {
  const fromCookie = sessions.user(cookieValue(req, SESSION_COOKIE));
  if (fromCookie) return fromCookie;
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return users.verify(decoded.slice(0, i), decoded.slice(i + 1));
}

export function unauthorized(reply: FastifyReply, basic: boolean): FastifyReply {
  // No WWW-Authenticate for the browser app (it would pop up the browser's own dialog).
  if (basic) reply.header('www-authenticate', 'Basic realm="open-pacs", charset="UTF-8"');
  return reply
    .code(401)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'log in (POST /api/login) or use HTTP Basic authentication' });
}
