/**
 * How much of an archive each study takes: the bytes of its stored files, its instances and
 * when its newest instance arrived. The Workstation Server's size cap (roles/workstation-cap.ts)
 * reads the total after stores and, only when it is over, the per-study list to pick the
 * studies to delete.
 */
import { sqlIndex } from './base-index.js';
import type { Index } from './index-types.js';

export interface StudyUsage {
  studyInstanceUid: string;
  /** Sum of the stored files' sizes. */
  bytes: number;
  instances: number;
  /** ISO 8601 (UTC): when the study's newest instance was received. */
  lastReceivedAt: string;
}

/** Bytes of every stored file the index knows, and how many files. */
export async function archiveUsage(index: Index): Promise<{ bytes: number; instances: number }> {
  const rows = await sqlIndex(index).read((tx) => tx.select(`SELECT COALESCE(SUM(file_size), 0) AS bytes, COUNT(*) AS n FROM instances`));
  return { bytes: Number(rows[0]?.bytes ?? 0), instances: Number(rows[0]?.n ?? 0) };
}

/** Every study's usage, the one received longest ago first (ties by UID, so the order is stable). */
export async function studyUsage(index: Index): Promise<StudyUsage[]> {
  const rows = await sqlIndex(index).read((tx) =>
    tx.select(
      `SELECT st.study_instance_uid AS uid, SUM(i.file_size) AS bytes, COUNT(*) AS n, MAX(i.received_at) AS last
       FROM instances i JOIN series se ON se.pk = i.series_fk JOIN studies st ON st.pk = se.study_fk
       GROUP BY st.study_instance_uid
       ORDER BY last, uid`,
    ),
  );
  return rows.map((r) => ({ studyInstanceUid: String(r.uid), bytes: Number(r.bytes), instances: Number(r.n), lastReceivedAt: String(r.last) }));
}
