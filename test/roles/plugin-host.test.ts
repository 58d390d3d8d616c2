/**
 * The add-in host's containment, in process: load failures (missing module, wrong API
 * version, a factory that throws or never settles) leave the plug-in failed with its error;
 * stored-instance listeners that throw or hang are counted, timed out and do not hold the
 * next events; the event queue is bounded; routes answer or fail as typed errors; DIMSE
 * handlers' throws become a Processing Failure status.
 */
import { writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Archive, StoredListener } from '../../src/archive/archive.js';
import type { InstanceRecord } from '../../src/archive/index-types.js';
import { pluginEntrySchema, type PluginEntry } from '../../src/config/index.js';
import { CommandField } from '../../src/dimse/command-fields.js';
import type { DimseRequestContext } from '../../src/dimse/service.js';
import { Status } from '../../src/dicom/status.js';
import { PluginCallError, PluginManager, STORED_QUEUE_MAX } from '../../src/roles/plugin-host.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

afterAll(removeTempDirs);

const FIXTURES = join(import.meta.dirname, 'fixtures/plugins');
const entry = (file: string, extra: Partial<PluginEntry> = {}): PluginEntry => pluginEntrySchema.parse({ module: join(FIXTURES, file), ...extra });
const silent = pino({ level: 'silent' });

/** An archive that only tells of stored instances, each a file on disk. */
function fakeArchive(): { archive: Archive; store(r: Partial<InstanceRecord>): void } {
  const listeners: StoredListener[] = [];
  const archive = {
    onStored: (l: StoredListener) => {
      listeners.push(l);
      return () => undefined;
    },
    blobs: { open: (key: string) => createReadStream(key) },
  } as unknown as Archive;
  return {
    archive,
    store: (r) => {
      const rec: InstanceRecord = {
        sopInstanceUid: '1.2.3.1',
        sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
        studyInstanceUid: '1.2.3',
        seriesInstanceUid: '1.2.3.0',
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        fileKey: '',
        fileSize: 0,
        receivedAt: new Date().toISOString(),
        callingAeTitle: 'STORESCU',
        json: '{"00100020":{"vr":"LO","Value":["PAT1"]}}',
        ...r,
      };
      for (const l of listeners) l(rec);
    },
  };
}

describe('plug-in host', () => {
  it('reports each kind of load failure and keeps loading the others', async () => {
    const dataDir = await makeTempDir();
    const m = await PluginManager.load({
      dataDir,
      logger: silent,
      entries: [
        entry('no-such-file.ts'),
        entry('wrong-version.ts'),
        entry('throws-at-load.ts'),
        entry('hangs-at-load.ts', { timeoutSeconds: 0.3 }),
        entry('file-reader.ts'),
        entry('file-reader.ts', { name: 'second-reader', enabled: false }),
      ],
    });
    const s = m.status();
    expect(s.map((p) => p.state)).toEqual(['failed', 'failed', 'failed', 'failed', 'loaded', 'disabled']);
    expect(s[0].loadError).toMatch(/^cannot import .*no-such-file\.ts: /);
    expect(s[1].loadError).toContain('declares plug-in API version 2; this server implements version 1');
    expect(s[2]).toMatchObject({ name: 'throws-at-load', loadError: 'create() threw: boom at load', errorCount: 1, lastError: { where: 'load' } });
    expect(s[3]).toMatchObject({ name: 'hangs-at-load', loadError: 'create() timed out: did not finish within 0.3 s' });
    expect(s[4]).toMatchObject({ name: 'file-reader', errorCount: 0, provides: { routes: 2, storedInstances: true } });
    // Only the loaded plug-in's routes are served.
    expect(m.routes().map((r) => `${r.plugin} ${r.route.method} ${r.route.path}`)).toEqual(['file-reader GET ', 'file-reader POST /echo/:id']);
    await m.close();
  });

  it('delivers stored instances with a read stream of the file, per role', async () => {
    const dataDir = await makeTempDir();
    const file = join(dataDir, 'f.dcm');
    writeFileSync(file, Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(100, 1)]));
    const m = await PluginManager.load({ dataDir, logger: silent, entries: [entry('file-reader.ts')] });
    const main = fakeArchive();
    const router = fakeArchive();
    m.attachArchive('main', main.archive);
    m.attachArchive('router', router.archive);
    main.store({ sopInstanceUid: '1.2.3.1', fileKey: file, fileSize: 232, modality: 'CT' });
    router.store({ sopInstanceUid: '1.2.3.2', fileKey: file, fileSize: 232 }); // not a role it listens on
    main.store({ sopInstanceUid: '1.2.3.3', fileKey: file, fileSize: 232 });
    const reply = await until('two instances seen', async () => {
      const r = await m.callRoute('file-reader', m.routes()[0].route, { method: 'GET', params: {}, query: {}, body: undefined });
      return (r.body as { seen: unknown[] }).seen.length === 2 && r;
    });
    expect(reply.body).toEqual({
      seen: [
        {
          sopInstanceUid: '1.2.3.1',
          studyInstanceUid: '1.2.3',
          role: 'main',
          fileSize: 232,
          bytesRead: 232,
          preamble: 'DICM',
          modality: 'CT',
          patientIdFromJson: 'PAT1',
        },
        {
          sopInstanceUid: '1.2.3.3',
          studyInstanceUid: '1.2.3',
          role: 'main',
          fileSize: 232,
          bytesRead: 232,
          preamble: 'DICM',
          modality: null,
          patientIdFromJson: 'PAT1',
        },
      ],
    });
    const posted = await m.callRoute('file-reader', m.routes()[1].route, {
      method: 'POST',
      params: { id: '7' },
      query: {},
      body: { a: 1 },
      user: { name: 'admin', role: 'admin' },
    });
    expect(posted).toEqual({ status: 201, body: { id: '7', body: { a: 1 }, user: { name: 'admin', role: 'admin' } } });
    await m.close();
  });

  it('counts a listener that throws on every instance, and one that hangs, without holding later events', async () => {
    const dataDir = await makeTempDir();
    const m = await PluginManager.load({
      dataDir,
      logger: silent,
      entries: [entry('throws-on-instance.ts'), entry('hangs.ts', { timeoutSeconds: 0.2 })],
    });
    const problems: string[] = [];
    m.onProblem((p) => problems.push(`${p.plugin}: ${p.message}`));
    const a = fakeArchive();
    m.attachArchive('main', a.archive);
    for (const n of [1, 2, 3]) a.store({ sopInstanceUid: `1.2.3.${n}` });
    await until('three hangs timed out', async () => m.status()[1].errorCount === 3);
    const [thrower, hung] = m.status();
    expect(thrower).toMatchObject({ state: 'loaded', errorCount: 3, queued: 0, lastError: { where: 'stored instance 1.2.3.3', message: 'boom on 1.2.3.3' } });
    expect(hung).toMatchObject({
      state: 'loaded',
      errorCount: 3,
      queued: 0,
      lastError: { where: 'stored instance 1.2.3.3', message: 'did not finish within 0.2 s' },
    });
    expect(problems).toContain('throws-on-instance: boom on 1.2.3.1');
    expect(problems).toContain('hangs: did not finish within 0.2 s');

    // Routes: a throw is a 500, a hang a 504, both typed and counted.
    const failRoute = m.routes().find((r) => r.plugin === 'throws-on-instance')!.route;
    const err = await m.callRoute('throws-on-instance', failRoute, { method: 'GET', params: {}, query: {}, body: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginCallError);
    expect((err as PluginCallError).httpStatus).toBe(500);
    const hangRoute = m.routes().find((r) => r.plugin === 'hangs')!.route;
    const timeout = await m.callRoute('hangs', hangRoute, { method: 'GET', params: {}, query: {}, body: undefined }).catch((e: unknown) => e);
    expect((timeout as PluginCallError).httpStatus).toBe(504);
    expect(m.status()[0].errorCount).toBe(4);
    expect(m.status()[1].errorCount).toBe(4);
    await m.close();
  });

  it('bounds the event queue of a plug-in that hangs: the rest are dropped and counted', async () => {
    const dataDir = await makeTempDir();
    const m = await PluginManager.load({ dataDir, logger: silent, entries: [entry('hangs.ts', { timeoutSeconds: 30 })] });
    const a = fakeArchive();
    m.attachArchive('main', a.archive);
    const sent = STORED_QUEUE_MAX + 11;
    for (let i = 0; i < sent; i++) a.store({ sopInstanceUid: `1.2.4.${i}` });
    const s = m.status()[0];
    // One event is in the listener (hung), STORED_QUEUE_MAX wait, 10 were dropped.
    expect(s.queued).toBe(STORED_QUEUE_MAX);
    expect(s.errorCount).toBe(10);
    expect(s.lastError?.message).toBe(`event queue full (${STORED_QUEUE_MAX}): 1.2.4.${sent - 1} not delivered`);
    await m.close();
  });

  it('answers a DIMSE request whose handler throws with Processing Failure and counts it', async () => {
    const dataDir = await makeTempDir();
    const mod = join(dataDir, 'dimse-thrower.mjs');
    writeFileSync(
      mod,
      `export default { apiVersion: 1, name: 'dimse-thrower', create(host) {
        host.dimse.register({ role: 'router', sopClasses: ['1.2.3.4.5'], handlers: { 'N-ACTION': () => { throw new Error('no'); }, 'C-ECHO': () => ({ status: 0 }) } });
      } };`,
    );
    const m = await PluginManager.load({ dataDir, logger: silent, entries: [pluginEntrySchema.parse({ module: './dimse-thrower.mjs' })] });
    expect(m.servicesFor('main')).toEqual([]);
    const [svc] = m.servicesFor('router');
    expect(svc.sopClasses).toEqual(['1.2.3.4.5']);
    const ctx = {
      command: { commandField: CommandField.N_ACTION_RQ, commandDataSetType: 0x0101, requestedSopClassUid: '1.2.3.4.5', actionTypeId: 1 },
      abstractSyntax: '1.2.3.4.5',
      transferSyntax: '1.2.840.10008.1.2',
      association: { callingAeTitle: 'A', calledAeTitle: 'B' },
      signal: new AbortController().signal,
    } as unknown as DimseRequestContext;
    const rsp = await svc.handlers![CommandField.N_ACTION_RQ]!(ctx, undefined);
    expect(rsp).toEqual({ status: Status.ProcessingFailure, errorComment: 'add-in dimse-thrower failed' });
    const echo = await svc.handlers![CommandField.C_ECHO_RQ]!({ ...ctx, command: { ...ctx.command, commandField: CommandField.C_ECHO_RQ } }, undefined);
    expect(echo.status).toBe(Status.Success);
    expect(m.status()[0]).toMatchObject({ errorCount: 1, lastError: { where: 'N-ACTION 1.2.3.4.5', message: 'no' } });
    await m.close();
  });
});
