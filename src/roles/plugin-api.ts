/**
 * The add-in (plug-in) interface, version 1 (docs/plugins.md). This file is the contract
 * a plug-in is written against: what its module exports and the host API its factory gets.
 * Deliberately narrow: a plug-in sees decoded data sets, instance summaries, read streams
 * and plain request objects, never the archive, the connection or the HTTP framework, so
 * the server can change beneath it without breaking it, and every call into it can be
 * timed out and counted (plugin-host.ts).
 */
import type { Readable } from 'node:stream';
import type { ServerRole } from '../config/index.js';
import type { DicomJsonObject } from '../dicom/dataset-json.js';
import type { Status } from '../dicom/status.js';

/** The interface version this server implements; a module declaring another one is refused at load. */
export const PLUGIN_API_VERSION = 1;

/** What a plug-in module exports, as `default` or as `plugin`. */
export interface PluginModule {
  apiVersion: typeof PLUGIN_API_VERSION;
  /** Lower-case letters, digits, hyphens (1-32, a letter first): routes go under /api/plugins/NAME. */
  name: string;
  /**
   * Called once at start with the host API and the registry entry's `options`. Everything is
   * registered here (registering later throws). Throwing (or not settling in time) marks
   * the plug-in failed; nothing it registered is used.
   */
  create(host: PluginHost, options: Readonly<Record<string, unknown>>): void | PluginInstance | Promise<void | PluginInstance>;
}

/** What create() may return: called when the server stops. */
export interface PluginInstance {
  close?(): void | Promise<void>;
}

export interface PluginLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PluginHost {
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  /** The name it runs under (the module's, or the registry entry's override). */
  readonly name: string;
  /** The process log, every line tagged with `plugin: NAME`. */
  readonly log: PluginLog;
  /** A directory of its own (`DATA/plugins/NAME`, created owner-only). */
  readonly dataDir: string;
  /** DIMSE service class providers, by SOP Class UID, on one server role. */
  readonly dimse: { register(provider: PluginServiceProvider): void };
  /** Called for each instance stored on the given roles (default: main), after the durable commit. */
  onInstanceStored(listener: StoredInstanceListener, opts?: { roles?: readonly ServerRole[] }): void;
  /** REST routes under /api/plugins/NAME. */
  readonly routes: { add(route: PluginRoute): void };
  /** Router destinations of its own kind (see PluginDestinationKind). */
  readonly router: { addDestinationKind(kind: PluginDestinationKind): void };
  /** Data set coding for DIMSE handlers and stored files. */
  readonly dicom: PluginDicomTools;
}

export interface PluginDicomTools {
  /** A data set (as DIMSE carries it) to DICOM JSON (PS3.18 F); binary values up to 64 KiB as InlineBinary, longer ones without a value. */
  decode(bytes: Uint8Array, transferSyntaxUid: string): DicomJsonObject;
  encode(json: DicomJsonObject, transferSyntaxUid: string): Buffer;
  /** A new UID under this server's root. */
  newUid(): string;
  /** The DIMSE status codes by name (src/dicom/status.ts): `Status.Success`, `Status.NoSuchSopInstance`, ... */
  readonly status: typeof Status;
}

// ---------------------------------------------------------------------------
// DIMSE

/** The DIMSE-N and C-ECHO/C-FIND requests a plug-in can answer (C-STORE stays the archive's). */
export const PLUGIN_DIMSE_COMMANDS = ['C-ECHO', 'C-FIND', 'N-EVENT-REPORT', 'N-GET', 'N-SET', 'N-ACTION', 'N-CREATE', 'N-DELETE'] as const;
export type PluginDimseCommand = (typeof PLUGIN_DIMSE_COMMANDS)[number];

export interface PluginDimseRequest {
  command: PluginDimseCommand;
  affectedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopClassUid?: string;
  requestedSopInstanceUid?: string;
  actionTypeId?: number;
  eventTypeId?: number;
  attributeIdentifierList?: number[];
  /** The request's data set, decoded (binary values over 64 KiB, such as an image box's pixels, without their value); absent when it has none. */
  dataset?: DicomJsonObject;
  /** The presentation context's abstract syntax (a meta SOP class for Print). */
  abstractSyntax: string;
  transferSyntax: string;
  association: { callingAeTitle: string; calledAeTitle: string; peerAddress?: string };
  /** Aborted when the association ends or the peer cancels. */
  signal: AbortSignal;
}

export interface PluginDimseResponse {
  /** A status of src/dicom/status.ts (PS3.7 Annex C). */
  status: number;
  errorComment?: string;
  affectedSopInstanceUid?: string;
  /** Echoed in N-ACTION / N-EVENT-REPORT responses. */
  actionTypeId?: number;
  eventTypeId?: number;
  /** The response's data set, encoded in the context's transfer syntax by the host. */
  dataset?: DicomJsonObject;
}

export type PluginDimseHandler = (rq: PluginDimseRequest) => PluginDimseResponse | Promise<PluginDimseResponse>;

export interface PluginServiceProvider {
  /** The server role whose listener gets it. */
  role: ServerRole;
  /** Presentation contexts it accepts (abstract syntaxes). A SOP class the role already serves is taken over. */
  sopClasses: readonly string[];
  /** Meta SOP classes among sopClasses, with the SOP classes used on them (Print Management). */
  metaSopClasses?: Readonly<Record<string, readonly string[]>>;
  handlers: Partial<Record<PluginDimseCommand, PluginDimseHandler>>;
}

// ---------------------------------------------------------------------------
// Stored instances

export interface StoredInstance {
  /** The role that stored it and its AE title. */
  role: ServerRole;
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientId: string | null;
  patientName: string | null;
  studyDate: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  modality: string | null;
  seriesNumber: number | null;
  instanceNumber: number | null;
  transferSyntaxUid: string;
  /** Bytes of the stored Part 10 file. */
  fileSize: number;
  /** ISO 8601 (UTC). */
  receivedAt: string;
  callingAeTitle: string;
  calledAeTitle: string | null;
  /** The stored Part 10 file (meta header and data set); destroyed by the host when the call ends. */
  openFile(): Readable;
  /** Every non-bulk attribute, as DICOM JSON. */
  attributes(): DicomJsonObject;
}

/** Resolve when done: the next event waits (events are delivered in order, one at a time per plug-in). */
export type StoredInstanceListener = (instance: StoredInstance) => void | Promise<void>;

// ---------------------------------------------------------------------------
// REST

export interface PluginRequest {
  method: string;
  /** Path parameters of `path` (`:id`). */
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | string[] | undefined>>;
  /** The JSON body (at most the server's body limit), or undefined. */
  body: unknown;
  /** The user who called (absent on `public` routes). */
  user?: { name: string; role: string };
}

/** A reply: `body` is encoded as JSON. A plain value returned instead is the body with status 200. */
export interface PluginReply {
  status: number;
  body?: unknown;
}

export interface PluginRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under /api/plugins/NAME: '' or '/...', with `:param` segments. */
  path: string;
  /** Who may call it (src/web/route-access.ts); default admin. */
  access?: 'public' | 'read' | 'admin';
  handler(rq: PluginRequest): unknown;
}

// ---------------------------------------------------------------------------
// Router destinations

/**
 * A kind of router destination: a rule whose destination is `@NAME` (NAME: the plug-in's
 * name) hands each matching instance to send(); resolving is delivery, throwing or
 * timing out is a failed attempt, retried with the router's backoff like a DICOM one.
 */
export interface PluginDestinationKind {
  send(instance: StoredInstance): void | Promise<void>;
}
