// The REST API client: fetch with the session cookie; errors are problem+json.
export interface FieldIssue { field: string; message: string }
export interface Problem { title: string; status: number; detail: string; field?: string; errors?: FieldIssue[] }

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'x-requested-with': 'fetch', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => ({ title: res.statusText, status: res.status, detail: res.statusText }));
  if (!res.ok) throw new ApiError(data as Problem);
  return data as T;
}

/** The logged-in user (GET /api/me, POST /api/login). */
export interface Me { user: string; role: 'admin' | 'reader' }
export interface UserInfo { name: string; role: 'admin' | 'reader'; created: string }

export const PERMISSIONS = ['echo', 'store', 'find', 'move', 'get', 'worklist', 'mpps', 'commit'] as const;

export interface Ae {
  aeTitle: string;
  description: string;
  role: 'main' | 'workstation' | 'router' | 'client' | 'peer';
  connection: { host: string; port?: number; tls: boolean };
  permissions: string[];
  moveDestination: boolean;
  policy?: { strict: boolean; unknownCallers: string[] };
  device: string;
  local: boolean;
}

export interface EchoResult { aeTitle: string; ok: boolean; ms: number; error?: string }

export interface RoleStatus {
  role: string; aeTitle: string; host: string; port?: number; listening: boolean; error?: string;
  activeAssociations: number; instancesStored: number | null;
}
export interface Status { revision: number; uptimeSeconds: number; web: { host: string; port: number }; roles: RoleStatus[] }

export interface Job {
  id: string; kind: 'send' | 'retrieve'; label: string; state: 'running' | 'done' | 'failed';
  done: number; total: number; failed: number; failures: { instance?: string; error: string }[]; message: string;
}
