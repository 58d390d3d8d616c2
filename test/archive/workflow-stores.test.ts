/** The workflow tables (worklist, MPPS, storage commitments) on both index backends: one suite, SQLite and PostgreSQL. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommitmentStore, verifyInstances } from '../../src/archive/commitment-store.js';
import { WorklistEntryError } from '../../src/archive/errors.js';
import type { Index } from '../../src/archive/index-types.js';
import { MppsStore } from '../../src/archive/mpps-store.js';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { WorklistStore } from '../../src/archive/worklist-store.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dropSchema, freshSchemaName, PG_URL } from './pg-support.js';

afterAll(() => removeTempDirs());

function suite(name: string, open: () => Promise<Index>, cleanup: () => Promise<void> = async () => undefined) {
  describe(name, () => {
    it('keeps worklist entries, performed steps (the worklist following) and commitments', async () => {
      const index = await open();
      try {
        const w = await WorklistStore.open(index);
        await WorklistStore.open(index); // idempotent
        await w.add({ spsId: 'S1', patientId: 'P1', patientName: 'DOE^JOHN', modality: 'CT', startDate: '20250310', stationAeTitle: 'CT01' });
        await w.add({ spsId: 'S2', patientId: 'P2', patientName: 'ROE^JANE', modality: 'MR', startDate: '20250312' });
        await expect(w.add({ spsId: 'S1', patientId: 'P1', patientName: 'X', modality: 'CT', startDate: '20250310' })).rejects.toThrow(/already exists/);
        // The store's own error, naming the field (the REST API and the CLI map it).
        await expect(w.add({ patientId: 'P3', patientName: 'X', modality: 'CT', startDate: 'today' })).rejects.toMatchObject({
          constructor: WorklistEntryError,
          kind: 'invalid',
          issues: [{ field: 'startDate' }],
        });
        await expect(w.cancel('NOPE')).rejects.toMatchObject({ constructor: WorklistEntryError, kind: 'not-found', issues: [{ field: 'spsId' }] });
        expect((await w.list({ fromDate: '20250311' })).map((e) => e.spsId)).toEqual(['S2']);
        expect((await w.list({ modality: 'CT', stationAeTitle: 'CT01', statuses: ['SCHEDULED'] })).map((e) => e.spsId)).toEqual(['S1']);
        expect((await w.change('S2', { startTime: '0800' })).startTime).toBe('0800');
        const m = await MppsStore.open(index);
        expect((await m.create({ sopInstanceUid: '1.2.3', status: 'IN PROGRESS', callingAeTitle: 'CT01', spsIds: ['S1'], json: {} })).worklistUpdated).toEqual([
          'S1',
        ]);
        expect((await m.create({ sopInstanceUid: '1.2.3', status: 'IN PROGRESS', callingAeTitle: 'CT01', spsIds: ['S1'], json: {} })).result).toBe('duplicate');
        expect((await w.get('S1'))?.status).toBe('STARTED');
        await expect(
          m.update('1.2.3', () => {
            throw new Error('refused');
          }),
        ).rejects.toThrow('refused');
        const done = await m.update('1.2.3', (cur) => ({ ...cur, status: 'COMPLETED' }));
        expect(done?.worklistUpdated).toEqual(['S1']);
        expect((await w.get('S1'))?.status).toBe('COMPLETED');
        expect(await m.update('9.9', (cur) => cur)).toBeUndefined();
        const c = await CommitmentStore.open(index);
        expect(
          await c.add({ transactionUid: '1.2.4', callingAeTitle: 'CT01', calledAeTitle: 'PACS', request: [{ sopClassUid: '1.2', sopInstanceUid: '3.4' }] }),
        ).toBe(true);
        expect(await c.add({ transactionUid: '1.2.4', callingAeTitle: 'CT01', calledAeTitle: 'PACS', request: [] })).toBe(false);
        const result = await verifyInstances(index, [{ sopClassUid: '1.2', sopInstanceUid: '3.4' }]);
        expect(result).toEqual({ success: [], failed: [{ sopClassUid: '1.2', sopInstanceUid: '3.4', reason: 0x0112 }] });
        await c.setResult('1.2.4', result);
        await c.failedAttempt('1.2.4', 'connection refused');
        expect((await c.pending()).map((r) => [r.transactionUid, r.attempts, r.lastError])).toEqual([['1.2.4', 1, 'connection refused']]);
        await c.delivered('1.2.4');
        expect(await c.pending()).toEqual([]);
        expect((await c.get('1.2.4'))?.result).toEqual(result);
        await w.cancel('S2', true);
        expect(await w.get('S2')).toBeUndefined();
      } finally {
        await index.close();
        await cleanup();
      }
    });
    it('lets one node at a time claim a pending report; a lapsed claim passes on, a late failure changes nothing', async () => {
      const index = await open();
      try {
        const c = await CommitmentStore.open(index);
        const req = { callingAeTitle: 'CT01', calledAeTitle: 'PACS', request: [{ sopClassUid: '1.2', sopInstanceUid: '3.4' }] };
        await c.add({ transactionUid: '7.1', ...req });
        expect(await c.claim('7.1', 'node-a', 60_000)).toBe(true);
        expect(await c.claim('7.1', 'node-b', 60_000)).toBe(false);
        expect(await c.claim('7.1', 'node-a', 60_000)).toBe(true); // renewed by its holder
        expect((await c.get('7.1'))?.claimedBy).toBe('node-a');
        // node-a fails: the claim ends, node-b may send it now.
        await c.failedAttempt('7.1', 'connection refused', 'node-a');
        expect((await c.get('7.1'))?.claimedBy).toBeUndefined();
        expect(await c.claim('7.1', 'node-b', 60_000)).toBe(true);
        // node-a's late failure (its claim is gone) counts nothing and keeps node-b's claim.
        await c.failedAttempt('7.1', 'late', 'node-a');
        expect(await c.get('7.1')).toMatchObject({ attempts: 1, lastError: 'connection refused', claimedBy: 'node-b' });

        // A claim held by a node that died lapses after its lease.
        await c.add({ transactionUid: '7.2', ...req });
        expect(await c.claim('7.2', 'dead-node', 150)).toBe(true);
        expect(await c.claim('7.2', 'node-b', 60_000)).toBe(false);
        await new Promise((r) => setTimeout(r, 300));
        expect((await c.get('7.2'))?.claimedBy).toBeUndefined(); // shown as free once lapsed
        expect(await c.claim('7.2', 'node-b', 60_000)).toBe(true);
        await c.delivered('7.2');
        expect(await c.claim('7.2', 'node-b', 60_000)).toBe(false); // done: nothing to claim
        expect(await c.get('7.2')).toMatchObject({ state: 'done', attempts: 1 });

        // A node starting again drops what its previous process held.
        await c.add({ transactionUid: '7.3', ...req });
        expect(await c.claim('7.3', 'node-c', 60_000)).toBe(true);
        await c.releaseAll('node-c');
        expect(await c.claim('7.3', 'node-b', 60_000)).toBe(true);
      } finally {
        await index.close();
      }
    });

    it('adds the claim columns to a commitments table made before them', async () => {
      const index = await open();
      try {
        const sql = index as unknown as { write<T>(fn: (tx: { execute(q: string, p?: unknown[]): Promise<unknown[]> }) => Promise<T>): Promise<T> };
        await sql.write(async (tx) => {
          await tx.execute('DROP TABLE IF EXISTS storage_commitments');
          // The table as the first workflow schema made it.
          await tx.execute(`CREATE TABLE storage_commitments (
            pk INTEGER, transaction_uid TEXT NOT NULL UNIQUE, calling_ae TEXT NOT NULL, called_ae TEXT NOT NULL, state TEXT NOT NULL,
            request TEXT NOT NULL, result TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
          await tx.execute(
            `INSERT INTO storage_commitments VALUES (1, '8.1', 'CT01', 'PACS', 'pending', '[]', NULL, 0, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
          );
        });
        const c = await CommitmentStore.open(index);
        expect((await c.pending()).map((r) => r.transactionUid)).toEqual(['8.1']);
        expect(await c.claim('8.1', 'node-a', 60_000)).toBe(true);
      } finally {
        await index.close();
      }
    });
  });
}

suite('SQLite', async () => SqliteIndex.open(join(await makeTempDir('pacs-wf-'), 'index.sqlite')));

const schema = freshSchemaName();
// The test machines run PostgreSQL: without it the suite fails (connection refused), it does not skip.
describe('PostgreSQL', () => {
  suite(
    'schema',
    () => PostgresIndex.open({ connectionString: PG_URL, schema }),
    () => dropSchema(schema),
  );
});
