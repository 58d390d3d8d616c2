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
