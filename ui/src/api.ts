// The REST API client: fetch with the session cookie; errors are problem+json. The API's
// shapes are the server's (src/api-types, shared): a changed API fails this app's compile.
import type { Problem } from '../../src/api-types/index.js';

export type * from '../../src/api-types/index.js';
export {
  answersQueries,
  ACTIVITY_KINDS,
  ACTIVITY_OPERATIONS,
  ACTIVITY_OUTCOMES,
  PERMISSIONS,
  SERVER_ROLES,
  SPS_STATUSES,
  UNKNOWN_CALLER_PERMISSIONS,
  VIEWER_MAX_COLS,
  VIEWER_MAX_ROWS,
} from '../../src/api-types/index.js';

/**
 * A failed request to our server, REST or DICOMweb: the server's problem details (status,
 * detail, the fields that failed) and, for DICOMweb, the URL asked for.
 */
export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    readonly url?: string,
  ) {
    super(url === undefined ? problem.detail : `${problem.status} ${problem.detail} (${url})`);
  }
}

/** The error of a response that is not ok: its problem+json body, or its status line when it has none. */
export function problemOf(res: Response, body: unknown, url?: string): ApiError {
  const p = body as Partial<Problem> | undefined;
  if (p && typeof p === 'object' && typeof p.detail === 'string') {
    return new ApiError(
      { type: 'about:blank', title: res.statusText, ...p, status: typeof p.status === 'number' ? p.status : res.status, detail: p.detail },
      url,
    );
  }
  return new ApiError({ type: 'about:blank', title: res.statusText, status: res.status, detail: res.statusText || `HTTP ${res.status}` }, url);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'x-requested-with': 'fetch', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (res.status === 204) return undefined as T;
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw problemOf(res, data);
  return data as T;
}
