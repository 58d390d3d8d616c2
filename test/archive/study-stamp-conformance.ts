/**
 * The study change stamp (index-sql.ts STUDY_STAMP_COLUMNS): every backend runs exactly
 * these tests. Each change to what a study's metadata says gives it a new stamp in the
 * same transaction; nothing else does, and other studies keep theirs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqlIndex } from '../../src/archive/base-index.js';
import type { Index } from '../../src/archive/index-types.js';
import { studyChangeStamp } from '../../src/archive/query.js';
import { makeRecord, type IndexFactory } from './index-conformance.js';

const A = '1.2.3.300';
const B = '1.2.3.400';
const inA = (over: Parameters<typeof makeRecord>[0] = {}) => makeRecord({ studyInstanceUid: A, seriesInstanceUid: `${A}.1`, ...over });
const inB = (over: Parameters<typeof makeRecord>[0] = {}) =>
  makeRecord({ studyInstanceUid: B, seriesInstanceUid: `${B}.1`, patientId: 'PID2', patientName: 'Roe^Rick', ...over });

export function registerStudyStampConformance(name: string, factory: IndexFactory): void {
  describe(`Study change stamp: ${name}`, () => {
    let index: Index;
    const stamp = (uid: string) => studyChangeStamp(index, uid);
    /** Both studies' stamps. */
    const both = async () => [await stamp(A), await stamp(B)];

    beforeEach(async () => {
      index = await factory.open();
    });
    afterEach(async () => {
      await index.close();
      await factory.destroy();
    });

    it('a new study gets one; another instance changes it; an unknown study has none', async () => {
      expect(await stamp(A)).toBeUndefined();
      await index.insertInstances([inA(), inB()]);
      const [a0, b0] = await both();
      expect(a0).toMatch(/^[0-9a-f]{16,32}$/);
      expect(b0).toMatch(/^[0-9a-f]{16,32}$/);
      expect(a0).not.toBe(b0);
      await index.insertInstances([inA()]);
      const [a1, b1] = await both();
      expect(a1).not.toBe(a0);
      expect(b1).toBe(b0);
      // Reads change nothing.
      await index.listStudies();
      expect(await both()).toEqual([a1, b1]);
    });

    it('a duplicate kept changes nothing; one replaced with other JSON changes it', async () => {
      const r = inA();
      await index.insertInstances([r, inB()]);
      const [a0, b0] = await both();
      await index.insertInstances([{ ...r, fileKey: `${r.fileKey}.2` }], 'keep');
      expect(await both()).toEqual([a0, b0]);
      await index.insertInstances([{ ...r, fileKey: `${r.fileKey}.3`, json: JSON.stringify({ '00200013': { vr: 'IS', Value: [7] } }) }], 'replace');
      const [a1, b1] = await both();
      expect(a1).not.toBe(a0);
      expect(b1).toBe(b0);
    });

    it('an instance replaced into another study changes both studies', async () => {
      const r = inA();
      await index.insertInstances([r, inA(), inB()]);
      const [a0, b0] = await both();
      await index.insertInstances([{ ...inB(), sopInstanceUid: r.sopInstanceUid, fileKey: `${r.fileKey}.moved` }], 'replace');
      const [a1, b1] = await both();
      expect(a1).not.toBe(a0);
      expect(b1).not.toBe(b0);
    });

    it('a deletion changes the stamp of its study only', async () => {
      const r = inA();
      await index.insertInstances([r, inA(), inB()]);
      const [a0, b0] = await both();
      await index.deleteInstance(r.sopInstanceUid);
      const [a1, b1] = await both();
      expect(a1).not.toBe(a0);
      expect(b1).toBe(b0);
    });

    it("a patient update changes its studies' stamps; a merge changes the moved studies'", async () => {
      await index.insertInstances([inA(), inB()]);
      const [a0, b0] = await both();
      await index.updatePatient({ patientId: 'PID1', issuer: '' }, { name: 'Doe^Janet' }, 'spelling');
      const [a1, b1] = await both();
      expect(a1).not.toBe(a0);
      expect(b1).toBe(b0);
      await index.mergePatients({ patientId: 'PID2', issuer: '' }, { patientId: 'PID1', issuer: '' }, 'same person');
      const [a2, b2] = await both();
      expect(a2).toBe(a1);
      expect(b2).not.toBe(b1);
    });

    it('a rolled back write leaves the stamp as it was', async () => {
      await index.insertInstances([inA()]);
      const a0 = await stamp(A);
      await expect(
        index.write(async (tx) => {
          await tx.insertInstances([inA()], 'keep');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await stamp(A)).toBe(a0);
    });

    it('SQL written without the stamp (a node of an older version) changes it too', async () => {
      await index.insertInstances([inA()]);
      const a0 = await stamp(A);
      const sql = sqlIndex(index);
      await sql.write(async (tx) => {
        const [series] = await tx.execute(`SELECT pk FROM series WHERE series_instance_uid = $1`, [`${A}.1`]);
        await tx.execute(
          `INSERT INTO instances (sop_instance_uid, series_fk, sop_class_uid, transfer_syntax_uid, file_key, file_size, received_at, calling_ae, json)
           VALUES ('1.2.3.300.99', $1, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1', 'old-node-key', 1, '2024', 'OLD', '{}')`,
          [Number(series.pk)],
        );
      });
      const a1 = await stamp(A);
      expect(a1).not.toBe(a0);
      await sql.write((tx) => tx.execute(`UPDATE studies SET patient_name = 'Old^Node' WHERE study_instance_uid = $1`, [A]));
      expect(await stamp(A)).not.toBe(a1);
    });

    it('a study without a stamp (made before the column) gets one when the index is opened again; opening again is harmless', async () => {
      await index.insertInstances([inA(), inB()]);
      await sqlIndex(index).write((tx) => tx.execute(`UPDATE studies SET change_stamp = NULL WHERE study_instance_uid = $1`, [A]));
      expect(await stamp(A)).toBeNull();
      const b0 = await stamp(B);
      await index.close();
      index = await factory.open();
      const a1 = await stamp(A);
      expect(a1).toMatch(/^[0-9a-f]{16,32}$/);
      expect(await stamp(B)).toBe(b0);
      await index.close();
      index = await factory.open();
      expect(await both()).toEqual([a1, b0]);
      // The triggers are still there after being made again.
      await index.insertInstances([inA()]);
      expect(await stamp(A)).not.toBe(a1);
    });
  });
}
