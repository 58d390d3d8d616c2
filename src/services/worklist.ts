/**
 * Basic Worklist Management Service Class SCP (PS3.4 Annex K): Modality Worklist
 * Information Model - FIND over the scheduled procedure steps of the WorklistStore.
 *
 * Matching (K.6.1.2, C.2.2.2) is the one matcher of src/dicom/matching.ts, sequence
 * matching included, so the Scheduled Procedure Step Sequence keys (Scheduled Station
 * AE Title, Modality, Start Date/Time, Performing Physician...) match inside its items.
 * A Start Date range combined with a Start Time range is one date-time range
 * (C.2.2.2.5.1). Steps already COMPLETED, DISCONTINUED or CANCELED are left out unless
 * the query asks for a Scheduled Procedure Step Status. The response holds exactly the
 * requested keys (empty when the item has no value); a sequence key without sub-keys
 * returns the whole sequence.
 */
import { deflateRawSync } from 'node:zlib';
import { QueryBudget, QueryLimitError } from '../archive/query.js';
import { FINAL_SPS_STATUSES, SPS_STATUSES, type WorklistEntry, type WorklistFilter, type WorklistStore } from '../archive/worklist-store.js';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError } from '../dimse/errors.js';
import type { RequestHandler, ServiceClassProvider } from '../dimse/service.js';
import { Dataset } from '../dicom/dataset.js';
import { jsonToDataset, type DicomJsonObject } from '../dicom/dataset-json.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import {
  compileKeys,
  datasetTarget,
  InvalidQueryKeyError,
  matchAll,
  temporalBound,
  type MatchOptions,
  type MatchTarget,
  type QueryKey,
} from '../dicom/matching.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, resolveTransferSyntax } from '../dicom/transfer-syntax.js';
import { queryCost, queryLimitFailure, type QueryLimitsSource } from './query-limits.js';
import type { AuditRecorder } from '../audit/index.js';

export const MODALITY_WORKLIST_FIND = '1.2.840.10008.5.1.4.31';

export const W = {
  SpecificCharacterSet: 0x00080005,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  ReferringPhysicianName: 0x00080090,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  StudyInstanceUID: 0x0020000d,
  RequestedProcedureDescription: 0x00321060,
  ScheduledStationAETitle: 0x00400001,
  ScheduledProcedureStepStartDate: 0x00400002,
  ScheduledProcedureStepStartTime: 0x00400003,
  ScheduledPerformingPhysicianName: 0x00400006,
  ScheduledProcedureStepDescription: 0x00400007,
  ScheduledProcedureStepID: 0x00400009,
  ScheduledStationName: 0x00400010,
  ScheduledProcedureStepLocation: 0x00400011,
  ScheduledProcedureStepStatus: 0x00400020,
  ScheduledProcedureStepSequence: 0x00400100,
  RequestedProcedureID: 0x00401001,
} as const;

const hex = (tag: number): string => tag.toString(16).toUpperCase().padStart(8, '0');

/** The Modality Worklist item (PS3.4 Table K.6-1) of one scheduled procedure step, as DICOM JSON. */
export function worklistItemJson(e: WorklistEntry): DicomJsonObject {
  const out: DicomJsonObject = {};
  const put = (obj: DicomJsonObject, tag: number, vr: string, v: string | undefined) => {
    if (v === undefined || v === '') return;
    obj[hex(tag)] = { vr, Value: [vr === 'PN' ? { Alphabetic: v } : v] };
  };
  put(out, W.AccessionNumber, 'SH', e.accessionNumber);
  put(out, W.ReferringPhysicianName, 'PN', e.referringPhysicianName);
  put(out, W.PatientName, 'PN', e.patientName);
  put(out, W.PatientID, 'LO', e.patientId);
  put(out, W.PatientBirthDate, 'DA', e.patientBirthDate);
  put(out, W.PatientSex, 'CS', e.patientSex);
  put(out, W.StudyInstanceUID, 'UI', e.studyInstanceUid);
  put(out, W.RequestedProcedureDescription, 'LO', e.requestedProcedureDescription);
  put(out, W.RequestedProcedureID, 'SH', e.requestedProcedureId);
  const sps: DicomJsonObject = {};
  put(sps, W.Modality, 'CS', e.modality);
  put(sps, W.ScheduledStationAETitle, 'AE', e.stationAeTitle);
  put(sps, W.ScheduledProcedureStepStartDate, 'DA', e.startDate);
  put(sps, W.ScheduledProcedureStepStartTime, 'TM', e.startTime);
  put(sps, W.ScheduledPerformingPhysicianName, 'PN', e.performingPhysicianName);
  put(sps, W.ScheduledProcedureStepDescription, 'LO', e.spsDescription);
  put(sps, W.ScheduledProcedureStepID, 'SH', e.spsId);
  put(sps, W.ScheduledStationName, 'SH', e.stationName);
  put(sps, W.ScheduledProcedureStepLocation, 'SH', e.location);
  put(sps, W.ScheduledProcedureStepStatus, 'CS', e.status);
  out[hex(W.ScheduledProcedureStepSequence)] = { vr: 'SQ', Value: [sps] };
  return out;
}

export function worklistItem(e: WorklistEntry): Dataset {
  return jsonToDataset(worklistItemJson(e));
}

// ---- matching ----

interface CompiledQuery {
  keys: QueryKey[];
  identifier: Dataset;
  /** The SPS Start Date and Time keys when both are ranges: matched as one date-time range. */
  combined?: { date: QueryKey; time: QueryKey };
  /** SQL pre-filter (a superset of the matches). */
  filter: WorklistFilter;
}

const isRange = (k: QueryKey | undefined): k is QueryKey => k?.matcher.kind === 'range' && k.matcher.ranges.length === 1;

/** Parses an identifier; 0xC000 for one that cannot be parsed or matched, 0xA900 for none at all. */
export function compileWorklistQuery(bytes: Buffer | undefined, transferSyntaxUid: string, opts: MatchOptions = {}): CompiledQuery {
  if (!bytes || bytes.length === 0) throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, 'no identifier');
  let identifier: Dataset;
  try {
    identifier = readDataset(bytes, transferSyntaxUid);
  } catch (err) {
    throw new DimseServiceError(Status.CannotUnderstand, `identifier cannot be parsed: ${(err as Error).message}`);
  }
  let keys: QueryKey[];
  try {
    keys = compileKeys(identifier, opts).filter((k) => k.tag !== 0x00080052);
  } catch (err) {
    if (err instanceof InvalidQueryKeyError) throw new DimseServiceError(Status.CannotUnderstand, err.message, [err.tag]);
    throw err;
  }
  const filter: WorklistFilter = {};
  const spsKey = keys.find((k) => k.tag === W.ScheduledProcedureStepSequence);
  const sub = spsKey?.matcher.kind === 'sequence' ? spsKey.matcher.keys : [];
  const statusKey = sub.find((k) => k.tag === W.ScheduledProcedureStepStatus);
  if (!statusKey) filter.statuses = SPS_STATUSES.filter((s) => !FINAL_SPS_STATUSES.includes(s));
  const single = (tag: number) => {
    const m = sub.find((k) => k.tag === tag)?.matcher;
    return m?.kind === 'single' && m.values.length === 1 ? m.values[0] : undefined;
  };
  filter.modality = single(W.Modality);
  filter.stationAeTitle = single(W.ScheduledStationAETitle);
  const date = sub.find((k) => k.tag === W.ScheduledProcedureStepStartDate);
  const time = sub.find((k) => k.tag === W.ScheduledProcedureStepStartTime);
  if (isRange(date) && date.matcher.kind === 'range') {
    filter.fromDate = date.matcher.ranges[0].lower;
    filter.toDate = date.matcher.ranges[0].upper;
  }
  let combined: CompiledQuery['combined'];
  if (spsKey && isRange(date) && isRange(time)) {
    combined = { date, time };
    // The two keys are matched together, below; the sequence matcher keeps the others.
    const rest = sub.filter((k) => k !== date && k !== time);
    spsKey.matcher = rest.length ? { kind: 'sequence', keys: rest } : { kind: 'universal' };
  }
  return { keys, identifier, combined, filter };
}

/** C.2.2.2.5.1: a date range and a time range as one range of date-times. */
function combinedMatch(c: NonNullable<CompiledQuery['combined']>, item: MatchTarget): boolean {
  const d = item.values(W.ScheduledProcedureStepStartDate)?.[0];
  const t = item.values(W.ScheduledProcedureStepStartTime)?.[0] ?? '';
  if (!d) return false;
  const dr = c.date.matcher.kind === 'range' ? c.date.matcher.ranges[0] : {};
  const tr = c.time.matcher.kind === 'range' ? c.time.matcher.ranges[0] : {};
  const lo = `${temporalBound(d, 'DA', 'lower')}${temporalBound(t || '00', 'TM', 'lower')}`;
  const hi = `${temporalBound(d, 'DA', 'upper')}${temporalBound(t || '23', 'TM', 'upper')}`;
  const from = dr.lower ? `${dr.lower}${tr.lower ?? '000000.000000'}` : undefined;
  const to = dr.upper ? `${dr.upper}${tr.upper ?? '235959.999999'}` : undefined;
  // With one open date end, the time range bounds only the closed end.
  return (from === undefined || lo >= from) && (to === undefined || hi <= to);
}

function matches(q: CompiledQuery, item: Dataset, opts: MatchOptions): boolean {
  const target = datasetTarget(item);
  if (!matchAll(q.keys, target, opts)) return false;
  if (!q.combined) return true;
  const spsKey = q.keys.find((k) => k.tag === W.ScheduledProcedureStepSequence)!;
  const items = target.items(W.ScheduledProcedureStepSequence) ?? [];
  return items.some((i) => combinedMatch(q.combined!, i) && (spsKey.matcher.kind !== 'sequence' || matchAll(spsKey.matcher.keys, i, opts)));
}

// ---- the response ----

/** The requested keys with the item's values (empty elements where it has none). */
function project(keys: readonly QueryKey[], from: Dataset, out: Dataset, q: CompiledQuery, opts: MatchOptions): void {
  for (const k of keys) {
    const el = from.get(k.tag);
    if (k.vr === 'SQ') {
      if (!el?.items) {
        out.put({ tag: k.tag, vr: 'SQ', length: 0, items: [] });
        continue;
      }
      if (!k.items?.length) {
        out.put({ ...el, items: el.items.map((i) => copyItem(i, out)) });
        continue;
      }
      // Only the items that matched, each with the requested sub-keys.
      const selected =
        k.matcher.kind === 'sequence' || (k.tag === W.ScheduledProcedureStepSequence && q.combined)
          ? el.items.filter((i) => {
              const t = datasetTarget(i);
              return (
                (k.matcher.kind !== 'sequence' || matchAll(k.matcher.keys, t, opts)) &&
                (k.tag !== W.ScheduledProcedureStepSequence || !q.combined || combinedMatch(q.combined, t))
              );
            })
          : el.items;
      const items = selected.map((i) => {
        const d = new Dataset(out);
        project(k.items!, i, d, q, opts);
        return d;
      });
      out.put({ tag: k.tag, vr: 'SQ', length: 0, items });
      continue;
    }
    if (el && !el.items) out.put({ ...el });
    else out.put({ tag: k.tag, vr: k.vr, length: 0, value: new Uint8Array(0) });
  }
}

function copyItem(item: Dataset, parent: Dataset): Dataset {
  const d = new Dataset(parent);
  for (const el of item.values()) d.put(el.items ? { ...el, items: el.items.map((i) => copyItem(i, d)) } : { ...el });
  return d;
}

export function worklistResponse(q: CompiledQuery, item: Dataset, opts: MatchOptions = {}): Dataset {
  const out = new Dataset();
  project(q.keys, item, out, q, opts);
  const charset = item.get(W.SpecificCharacterSet);
  if (charset) out.put({ ...charset });
  else if (q.identifier.has(W.SpecificCharacterSet)) out.put({ ...q.identifier.get(W.SpecificCharacterSet)! });
  return out;
}

function encode(ds: Dataset, transferSyntaxUid: string): Buffer {
  const ts = resolveTransferSyntax(transferSyntaxUid);
  if (ts.deflated) return deflateRawSync(writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN));
  return writeDataset(ds, transferSyntaxUid);
}

/**
 * The matching items of a query, in scheduled order, streamed: the steps are read page by
 * page and matched in short slices (the event loop runs between them); past the budget's
 * limits, QueryLimitError.
 */
export async function* findWorklistItems(store: WorklistStore, q: CompiledQuery, opts: MatchOptions & { budget?: QueryBudget } = {}): AsyncGenerator<Dataset> {
  const budget = opts.budget ?? new QueryBudget();
  for await (const page of store.pages(q.filter)) {
    for (const entry of page) {
      if (budget.due()) await budget.pause();
      budget.examine(1);
      const item = worklistItem(entry);
      if (matches(q, item, opts)) {
        budget.suspend();
        yield worklistResponse(q, item, opts);
        budget.resume();
      }
    }
    budget.checkTime();
    if (budget.due()) await budget.pause();
  }
}

export interface WorklistServiceOptions extends MatchOptions {
  /** The cost limits of one query (limits.query), read per query; default none. */
  queryLimits?: QueryLimitsSource;
  /** Told of each worklist query (IHE ATNA: Query). */
  audit?: AuditRecorder;
}

export function worklistService(store: WorklistStore | (() => Promise<WorklistStore>), opts: WorklistServiceOptions = {}): ServiceClassProvider {
  const getStore = typeof store === 'function' ? store : () => Promise.resolve(store);
  const find: RequestHandler = async (ctx, dataset) => {
    const q = compileWorklistQuery(dataset, ctx.transferSyntax, opts);
    opts.audit?.record({
      kind: 'query',
      via: 'C-FIND',
      requestor: { aeTitle: ctx.association.callingAeTitle, address: ctx.association.peerAddress },
      responder: ctx.association.calledAeTitle,
      sopClassUid: ctx.abstractSyntax,
      request: dataset ?? Buffer.alloc(0),
      transferSyntaxUid: ctx.transferSyntax,
    });
    const budget = new QueryBudget(queryCost(opts.queryLimits));
    try {
      for await (const item of findWorklistItems(await getStore(), q, { ...opts, budget })) {
        if (ctx.signal.aborted) break;
        await ctx.sendResponse({ status: Status.Pending, dataset: encode(item, ctx.transferSyntax) });
      }
    } catch (err) {
      if (err instanceof DimseServiceError) throw err;
      if (err instanceof QueryLimitError) throw queryLimitFailure(err);
      throw new DimseServiceError(Status.OutOfResources, `worklist query failed: ${(err as Error).message}`);
    }
    return { status: ctx.signal.aborted ? Status.Cancel : Status.Success };
  };
  return {
    name: 'modality-worklist',
    sopClasses: [MODALITY_WORKLIST_FIND],
    handlers: { [CommandField.C_FIND_RQ]: find },
  };
}
