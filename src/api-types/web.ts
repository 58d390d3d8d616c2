/**
 * Shapes of the web server's REST API outside the registry and the router: errors,
 * login, users, status, background jobs, remote query. No imports (see registry.ts).
 */
import type { ServerRole } from './registry.js';

/** A problem with one field (dotted path, relative to what was validated). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error of the API is answered. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The first field that failed. */
  field?: string;
  errors?: FieldIssue[];
  /** Where in an expression the first problem is (router rule conditions). */
  line?: number;
  column?: number;
}

export const USER_ROLES = ['admin', 'reader'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The logged-in user (GET /api/me, POST /api/login). */
export interface Me {
  user: string;
  role: UserRole;
}

/** A user as listed (GET /api/users): no hash. */
export interface UserInfo {
  name: string;
  role: UserRole;
  created: string;
}

/** One server role in GET /api/status. */
export interface RoleStatus {
  role: ServerRole;
  aeTitle: string;
  host: string;
  port: number | undefined;
  listening: boolean;
  error?: string;
  activeAssociations: number;
  /** null when the role's archive is not open. */
  instancesStored: number | null;
}

/** One add-in (registry `plugins`) in GET /api/status. */
export interface PluginStatus {
  /** Its name (routes under /api/plugins/NAME); the module path when it failed before declaring one. */
  name: string;
  module: string;
  /** loaded: running; failed: not loaded (see loadError); disabled: listed with enabled false. */
  state: 'loaded' | 'failed' | 'disabled';
  loadError?: string;
  /** Calls into it that threw or timed out since the start, and stored-instance events dropped (queue full). */
  errorCount: number;
  lastError?: { at: string; where: string; message: string };
  /** Stored-instance events waiting for it. */
  queued: number;
  /** What it registered: DIMSE SOP classes per role, route count, destination kinds. */
  provides: { sopClasses: { role: ServerRole; sopClassUid: string }[]; routes: number; destinationKinds: string[]; storedInstances: boolean };
}

/** GET /api/status. */
export interface Status {
  revision: number;
  uptimeSeconds: number;
  web: { host: string; port: number; listening: boolean };
  roles: RoleStatus[];
  plugins: PluginStatus[];
}

/** A background send or retrieve (POST /api/studies/send, /api/remote/{aet}/retrieve; GET /api/jobs/{id}). */
export interface Job {
  id: string;
  kind: 'send' | 'retrieve' | 'prefetch';
  label: string;
  state: 'running' | 'done' | 'failed';
  /** Instances done (succeeded or failed) and expected; total 0 until known. */
  done: number;
  total: number;
  failed: number;
  /** Per-instance failures, the first 100. */
  failures: { instance?: string; error: string }[];
  message: string;
  startedAt: string;
  finishedAt?: string;
  /** The node running it, when several nodes share a PostgreSQL database. */
  node?: string;
}

/** The archives whose DICOMweb the web server serves: /dicomweb (Main Server) and /workstation/dicomweb. */
export type DicomWebArchive = 'main' | 'workstation';

/** One attribute of a DICOM JSON data set (PS3.18 F.2); values stay unknown until read. */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJson = Record<string, DicomJsonAttribute>;

/** POST /api/remote/{aet}/find: a C-FIND at a peer. */
export interface RemoteFindResult {
  status: number;
  errorComment?: string;
  matches: DicomJson[];
  /** True when C-CANCEL was sent at the limit. */
  truncated: boolean;
}

/** One check of GET /api/ready. */
export interface ReadinessCheck {
  /** `database:main`, `storage:main`, `listening:router`, `web`. */
  name: string;
  ok: boolean;
  /** Why it failed (absent when ok). */
  detail?: string;
}

/** GET /api/ready: 200 when every check passes, else 503 with the same body. GET /api/health answers `{ status: 'ok' }`. */
export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

/** A user's own window preset for the viewer (GET/PUT /api/me/window-presets). */
export interface UserWindowPreset {
  label: string;
  center: number;
  width: number;
  /** The modality it is for (CT, MR, ...); none: every modality. */
  modality?: string;
}

/** GET /api/me/window-presets answer and PUT body. */
export interface WindowPresetsBody {
  presets: UserWindowPreset[];
}

/** GET /api/workstation/usage: the Workstation Server archive's stored files against its cap (limits.workstation.maxBytes). */
export interface WorkstationUsage {
  bytes: number;
  instances: number;
  maxBytes: number;
}

/** The largest viewport grid of the 2D viewer (and of a hanging protocol): rows, columns. */
export const VIEWER_MAX_ROWS = 4;
export const VIEWER_MAX_COLS = 5;

/**
 * A pattern over one attribute, case-insensitive: `*` any run of characters, `?` one
 * character, `|` between alternatives ("*T2*|*FLAIR*"); the whole value must match.
 */
export type HangingPattern = string;

/** Which series a viewport takes: every field given must match (series attributes from QIDO-RS). */
export interface HangingSeriesMatch {
  description?: HangingPattern;
  modality?: HangingPattern;
  bodyPart?: HangingPattern;
  /** Series whose description matches this are passed over ("*T2*" but not "*FLAIR*"). */
  excludeDescription?: HangingPattern;
}

/** One viewport of a protocol, in reading order (left to right, then down). */
export interface HangingViewport {
  /** The study opened ('current', the default) or the patient's newest study of an earlier date and the same modality ('prior'). */
  study?: 'current' | 'prior';
  series?: HangingSeriesMatch;
  /** A prior's series like the one shown in viewport N (0-based): the same description, else the same modality. */
  sameAsViewport?: number;
}

/** A hanging protocol: when it applies (every field given matches the current study), the layout, and what goes where. */
export interface HangingProtocol {
  name: string;
  match: {
    /** Matches when any series of the study has a matching modality. */
    modality?: HangingPattern;
    bodyPart?: HangingPattern;
    studyDescription?: HangingPattern;
    /** Matches when any series of the study has a matching description. */
    seriesDescription?: HangingPattern;
  };
  rows: number;
  cols: number;
  viewports: HangingViewport[];
}

/** GET /api/hanging-protocols answer and PUT body: the administrators' protocols, tried before the built-in ones. */
export interface HangingProtocolsBody {
  protocols: HangingProtocol[];
}
