/**
 * Modality Performed Procedure Steps: one row per SOP instance, its attributes as DICOM
 * JSON. A change of status also sets the status of the worklist entries the step
 * references, in the same transaction. The rules of the MPPS service (PS3.4 F.7) are
 * the service's; this keeps the records.
 */
import type { DicomJsonObject } from '../dicom/dataset-json.js';
import { sqlIndex } from './base-index.js';
import type { Index } from './index-types.js';
import type { SqlIndex } from './sql-types.js';
import { ensureWorkflowSchema, nowIso } from './workflow-schema.js';
import { setWorklistStatus, type SpsStatus } from './worklist-store.js';

import { MPPS_STATUSES, type MppsStatus } from '../api-types/workflow.js';
export { MPPS_STATUSES, type MppsStatus };

/** The worklist status a performed step's status implies. */
const WORKLIST_STATUS: Record<MppsStatus, SpsStatus> = { 'IN PROGRESS': 'STARTED', COMPLETED: 'COMPLETED', DISCONTINUED: 'DISCONTINUED' };

export interface MppsRecord {
  sopInstanceUid: string;
  status: MppsStatus;
  callingAeTitle: string;
  /** Scheduled Procedure Step IDs referenced by the Scheduled Step Attributes Sequence. */
  spsIds: string[];
  json: DicomJsonObject;
  createdAt: string;
  updatedAt: string;
}

export type MppsChange = Pick<MppsRecord, 'status' | 'json' | 'spsIds'>;

function rowToRecord(r: Record<string, unknown>): MppsRecord {
  return {
    sopInstanceUid: String(r.sop_instance_uid),
    status: String(r.status) as MppsStatus,
    callingAeTitle: String(r.calling_ae),
    spsIds: JSON.parse(String(r.sps_ids)) as string[],
    json: JSON.parse(String(r.json)) as DicomJsonObject,
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

const COLUMNS = 'sop_instance_uid, status, calling_ae, sps_ids, json, created_at, updated_at';

export class MppsStore {
  private constructor(private readonly index: SqlIndex) {}

  static async open(index: Index): Promise<MppsStore> {
    await ensureWorkflowSchema(index);
    return new MppsStore(sqlIndex(index));
  }

  /** Inserts a new step; 'duplicate' when the SOP Instance UID exists. Returns the worklist entries updated. */
  create(rec: Omit<MppsRecord, 'createdAt' | 'updatedAt'>): Promise<{ result: 'created' | 'duplicate'; worklistUpdated: string[] }> {
    return this.index.write(async (tx) => {
      if ((await tx.execute('SELECT 1 AS x FROM mpps WHERE sop_instance_uid = $1', [rec.sopInstanceUid])).length) {
        return { result: 'duplicate' as const, worklistUpdated: [] };
      }
      const now = nowIso();
      await tx.execute(`INSERT INTO mpps (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        rec.sopInstanceUid,
        rec.status,
        rec.callingAeTitle,
        JSON.stringify(rec.spsIds),
        JSON.stringify(rec.json),
        now,
        now,
      ]);
      const worklistUpdated = await setWorklistStatus(tx, rec.spsIds, WORKLIST_STATUS[rec.status]);
      return { result: 'created' as const, worklistUpdated };
    });
  }

  /**
   * Changes a step: `change` sees the current record and returns the next (or throws to
   * refuse; nothing is written then). Undefined when the step does not exist.
   */
  update(sopInstanceUid: string, change: (current: MppsRecord) => MppsChange): Promise<{ record: MppsRecord; worklistUpdated: string[] } | undefined> {
    return this.index.write(async (tx) => {
      const rows = await tx.execute(`SELECT ${COLUMNS} FROM mpps WHERE sop_instance_uid = $1${tx.dialect.forUpdate}`, [sopInstanceUid]);
      if (!rows.length) return undefined;
      const current = rowToRecord(rows[0]);
      const next = change(current);
      const record: MppsRecord = { ...current, ...next, updatedAt: nowIso() };
      await tx.execute('UPDATE mpps SET status = $2, sps_ids = $3, json = $4, updated_at = $5 WHERE sop_instance_uid = $1', [
        sopInstanceUid,
        record.status,
        JSON.stringify(record.spsIds),
        JSON.stringify(record.json),
        record.updatedAt,
      ]);
      const worklistUpdated =
        record.status !== current.status || record.spsIds.join() !== current.spsIds.join()
          ? await setWorklistStatus(tx, record.spsIds, WORKLIST_STATUS[record.status])
          : [];
      return { record, worklistUpdated };
    });
  }

  async get(sopInstanceUid: string): Promise<MppsRecord | undefined> {
    const rows = await this.index.read((tx) => tx.select(`SELECT ${COLUMNS} FROM mpps WHERE sop_instance_uid = $1`, [sopInstanceUid]));
    return rows.length ? rowToRecord(rows[0]) : undefined;
  }

  /** Most recent first. */
  async list(limit = 1000): Promise<MppsRecord[]> {
    const rows = await this.index.read((tx) => tx.select(`SELECT ${COLUMNS} FROM mpps ORDER BY created_at DESC, sop_instance_uid LIMIT $1`, [limit]));
    return rows.map(rowToRecord);
  }
}
