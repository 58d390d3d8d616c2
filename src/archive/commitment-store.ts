/**
 * Storage commitment transactions (PS3.4 Annex J) kept in the index, so a commitment
 * accepted before a restart is still answered after it: the request, the result once
 * the archive was checked, and whether the report reached the requestor.
 *
 * Several nodes on one database: a node sends a pending report only while it holds the
 * row's claim (`claimed_by`, `claim_until`), taken by one conditional UPDATE, so two
 * nodes never send one report at the same time; a node that dies holding a claim lets it
 * go when `claim_until` passes, and any node then sends it (at least once across node
 * death; exactly once while nodes live). Delivered and failed attempts end the claim; a
 * node starting again drops the claims its previous process held (one process per node
 * name: roles/node-lock.ts).
 */
import { sqlIndex } from './base-index.js';
import { Status } from '../dicom/status.js';
import type { Index } from './index-types.js';
import type { SqlIndex } from './sql-types.js';
import { ensureWorkflowSchema, nowIso } from './workflow-schema.js';

// The records are the REST API's shapes (GET /api/commitments), defined once in src/api-types.
import type { CommitmentRecord, CommitmentRef, CommitmentResult, CommitmentState, FailedRef } from '../api-types/workflow.js';
export type { CommitmentRecord, CommitmentRef, CommitmentResult, CommitmentState, FailedRef };

const COLUMNS = 'transaction_uid, calling_ae, called_ae, state, request, result, attempts, last_error, created_at, updated_at, claimed_by, claim_until';

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
    ...(r.claimed_by && String(r.claim_until) > nowIso() ? { claimedBy: String(r.claimed_by) } : {}),
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
      await tx.execute(`INSERT INTO storage_commitments (${COLUMNS}) VALUES ($1, $2, $3, 'pending', $4, NULL, 0, NULL, $5, $5, NULL, NULL)`, [
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

  /**
   * Takes the claim of a pending report for `claimant` until `leaseMs` from now: true when
   * it was free, expired or already this claimant's (then renewed); false when another
   * node holds it or the report is no longer pending.
   */
  async claim(transactionUid: string, claimant: string, leaseMs: number): Promise<boolean> {
    const now = new Date();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const rows = await this.index.write((tx) =>
      tx.execute(
        `UPDATE storage_commitments SET claimed_by = $2, claim_until = $3
         WHERE transaction_uid = $1 AND state = 'pending' AND (claimed_by IS NULL OR claimed_by = $2 OR claim_until < $4)
         RETURNING transaction_uid`,
        [transactionUid, claimant, until, now.toISOString()],
      ),
    );
    return rows.length === 1;
  }

  /** Drops every claim `claimant` holds (its process started again: nothing of it is being sent). */
  async releaseAll(claimant: string): Promise<void> {
    await this.index.write((tx) => tx.execute('UPDATE storage_commitments SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = $1', [claimant]));
  }

  /** The report reached the requestor: done, the claim ended (whoever held it: the report is out). */
  async delivered(transactionUid: string): Promise<void> {
    await this.index.write((tx) =>
      tx.execute(
        `UPDATE storage_commitments SET state = 'done', attempts = attempts + 1, last_error = NULL, claimed_by = NULL, claim_until = NULL, updated_at = $2
         WHERE transaction_uid = $1`,
        [transactionUid, nowIso()],
      ),
    );
  }

  /**
   * An attempt by `claimant` failed: counted and its claim ended, so the next retry (by any
   * node) sends it. Nothing changes when the claim passed to another node meanwhile, or
   * the report is no longer pending (that node's outcome stands).
   */
  async failedAttempt(transactionUid: string, error: string, claimant?: string): Promise<void> {
    await this.index.write((tx) =>
      tx.execute(
        `UPDATE storage_commitments SET attempts = attempts + 1, last_error = $2, claimed_by = NULL, claim_until = NULL, updated_at = $3
         WHERE transaction_uid = $1 AND state = 'pending' AND (claimed_by IS NULL OR claimed_by = $4)`,
        [transactionUid, error.slice(0, 1000), nowIso(), claimant ?? null],
      ),
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
