/**
 * Add-ins in a real `pacs serve` (child process) with real peers: the example webhook
 * against a local HTTP receiver (storescu a study, wait until it is stable, the JSON
 * summary arrives), the example Print SCP against DCMTK's print SCU (dcmpsprt makes a print
 * job from an image, dcmprscu sends it: N-GET printer, N-CREATE film session and film box,
 * N-SET image box, N-ACTION print, N-DELETE), and containment: add-ins that throw at load,
 * throw on every instance or hang do not stop the roles (echoscu and storescu succeed) and
 * are reported on GET /api/status.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestinationStatus, PluginStatus, Status } from '../../src/api-types/index.js';
import { addPlugin, ConfigStore } from '../../src/config/index.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import type { StudyStableNotification } from '../../plugins/webhook/index.js';
import type { PrintJob } from '../../plugins/print-scp/index.js';
import { CT_IMAGE, EXPLICIT_LE } from '../archive/helpers.js';
import { putMono16Image } from '../support/mono16-image.js';
import { echoscu, REPO_ROOT, runDcmtk, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';
import { writeInstances } from './instance-files.js';

const FIXTURES = join(REPO_ROOT, 'test/roles/fixtures/plugins');
const auth = { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` };

let receiver: Server;
const received: { path: string; contentType: string; body: unknown }[] = [];
let serve: Awaited<ReturnType<typeof startPacsServe>>;
let dir: string;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function status(): Promise<Status> {
  const r = await fetch(`${serve.base}/api/status`, { headers: auth });
  expect(r.status).toBe(200);
  return (await r.json()) as Status;
}
const plugin = (s: Status, name: string): PluginStatus | undefined => s.plugins.find((p) => p.name === name);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    void readBody(req).then((text) => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: JSON.parse(text) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookPort = (receiver.address() as { port: number }).port;

  dir = await makeTempDir('pacs-plugins-');
  const config = await ConfigStore.open(join(dir, 'data'));
  const entries = [
    { module: join(REPO_ROOT, 'plugins/webhook/index.ts'), options: { url: `http://127.0.0.1:${hookPort}/hooks/pacs`, stableSeconds: 1.5 } },
    { module: join(REPO_ROOT, 'plugins/print-scp/index.ts') },
    { module: join(FIXTURES, 'throws-at-load.ts') },
    { module: join(FIXTURES, 'throws-on-instance.ts') },
    { module: join(FIXTURES, 'hangs.ts'), timeoutSeconds: 1 },
    { module: join(FIXTURES, 'file-reader.ts') },
    { module: join(FIXTURES, 'collector.ts') },
  ];
  await config.update((reg) => entries.reduce((r, e) => addPlugin(r, e), reg));
  config.close();
  // The Router sends everything to the collector add-in's own kind of destination.
  const rules = await RuleStore.open(join(dir, 'data'), { registry: () => config.current });
  await rules.update(() => ({ rules: [{ name: 'to the add-in', condition: 'true', destinations: ['@collector'] }] }));
  rules.close();
  serve = await startPacsServe(dir, 'password');
});

afterAll(async () => {
  await stopAllPeers();
  await new Promise((r) => receiver?.close(r));
  await removeTempDirs();
});

describe('add-ins in pacs serve', () => {
  it('reports each add-in on the status API: loaded, or failed at load with the error', async () => {
    const s = await status();
    expect(s.plugins.map((p) => [p.name, p.state])).toEqual([
      ['webhook', 'loaded'],
      ['print-scp', 'loaded'],
      ['throws-at-load', 'failed'],
      ['throws-on-instance', 'loaded'],
      ['hangs', 'loaded'],
      ['file-reader', 'loaded'],
      ['collector', 'loaded'],
    ]);
    expect(s.plugins[2].loadError).toBe('create() threw: boom at load');
    expect(plugin(s, 'print-scp')?.provides.sopClasses).toEqual([{ role: 'main', sopClassUid: '1.2.840.10008.5.1.1.9' }]);
    // Every role listens despite the failed add-in.
    expect(s.roles.map((r) => [r.role, r.listening])).toEqual([
      ['main', true],
      ['workstation', true],
      ['router', true],
    ]);
  });

  it('stores a study despite add-ins that throw or hang on every instance, POSTs its summary once stable, and counts the failures', async () => {
    const files = await makeTempDir();
    const written = writeInstances(files, '1.2.826.0.1.3680043.10.99.7', 4, { modality: 'CT' });
    const echo = await echoscu({ port: serve.pacs.port, calledAet: 'PACS' });
    expect(echo.code).toBe(0);
    const sent = await storescu({ port: serve.pacs.port, calledAet: 'PACS', callingAet: 'CT01', files: written.map((w) => w.path) });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).not.toMatch(/Store Failed|failed/i);

    const hook = await until('the webhook POST', async () => received[0], 30_000);
    expect(hook.path).toBe('/hooks/pacs');
    expect(hook.contentType).toBe('application/json');
    const body = hook.body as StudyStableNotification;
    expect(body).toMatchObject({
      event: 'study.stable',
      studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
      patientId: 'PID42',
      modalities: ['CT'],
      numberOfSeries: 1,
      numberOfInstances: 4,
      roles: ['main'],
      callingAeTitles: ['CT01'],
      stableSeconds: 1.5,
      series: [{ seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1', modality: 'CT', numberOfInstances: 4 }],
    });
    expect(body.totalBytes).toBeGreaterThan(4 * 4096);
    // Stable means quiet for stableSeconds after the last instance.
    expect(Date.now() - Date.parse(body.lastReceivedAt)).toBeGreaterThanOrEqual(1500);
    expect(received).toHaveLength(1);

    // The file-reader add-in read every stored file through its stream.
    const seen = await fetch(`${serve.base}/api/plugins/file-reader`, { headers: auth }).then(
      (r) => r.json() as Promise<{ seen: { sopInstanceUid: string; preamble: string; bytesRead: number; fileSize: number }[] }>,
    );
    expect(seen.seen.map((x) => x.sopInstanceUid).sort()).toEqual(written.map((w) => w.uid).sort());
    for (const x of seen.seen) expect([x.preamble, x.bytesRead]).toEqual(['DICM', x.fileSize]);

    // Thrown and hung calls are counted, with the last error; the roles still answer.
    const s = await until('the hung events timed out', async () => {
      const st = await status();
      return (plugin(st, 'hangs')?.errorCount ?? 0) >= 4 && st;
    });
    expect(plugin(s, 'throws-on-instance')).toMatchObject({
      state: 'loaded',
      errorCount: 4,
      lastError: { message: expect.stringMatching(/^boom on 1\.2\.826\.0\.1\.3680043\.10\.99\.7\.\d$/) },
    });
    expect(plugin(s, 'hangs')).toMatchObject({ state: 'loaded', errorCount: 4, lastError: { message: 'did not finish within 1 s' } });
    expect(plugin(s, 'webhook')?.errorCount).toBe(0);
    expect(s.roles.find((r) => r.role === 'main')?.instancesStored).toBe(4);
    expect((await echoscu({ port: serve.pacs.port, calledAet: 'PACS' })).code).toBe(0);

    // The activity log names the add-in that did not load, and the first failure of each failing one (one a minute, not one per instance).
    type Events = { events: { target?: string; message: string; reason?: string; outcome: string }[] };
    const read = async () => (await (await fetch(`${serve.base}/api/activity?kind=plugin&limit=100`, { headers: auth })).json()) as Events;
    const events = await until('the add-in events in the activity log', async () => {
      const e = await read();
      return e.events.some((x) => x.target === 'hangs') && e;
    });
    const of = (name: string) => events.events.filter((e) => e.target === name);
    expect(of('throws-at-load')).toEqual([
      expect.objectContaining({ outcome: 'failure', message: 'add-in throws-at-load not loaded', reason: 'create() threw: boom at load' }),
    ]);
    expect(of('throws-on-instance')).toHaveLength(1);
    expect(of('throws-on-instance')[0].reason).toMatch(/^boom on 1\.2\.826\.0\.1\.3680043\.10\.99\.7\.\d$/);
    expect(of('hangs')).toEqual([expect.objectContaining({ reason: 'did not finish within 1 s' })]);
    expect(of('webhook')).toEqual([]);
  });

  it("serves an add-in's routes with their access and answers its failures as problems", async () => {
    const unauth = await fetch(`${serve.base}/api/plugins/webhook`);
    expect(unauth.status).toBe(401);
    const r = await fetch(`${serve.base}/api/plugins/webhook`, { headers: auth });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ stableSeconds: 1.5, notifications: 1, failures: 0, pending: [] });
    const fail = await fetch(`${serve.base}/api/plugins/throws-on-instance/fail`, { headers: auth });
    expect(fail.status).toBe(500);
    expect(await fail.json()).toMatchObject({ type: 'urn:open-pacs:problem:add-in', status: 500 });
    const hang = await fetch(`${serve.base}/api/plugins/hangs`, { headers: auth });
    expect(hang.status).toBe(504);
    // A failed add-in has no routes.
    expect((await fetch(`${serve.base}/api/plugins/throws-at-load`, { headers: auth })).status).toBe(404);
    // Each failed call is counted (the route throw and the route hang included).
    const s = await status();
    expect(plugin(s, 'throws-on-instance')?.lastError).toMatchObject({ where: 'GET /api/plugins/throws-on-instance/fail', message: 'boom on request' });
    expect(plugin(s, 'hangs')?.lastError).toMatchObject({ where: 'GET /api/plugins/hangs', message: 'did not finish within 1 s' });
  });

  it('forwards from the Router to an add-in destination (@collector)', async () => {
    const files = await makeTempDir();
    const written = writeInstances(files, '1.2.826.0.1.3680043.10.99.9', 3, { modality: 'MR' });
    const sent = await storescu({ port: serve.routerPort, calledAet: 'ROUTER', callingAet: 'MR01', files: written.map((w) => w.path) });
    expect(sent.code, sent.stderr).toBe(0);
    type Got = { got: { sopInstanceUid: string; role: string; patientId: string | null; modality: string | null; bytesRead: number; fileSize: number }[] };
    const got = await until('three instances at the add-in destination', async () => {
      const r = (await fetch(`${serve.base}/api/plugins/collector`, { headers: auth }).then((x) => x.json())) as Got;
      return r.got.length >= 3 && r.got;
    });
    expect(got.map((g) => g.sopInstanceUid).sort()).toEqual(written.map((w) => w.uid).sort());
    for (const g of got) expect(g).toMatchObject({ role: 'router', patientId: 'PID42', modality: 'MR', bytesRead: g.fileSize });
    const queue = (await fetch(`${serve.base}/api/router/queue`, { headers: auth }).then((x) => x.json())) as DestinationStatus[];
    expect(queue.find((d) => d.destination === '@collector')).toMatchObject({ delivered: 3, failed: 0, dead: 0, lastError: null });
  });

  it('prints a film from DCMTK dcmprscu through the print add-in', async () => {
    const work = await makeTempDir();
    // A 64x48 MONOCHROME2 image for dcmpsprt to lay out.
    const ds = new Dataset();
    putString(ds, 0x00080016, 'UI', CT_IMAGE);
    putString(ds, 0x00080018, 'UI', '1.2.826.0.1.3680043.10.99.8.1');
    putString(ds, 0x00080060, 'CS', 'CT');
    putString(ds, 0x00100020, 'LO', 'PRINT1');
    putString(ds, 0x0020000d, 'UI', '1.2.826.0.1.3680043.10.99.8');
    putString(ds, 0x0020000e, 'UI', '1.2.826.0.1.3680043.10.99.8.0');
    const pixels = new Uint8Array(64 * 48 * 2);
    for (let i = 0; i < pixels.length; i += 2) pixels[i] = (i / 2) % 256;
    putMono16Image(ds, { rows: 48, cols: 64, bitsStored: 12, pixels });
    writeFileSync(
      join(work, 'image.dcm'),
      Buffer.concat([
        buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.826.0.1.3680043.10.99.8.1', transferSyntaxUid: EXPLICIT_LE }),
        writeDataset(ds, EXPLICIT_LE),
      ]),
    );
    writeFileSync(
      join(work, 'print.cfg'),
      [
        '[[GENERAL]]',
        '[PRINT]',
        'Directory = spool',
        'DeletePrintJobs = false',
        'MinPrintResolution = 16\\16',
        'MaxPrintResolution = 8192\\8192',
        '[DATABASE]',
        'Directory = database',
        '[[COMMUNICATION]]',
        '[ADDIN]',
        'Aetitle = PACS',
        'Description = the print add-in',
        'Hostname = 127.0.0.1',
        `Port = ${serve.pacs.port}`,
        'Type = PRINTER',
        'ImplicitOnly = false',
        'DisableNewVRs = false',
        'FilmSizeID = 8INX10IN',
        'MediumType = PAPER',
        'DisplayFormat = 1,1',
        'Supports12Bit = true',
        'SupportsPresentationLUT = false',
        '',
      ].join('\n'),
    );
    for (const d of ['spool', 'database']) await import('node:fs/promises').then((fs) => fs.mkdir(join(work, d)));
    const made = await runDcmtk('dcmpsprt', ['-c', 'print.cfg', '--printer', 'ADDIN', '--filmsize', '8INX10IN', 'image.dcm'], { cwd: work });
    expect(made.code, made.stderr).toBe(0);
    const storedPrint = readdirSync(join(work, 'database')).find((f) => f.startsWith('SP_'));
    expect(storedPrint).toBeDefined();
    const printed = await runDcmtk(
      'dcmprscu',
      ['-c', 'print.cfg', '--printer', 'ADDIN', '--medium-type', 'PAPER', '--copies', '2', '-v', join('database', storedPrint!)],
      { cwd: work },
    );
    expect(printed.code, printed.stdout + printed.stderr).toBe(0);
    expect(printed.stdout + printed.stderr).not.toMatch(/\bE:|error/i);

    const jobs = (await fetch(`${serve.base}/api/plugins/print-scp/jobs`, { headers: auth }).then((r) => r.json())) as { jobs: PrintJob[] };
    expect(jobs.jobs).toHaveLength(1);
    expect(jobs.jobs[0]).toMatchObject({
      id: 1,
      imageDisplayFormat: 'STANDARD\\1,1',
      filmSizeId: '8INX10IN',
      mediumType: 'PAPER',
      numberOfCopies: 2,
    });
    // One image box, set with the image as dcmpsprt rendered it (its matrix, whatever the scaling).
    expect(jobs.jobs[0].imageBoxes).toHaveLength(1);
    expect(jobs.jobs[0].imageBoxes[0].position).toBe(1);
    expect(jobs.jobs[0].imageBoxes[0].rows).toBeGreaterThan(0);
    expect(jobs.jobs[0].imageBoxes[0].columns).toBeGreaterThan(0);
    expect(plugin(await status(), 'print-scp')?.errorCount).toBe(0);
  });
});
