/**
 * Storage commitment transactions (PS3.4 Annex J) kept in the index, so a commitment
 * accepted before a restart is still answered after it: the request, the result once
 * the archive was checked, and whether the report reached the requestor.
 */
import { sqlIndex } from './base-index.js';
import { Status } from '../dicom/status.js';
import type { Index } from './index-types.js';
import type { SqlIndex } from './sql-types.js';
import { ensureWorkflowSchema, nowIso } from './workflow-schema.js';

// The records are the REST API's shapes (GET /api/commitments), defined once in src/api-types.
import type { CommitmentRecord, CommitmentRef, CommitmentResult, CommitmentState, FailedRef } from '../api-types/workflow.js';
export type { CommitmentRecord, CommitmentRef, CommitmentResult, CommitmentState, FailedRef };

const COLUMNS = 'transaction_uid, calling_ae, called_ae, state, request, result, attempts, last_error, created_at, updated_at';

function rowToRecord(r: Record<string, unknown>): CommitmentRecord {
  return {
    transactionUid: String(r.transaction_uid),
    callingAeTitle: String(r.calling_ae),
    calledAeTitle: String(r.called_ae),
    state: String(r.state) as CommitmentState,
    request: JSON.parse(String(r.request)) as CommitmentRef[],
    ...(r.result ? { result: JSON.parse(String(r.result)) as CommitmentResult } : {}),
    attempts: Number(r.attempts),
    ...(r.last_error ? { lastError: String(r.last_error) } : {}),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

export class CommitmentStore {
  private constructor(private readonly index: SqlIndex) {}

  static async open(index: Index): Promise<CommitmentStore> {
    await ensureWorkflowSchema(index);
    return new CommitmentStore(sqlIndex(index));
  }

  /** Records a new request; false when the Transaction UID is already known. */
  add(rec: Pick<CommitmentRecord, 'transactionUid' | 'callingAeTitle' | 'calledAeTitle' | 'request'>): Promise<boolean> {
    return this.index.write(async (tx) => {
      if ((await tx.execute('SELECT 1 AS x FROM storage_commitments WHERE transaction_uid = $1', [rec.transactionUid])).length) return false;
      const now = nowIso();
      await tx.execute(`INSERT INTO storage_commitments (${COLUMNS}) VALUES ($1, $2, $3, 'pending', $4, NULL, 0, NULL, $5, $5)`, [
        rec.transactionUid,
        rec.callingAeTitle,
        rec.calledAeTitle,
        JSON.stringify(rec.request),
        now,
      ]);
      return true;
    });
  }

  async setResult(transactionUid: string, result: CommitmentResult): Promise<void> {
    await this.index.write((tx) =>
      tx.execute('UPDATE storage_commitments SET result = $2, updated_at = $3 WHERE transaction_uid = $1', [transactionUid, JSON.stringify(result), nowIso()]),
    );
  }

  async delivered(transactionUid: string): Promise<void> {
    await this.index.write((tx) =>
      tx.execute(`UPDATE storage_commitments SET state = 'done', attempts = attempts + 1, last_error = NULL, updated_at = $2 WHERE transaction_uid = $1`, [
        transactionUid,
        nowIso(),
      ]),
    );
  }

  async failedAttempt(transactionUid: string, error: string): Promise<void> {
    await this.index.write((tx) =>
      tx.execute('UPDATE storage_commitments SET attempts = attempts + 1, last_error = $2, updated_at = $3 WHERE transaction_uid = $1', [
        transactionUid,
        error.slice(0, 1000),
        nowIso(),
      ]),
    );
  }

  async get(transactionUid: string): Promise<CommitmentRecord | undefined> {
    const rows = await this.index.read((tx) => tx.select(`SELECT ${COLUMNS} FROM storage_commitments WHERE transaction_uid = $1`, [transactionUid]));
    return rows.length ? rowToRecord(rows[0]) : undefined;
  }

  /** Oldest first. */
  async pending(): Promise<CommitmentRecord[]> {
    const rows = await this.index.read((tx) =>
      tx.select(`SELECT ${COLUMNS} FROM storage_commitments WHERE state = 'pending' ORDER BY created_at, transaction_uid`),
    );
    return rows.map(rowToRecord);
  }

  /** Most recent first. */
  async list(limit = 1000): Promise<CommitmentRecord[]> {
    const rows = await this.index.read((tx) =>
      tx.select(`SELECT ${COLUMNS} FROM storage_commitments ORDER BY created_at DESC, transaction_uid LIMIT $1`, [limit]),
    );
    return rows.map(rowToRecord);
  }
}

/** Checks each referenced instance in the index: present, and of the same SOP class. */
export async function verifyInstances(index: Index, refs: readonly CommitmentRef[]): Promise<CommitmentResult> {
  const result: CommitmentResult = { success: [], failed: [] };
  for (const ref of refs) {
    const row = await index.getInstance(ref.sopInstanceUid);
    if (!row) result.failed.push({ ...ref, reason: Status.NoSuchSopInstance });
    else if (row.sopClassUid !== ref.sopClassUid) result.failed.push({ ...ref, reason: Status.ClassInstanceConflict });
    else result.success.push(ref);
  }
  return result;
}
