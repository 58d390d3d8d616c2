/**
 * The index conformance suite: every backend runs exactly these tests.
 * `open()` may be called again to reopen the same store (persistence).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Index, InstanceRecord } from '../../src/archive/index-types.js';

export interface IndexFactory {
  /** Opens the backend's store; a second call reopens the same one. */
  open(): Promise<Index>;
  /** Removes the store (after the last close). */
  destroy(): Promise<void>;
}

let seq = 0;
export function makeRecord(over: Partial<InstanceRecord> = {}): InstanceRecord {
  seq++;
  return {
    sopInstanceUid: `1.2.3.4.${seq}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    studyInstanceUid: '1.2.3.100',
    seriesInstanceUid: '1.2.3.100.1',
    patientId: 'PID1',
    patientName: 'Doe^Jane',
    patientBirthDate: '19700101',
    patientSex: 'F',
    studyDate: '20240102',
    studyTime: '101500',
    accessionNumber: 'ACC1',
    studyId: 'S1',
    studyDescription: 'CT Head',
    referringPhysicianName: 'Who^Doctor',
    modality: 'CT',
    seriesNumber: 1,
    seriesDescription: 'Axial',
    bodyPartExamined: 'HEAD',
    instanceNumber: seq,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    fileKey: `aa/bb/${'0'.repeat(60)}${String(seq).padStart(4, '0')}.0000000000000000.dcm`,
    fileSize: 1000 + seq,
    receivedAt: '2024-01-02T10:15:00.000Z',
    callingAeTitle: 'MODALITY',
    calledAeTitle: 'PACS',
    json: JSON.stringify({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] } }),
    ...over,
  };
}

export function registerIndexConformance(name: string, factory: IndexFactory): void {
  describe(`Index conformance: ${name}`, () => {
    let index: Index;
    beforeEach(async () => {
      index = await factory.open();
    });
    afterEach(async () => {
      await index.close();
      await factory.destroy();
    });

    it('starts empty', async () => {
      expect(await index.countInstances()).toBe(0);
      expect(await index.listStudies()).toEqual([]);
      expect(await index.hasInstance('1.2.3')).toBe(false);
      expect(await index.getInstance('1.2.3')).toBeUndefined();
    });

    it('inserts an instance and reads every column back', async () => {
      const r = makeRecord();
      expect(await index.insertInstances([r])).toEqual([{ status: 'stored' }]);
      expect(await index.hasInstance(r.sopInstanceUid)).toBe(true);
      expect(await index.hasFileKey(r.fileKey)).toBe(true);
      expect(await index.hasFileKey('aa/bb/other.dcm')).toBe(false);
      expect(await index.countInstances()).toBe(1);
      expect(await index.getInstance(r.sopInstanceUid)).toEqual({
        sopInstanceUid: r.sopInstanceUid,
        sopClassUid: r.sopClassUid,
        seriesInstanceUid: r.seriesInstanceUid,
        studyInstanceUid: r.studyInstanceUid,
        instanceNumber: r.instanceNumber,
        transferSyntaxUid: r.transferSyntaxUid,
        fileKey: r.fileKey,
        fileSize: r.fileSize,
        receivedAt: r.receivedAt,
        callingAeTitle: 'MODALITY',
        calledAeTitle: 'PACS',
        json: r.json,
      });
      expect(await index.listStudies()).toEqual([
        {
          patientId: 'PID1',
          issuerOfPatientId: '',
          patientName: 'Doe^Jane',
          patientBirthDate: '19700101',
          patientSex: 'F',
          studyInstanceUid: '1.2.3.100',
          studyDate: '20240102',
          studyTime: '101500',
          accessionNumber: 'ACC1',
          studyId: 'S1',
          studyDescription: 'CT Head',
          referringPhysicianName: 'Who^Doctor',
          modalitiesInStudy: ['CT'],
        },
      ]);
      expect(await index.listSeries('1.2.3.100')).toEqual([
        {
          seriesInstanceUid: '1.2.3.100.1',
          studyInstanceUid: '1.2.3.100',
          modality: 'CT',
          seriesNumber: 1,
          seriesDescription: 'Axial',
          bodyPartExamined: 'HEAD',
        },
      ]);
    });

    it('stores absent attributes as null and keeps text exactly (parameterized SQL)', async () => {
      const evil = `x'); DROP TABLE instances; --`;
      const r = makeRecord({
        patientId: null,
        patientName: `O'Brien^Åsa 李`,
        studyDescription: evil,
        studyDate: undefined,
        seriesNumber: null,
        instanceNumber: null,
        calledAeTitle: undefined,
        modality: null,
      });
      await index.insertInstances([r]);
      const [st] = await index.listStudies();
      expect(st.patientId).toBe('');
      expect(st.patientName).toBe(`O'Brien^Åsa 李`);
      expect(st.studyDescription).toBe(evil);
      expect(st.studyDate).toBeNull();
      expect(st.modalitiesInStudy).toEqual([]);
      const row = await index.getInstance(r.sopInstanceUid);
      expect(row?.instanceNumber).toBeNull();
      expect(row?.calledAeTitle).toBeNull();
      expect(await index.countInstances()).toBe(1);
    });

    it('upserts patient, study and series: one row each, later values fill in, nulls do not erase', async () => {
      await index.insertInstances([makeRecord({ studyDescription: null, seriesDescription: 'first' })]);
      await index.insertInstances([makeRecord({ studyDescription: 'Later', seriesDescription: null, patientName: null })]);
      const studies = await index.listStudies();
      expect(studies).toHaveLength(1);
      expect(studies[0].studyDescription).toBe('Later');
      expect(studies[0].patientName).toBe('Doe^Jane');
      const series = await index.listSeries('1.2.3.100');
      expect(series).toHaveLength(1);
      expect(series[0].seriesDescription).toBe('first');
      expect(await index.countInstances()).toBe(2);
    });

    it('maintains ModalitiesInStudy across series, inserts and deletes', async () => {
      const ct = makeRecord();
      const mr = makeRecord({ seriesInstanceUid: '1.2.3.100.2', modality: 'MR', seriesNumber: 2 });
      const sr = makeRecord({ seriesInstanceUid: '1.2.3.100.3', modality: 'SR', seriesNumber: 3 });
      await index.insertInstances([mr, ct]);
      await index.insertInstances([sr]);
      expect((await index.listStudies())[0].modalitiesInStudy).toEqual(['CT', 'MR', 'SR']);
      expect((await index.listSeries('1.2.3.100')).map((s) => s.seriesNumber)).toEqual([1, 2, 3]);
      await index.deleteInstance(mr.sopInstanceUid);
      expect((await index.listStudies())[0].modalitiesInStudy).toEqual(['CT', 'SR']);
      expect((await index.listSeries('1.2.3.100')).map((s) => s.modality)).toEqual(['CT', 'SR']);
    });

    it('lists instances of a series by instance number', async () => {
      const recs = [3, 1, 2].map((n) => makeRecord({ instanceNumber: n }));
      await index.insertInstances(recs);
      const list = await index.listInstances('1.2.3.100.1');
      expect(list.map((i) => i.instanceNumber)).toEqual([1, 2, 3]);
      expect(list[0]).not.toHaveProperty('json');
      expect(await index.listInstances('9.9.9')).toEqual([]);
    });

    it('keeps the stored row on a duplicate (keep)', async () => {
      const r = makeRecord();
      await index.insertInstances([r]);
      const again = { ...r, fileKey: 'cc/dd/new.dcm', fileSize: 5, json: '{}' };
      expect(await index.insertInstances([again], 'keep')).toEqual([{ status: 'duplicate', existingFileKey: r.fileKey }]);
      const row = await index.getInstance(r.sopInstanceUid);
      expect(row?.fileKey).toBe(r.fileKey);
      expect(row?.json).toBe(r.json);
      expect(await index.countInstances()).toBe(1);
    });

    it('replaces the row on a duplicate (replace) and reports the previous file key', async () => {
      const r = makeRecord();
      await index.insertInstances([r]);
      const again = { ...r, fileKey: 'cc/dd/new.dcm', fileSize: 5, json: '{"x":1}', seriesInstanceUid: '1.2.3.100.9', modality: 'MR' };
      expect(await index.insertInstances([again], 'replace')).toEqual([{ status: 'replaced', previousFileKey: r.fileKey }]);
      const row = await index.getInstance(r.sopInstanceUid);
      expect(row).toMatchObject({ fileKey: 'cc/dd/new.dcm', fileSize: 5, json: '{"x":1}', seriesInstanceUid: '1.2.3.100.9' });
      // the old series lost its only instance and is gone
      expect((await index.listSeries('1.2.3.100')).map((s) => s.seriesInstanceUid)).toEqual(['1.2.3.100.9']);
      expect((await index.listStudies())[0].modalitiesInStudy).toEqual(['MR']);
      expect(await index.countInstances()).toBe(1);
    });

    it('handles the same SOP Instance UID twice within one batch', async () => {
      const r = makeRecord();
      const res = await index.insertInstances([r, { ...r, fileKey: 'ee/ff/x.dcm' }], 'keep');
      expect(res).toEqual([{ status: 'stored' }, { status: 'duplicate', existingFileKey: r.fileKey }]);
    });

    it('commits a batch in one write transaction', async () => {
      const before = index.writeTransactions;
      const recs = Array.from({ length: 50 }, (_, i) => makeRecord({ seriesInstanceUid: `1.2.3.100.${i % 3}` }));
      const res = await index.insertInstances(recs);
      expect(res.every((r) => r.status === 'stored')).toBe(true);
      expect(index.writeTransactions - before).toBe(1);
      expect(await index.countInstances()).toBe(50);
      expect(await index.listSeries('1.2.3.100')).toHaveLength(3);
    });

    it('rolls back a failed write transaction entirely', async () => {
      const boom = new Error('boom');
      await expect(
        index.write(async (tx) => {
          await tx.insertInstances([makeRecord(), makeRecord()], 'keep');
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await index.countInstances()).toBe(0);
      expect(await index.listStudies()).toEqual([]);
      // and the index is still usable
      await index.insertInstances([makeRecord()]);
      expect(await index.countInstances()).toBe(1);
    });

    it('gives read transactions no write operations', async () => {
      await expect(
        index.read(async (tx) => {
          expect('insertInstances' in tx).toBe(false);
          expect('deleteInstance' in tx).toBe(false);
          expect('execute' in tx).toBe(false);
          expect('forwardQueue' in tx).toBe(false);
          return tx.countInstances();
        }),
      ).resolves.toBe(0);
    });

    it('serializes concurrent write transactions', async () => {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          index.write(async (tx) => {
            await tx.insertInstances([makeRecord()], 'keep');
            await new Promise((r) => setTimeout(r, 1));
            await tx.insertInstances([makeRecord()], 'keep');
          }),
        ),
      );
      expect(await index.countInstances()).toBe(20);
    });

    it('deletes an instance and the series, study and patient it leaves empty', async () => {
      const a = makeRecord();
      const b = makeRecord({ studyInstanceUid: '1.2.3.200', seriesInstanceUid: '1.2.3.200.1' });
      await index.insertInstances([a, b]);
      expect(await index.deleteInstance(a.sopInstanceUid)).toEqual({ fileKey: a.fileKey });
      expect(await index.deleteInstance(a.sopInstanceUid)).toBeUndefined();
      expect((await index.listStudies()).map((s) => s.studyInstanceUid)).toEqual(['1.2.3.200']);
      await index.deleteInstance(b.sopInstanceUid);
      expect(await index.listStudies()).toEqual([]);
      expect(await index.countInstances()).toBe(0);
      // a patient row was removed too: a new study for PID1 gets the new name
      await index.insertInstances([makeRecord({ patientName: 'New^Name' })]);
      expect((await index.listStudies())[0].patientName).toBe('New^Name');
    });

    it('persists across reopen', async () => {
      const r = makeRecord();
      await index.insertInstances([r]);
      await index.close();
      index = await factory.open();
      expect(await index.getInstance(r.sopInstanceUid)).toMatchObject({ fileKey: r.fileKey });
    });
  });
}
