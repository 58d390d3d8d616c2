/**
 * Orders from a RIS as HL7 v2 (ORM^O01, OMI^O23) on the worklist's scheduled procedure
 * steps: ORC-1 NW creates, XO changes, CA cancels (CANCELED) and DC discontinues
 * (DISCONTINUED) them. Each order group (ORC with its TQ1, OBR, ZDS and IPC segments) is one
 * step, or one per IPC in an OMI. Every step of the message is mapped and checked against
 * the worklist before any is written: a message with an error changes nothing.
 *
 * The field mapping (README, "HL7 intake"): IPC fields first (OMI), then the IHE Scheduled
 * Workflow places in the ORM (OBR-18 accession, OBR-19 requested procedure ID, OBR-20 step
 * ID, OBR-24 modality, ZDS-1 Study Instance UID), then the order's own numbers.
 */
import { FINAL_SPS_STATUSES, worklistEntrySchema, worklistPatchSchema, type SpsStatus, type WorklistStore } from '../archive/worklist-store.js';
import type { z } from 'zod';
import { issuesOf } from '../config/index.js';
import { Hl7Error, Hl7ErrorCode, type Hl7Location } from '../hl7/errors.js';
import type { Hl7Message } from '../hl7/message.js';
import { dateTime, doctorName, first, personName, placed, read, sex, type Located, type Placed } from './hl7-fields.js';

/** Worklist entry fields and where each was read. */
type Fields = Map<string, Located>;

type Step =
  | { kind: 'create'; spsId: Located; fields: Fields }
  | { kind: 'update'; spsId: Located; fields: Fields }
  | { kind: 'cancel'; spsId: Located; status: 'CANCELED' | 'DISCONTINUED' };

interface OrderGroup {
  orc: Placed;
  obr?: Placed;
  tq1?: Placed;
  zds?: Placed;
  ipcs: Placed[];
}

const ORDER_CONTROLS = ['NW', 'XO', 'CA', 'DC'];
/** A step in one of these has begun: CA (cancel before it starts) no longer applies, DC does. */
const BEGUN: readonly SpsStatus[] = ['STARTED', 'DEPARTED'];

function groups(msg: Hl7Message): { pid?: Placed; pv1?: Placed; orders: OrderGroup[] } {
  let pid: Placed | undefined;
  let pv1: Placed | undefined;
  const orders: OrderGroup[] = [];
  for (const p of placed(msg.segments)) {
    const current = orders[orders.length - 1];
    switch (p.seg.name) {
      case 'PID':
        pid ??= p;
        break;
      case 'PV1':
        pv1 ??= p;
        break;
      case 'ORC':
        orders.push({ orc: p, ipcs: [] });
        break;
      case 'OBR':
      case 'TQ1':
      case 'ZDS':
      case 'IPC': {
        if (!current) throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: p.seg.name, sequence: p.sequence }, `${p.seg.name} before any ORC`);
        if (p.seg.name === 'IPC') current.ipcs.push(p);
        else {
          const key = p.seg.name.toLowerCase() as 'obr' | 'tq1' | 'zds';
          current[key] ??= p;
        }
        break;
      }
    }
  }
  return { pid, pv1, orders };
}

/** The worklist fields of one step (`ipc` for one IPC of an OMI order). */
function stepFields(pid: Placed | undefined, pv1: Placed | undefined, g: OrderGroup, ipc: Placed | undefined): Fields {
  const f: Fields = new Map();
  const set = (k: string, v: Located | undefined) => v && f.set(k, v);
  set('patientId', read(pid, 3));
  set('patientName', personName(pid, 5));
  const birth = read(pid, 7);
  if (birth) set('patientBirthDate', birth.value === null ? birth : { ...birth, value: dateTime(birth).date });
  const sx = read(pid, 8);
  if (sx) set('patientSex', sx.value === null ? sx : { ...sx, value: sex(sx) ?? null });
  set('referringPhysicianName', first(doctorName(pv1, 8), doctorName(g.obr, 16)));
  set('accessionNumber', first(read(ipc, 1), read(g.obr, 18), read(g.orc, 3), read(g.obr, 3)));
  set('requestedProcedureId', first(read(ipc, 2), read(g.obr, 19)));
  set('requestedProcedureDescription', first(read(g.obr, 44, 2), read(g.obr, 4, 2)));
  set('spsDescription', first(read(ipc, 6, 2), read(g.obr, 4, 2)));
  set('studyInstanceUid', first(read(ipc, 3), read(g.zds, 1)));
  set('modality', first(read(ipc, 5), read(g.obr, 24)));
  set('stationAeTitle', first(read(ipc, 9), read(g.obr, 21)));
  set('stationName', read(ipc, 7));
  set('location', read(ipc, 8));
  const start = first(read(g.tq1, 7), read(g.orc, 7, 4), read(g.obr, 27, 4), read(g.obr, 36));
  if (start && start.value !== null) {
    const { date, time } = dateTime(start);
    f.set('startDate', { ...start, value: date });
    if (time !== undefined) f.set('startTime', { ...start, value: time });
  }
  return f;
}

/** The step ID: IPC-4, else OBR-20 (filler field 1, IHE), else the placer order number ORC-2. */
function stepId(g: OrderGroup, ipc: Placed | undefined): Located {
  const id = first(read(ipc, 4), read(g.obr, 20), read(g.orc, 2));
  if (!id || id.value === null) {
    throw new Hl7Error(
      Hl7ErrorCode.RequiredFieldMissing,
      ipc ? { segment: 'IPC', sequence: ipc.sequence, field: 4 } : { segment: 'ORC', sequence: g.orc.sequence, field: 2 },
      'no Scheduled Procedure Step ID (IPC-4, OBR-20 or the placer order number ORC-2)',
    );
  }
  return id;
}

const REQUIRED: [string, Hl7Location, string][] = [
  ['patientId', { segment: 'PID', field: 3 }, 'patient ID is required'],
  ['patientName', { segment: 'PID', field: 5 }, 'patient name is required'],
  ['modality', { segment: 'OBR', field: 24 }, 'modality is required (OBR-24, or IPC-5 in an OMI)'],
  ['startDate', { segment: 'TQ1', field: 7 }, 'scheduled start is required (TQ1-7, ORC-7.4, OBR-27.4 or OBR-36)'],
];

/** The steps of an ORM^O01 or OMI^O23, checked field by field. */
export function orderSteps(msg: Hl7Message): Step[] {
  const { pid, pv1, orders } = groups(msg);
  if (orders.length === 0) throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'ORC' }, 'the message has no ORC segment');
  const steps: Step[] = [];
  for (const g of orders) {
    const control = g.orc.seg.value(1).trim();
    const at = { segment: 'ORC', sequence: g.orc.sequence, field: 1 };
    if (!control) throw new Hl7Error(Hl7ErrorCode.RequiredFieldMissing, at, 'order control is required');
    if (!ORDER_CONTROLS.includes(control)) {
      throw new Hl7Error(Hl7ErrorCode.TableValueNotFound, at, `order control "${control}" is not supported (NW, XO, CA, DC)`);
    }
    const ipcs: (Placed | undefined)[] = g.ipcs.length ? g.ipcs : [undefined];
    for (const ipc of ipcs) {
      const spsId = stepId(g, ipc);
      if (control === 'CA' || control === 'DC') {
        steps.push({ kind: 'cancel', spsId, status: control === 'CA' ? 'CANCELED' : 'DISCONTINUED' });
        continue;
      }
      if (!pid) throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'PID' }, `an order (${control}) needs the PID segment`);
      const fields = stepFields(pid, pv1, g, ipc);
      if (control === 'NW') {
        if (!g.obr && !ipc) throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'OBR' }, 'a new order needs its OBR segment');
        for (const [k, loc, message] of REQUIRED) {
          if (!fields.get(k)?.value) throw new Hl7Error(Hl7ErrorCode.RequiredFieldMissing, { ...loc, sequence: placeOf(loc.segment, g, ipc, pid) }, message);
        }
      }
      steps.push({ kind: control === 'NW' ? 'create' : 'update', spsId, fields });
    }
  }
  return steps;
}

function placeOf(segment: string, g: OrderGroup, ipc: Placed | undefined, pid: Placed): number {
  if (segment === 'PID') return pid.sequence;
  if (segment === 'OBR') return g.obr?.sequence ?? 1;
  if (segment === 'IPC') return ipc?.sequence ?? 1;
  if (segment === 'TQ1') return g.tq1?.sequence ?? 1;
  return 1;
}

/** A worklist schema failure as an HL7 error at the field the value came from (104 for a length, else 102). */
function schemaError(fields: Fields, error: z.ZodError, spsId: Located): Hl7Error {
  const first = error.issues[0];
  const key = String(first.path[0] ?? '');
  const [issue] = issuesOf(error);
  const at = key === 'spsId' ? spsId.at : (fields.get(key)?.at ?? { segment: 'ORC', field: 1 });
  const code = first.code === 'too_big' ? Hl7ErrorCode.ValueTooLong : Hl7ErrorCode.DataTypeError;
  return new Hl7Error(code, at, `${key}: ${issue.message}`);
}

const valuesOf = (fields: Fields, keepNull: boolean): Record<string, string | null> => {
  const out: Record<string, string | null> = {};
  for (const [k, v] of fields) if (v.value !== null || keepNull) out[k] = v.value;
  return out;
};

/** What the message does, in words (the ACK's MSA-3). */
export interface OrdersResult {
  created: string[];
  updated: string[];
  canceled: string[];
}

/** Checks every step against the worklist, then applies them in order. */
export async function applyOrders(msg: Hl7Message, worklist: WorklistStore): Promise<OrdersResult> {
  const steps = orderSteps(msg);
  const seen = new Set<string>();
  const plan: (() => Promise<unknown>)[] = [];
  const result: OrdersResult = { created: [], updated: [], canceled: [] };
  for (const step of steps) {
    const id = step.spsId.value!;
    const existing = await worklist.get(id);
    if (step.kind === 'create') {
      if (existing || seen.has(id)) {
        throw new Hl7Error(Hl7ErrorCode.DuplicateKeyIdentifier, step.spsId.at, `Scheduled Procedure Step "${id}" already exists (use XO to change it)`);
      }
      const entry = { ...valuesOf(step.fields, false), spsId: id };
      const r = worklistEntrySchema.safeParse(entry);
      if (!r.success) throw schemaError(step.fields, r.error, step.spsId);
      plan.push(() => worklist.add(entry));
      result.created.push(id);
    } else if (!existing && !seen.has(id)) {
      throw new Hl7Error(Hl7ErrorCode.UnknownKeyIdentifier, step.spsId.at, `no Scheduled Procedure Step "${id}"`);
    } else if (step.kind === 'update') {
      const patch = valuesOf(step.fields, true);
      const p = worklistPatchSchema.safeParse(patch);
      if (!p.success) throw schemaError(step.fields, p.error, step.spsId);
      if (existing) {
        const { createdAt: _c, updatedAt: _u, ...rest } = existing;
        const merged: Record<string, unknown> = { ...rest, ...patch };
        for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
        const r = worklistEntrySchema.safeParse(merged);
        if (!r.success) throw schemaError(step.fields, r.error, step.spsId);
      }
      plan.push(() => worklist.change(id, patch));
      result.updated.push(id);
    } else {
      const status = existing?.status;
      if (status && step.status === 'CANCELED' && BEGUN.includes(status)) {
        throw new Hl7Error(Hl7ErrorCode.ApplicationRecordLocked, step.spsId.at, `step "${id}" is ${status}: it can be discontinued (DC), not canceled`);
      }
      if (status && FINAL_SPS_STATUSES.includes(status) && status !== step.status) {
        throw new Hl7Error(Hl7ErrorCode.ApplicationRecordLocked, step.spsId.at, `step "${id}" is already ${status}`);
      }
      plan.push(() => (step.status === 'CANCELED' ? worklist.cancel(id) : worklist.change(id, { status: 'DISCONTINUED' })));
      result.canceled.push(id);
    }
    seen.add(id);
  }
  for (const apply of plan) await apply();
  return result;
}
