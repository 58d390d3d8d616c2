/**
 * Three `pacs serve` nodes on one PostgreSQL schema and one data directory (issue 17):
 * DCMTK storescu into all three at once, then every node answers for all of it (findscu,
 * getscu byte for byte, QIDO-RS and WADO-RS); a node SIGKILLed in the middle of a store
 * loses nothing it acknowledged, and its leftovers are swept by a live node once its lease
 * expired (no restart needed) or by its own restart; a node paused beyond its lease is
 * fenced (it commits nothing after the sweep and stops); a node runs only the roles it is
 * given.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore } from '../../src/config/index.js';
import { getString } from '../../src/dicom/dataset.js';
import { dropSchema, freshSchemaName } from '../archive/pg-support.js';
import { findscuDatasets } from '../support/findscu.js';
import { runDcmtk, stopAllPeers, type RunResult } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dataSetHash, indexPart10Files, part10Info, type Part10Info } from './dicom-files.js';
import { writeInstances, type Written } from './instance-files.js';
import { admin, logLines, NodeCluster, type Node } from './nodes-support.js';

const schema = freshSchemaName();
const ROOT = '1.2.826.0.1.3680043.10.1717.3';
const SCU = 'NODESCU';
const LEASE = ['--node-lease', '3'];
const PER_NODE = 300;
let base: string;
let cluster: NodeCluster;
const nodes: Node[] = [];
/** What was sent into each node, by node index: its study and files. */
const sent: { study: string; series: string; files: Written[] }[] = [];

/** A study of its own (number `n`, in its UIDs) of `files` CT instances, written as Part 10 files. */
function study(n: number, files: number): { study: string; series: string; files: Written[] } {
  const dir = join(base, 'files', String(n));
  mkdirSync(dir, { recursive: true });
  const studyUid = `${ROOT}.${n}`;
  const series = `${studyUid}.1`;
  return { study: studyUid, series, files: writeInstances(dir, series, files, { studyInstanceUid: studyUid, seriesInstanceUid: series }) };
}

function storescu(node: Node, files: Written[]): Promise<RunResult> {
  return runDcmtk('storescu', ['-v', '-aet', SCU, '-aec', 'PACS', '127.0.0.1', String(node.ports.main), ...files.map((f) => f.path)], {
    timeoutMs: 600_000,
  });
}

/** The files storescu saw acknowledged (a success C-STORE response), from its verbose log: it sends one at a time, in order. */
function acknowledged(r: RunResult, files: Written[]): Written[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const out: Written[] = [];
  let current: Written | undefined;
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    const sending = /^I: Sending file: (.+)$/.exec(line);
    if (sending) current = byPath.get(sending[1]);
    else if (/^I: Received Store Response \(Success\)/.test(line) && current) {
      out.push(current);
      current = undefined;
    }
  }
  return out;
}

/** NumberOfStudyRelatedInstances of each study, as findscu (study root) gets it from `node`. */
async function instancesPerStudy(node: Node, studies: string[], tag: string): Promise<number[]> {
  const out: number[] = [];
  for (const [i, uid] of studies.entries()) {
    const found = await findscuDatasets({
      port: node.ports.main,
      model: '-S',
      callingAet: SCU,
      keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${uid}`, 'NumberOfStudyRelatedInstances'],
      outDir: join(base, 'find', `${tag}-${node.id}-${i}`),
    });
    expect(found).toHaveLength(1);
    out.push(Number(getString(found[0], 0x00201208)));
  }
  return out;
}

/** The SOP Instance UIDs of a series, as findscu (IMAGE level) gets them from `node`. */
async function sopUids(node: Node, s: { study: string; series: string }, tag: string): Promise<Set<string>> {
  const found = await findscuDatasets({
    port: node.ports.main,
    model: '-S',
    callingAet: SCU,
    keys: ['QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${s.study}`, `SeriesInstanceUID=${s.series}`, 'SOPInstanceUID'],
    outDir: join(base, 'find', `${tag}-${node.id}`),
  });
  return new Set(found.map((d) => getString(d, 0x00080018) ?? ''));
}

/** getscu of a study from `node`; the received files by SOP Instance UID. */
async function getStudy(node: Node, studyUid: string, tag: string): Promise<Map<string, Part10Info>> {
  const out = join(base, 'get', `${tag}-${node.id}`);
  mkdirSync(out, { recursive: true });
  const r = await runDcmtk(
    'getscu',
    [
      '-S',
      '-aet',
      SCU,
      '-aec',
      'PACS',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${studyUid}`,
      '127.0.0.1',
      String(node.ports.main),
    ],
    {
      timeoutMs: 300_000,
    },
  );
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return indexPart10Files(out);
}

/** The data set bytes (after the File Meta Information) of a sent file. */
async function sentDataSet(f: Written): Promise<Buffer> {
  const info = await part10Info(f.path);
  return readFileSync(f.path).subarray(info!.dataSetOffset);
}

async function storedCount(prefix: string): Promise<number> {
  const [row] = await cluster.query<{ n: string }>('SELECT count(*) AS n FROM instances WHERE sop_instance_uid LIKE $1', [`${prefix}%`]);
  return Number(row.n);
}

/** Stores `files` into `node` and SIGKILLs it once `after` of them are in the index; what storescu saw acknowledged, and the node's open batches at the kill. */
async function killMidStore(node: Node, files: Written[], prefix: string, after: number): Promise<{ acked: Written[]; markers: string[] }> {
  const store = storescu(node, files);
  await expect.poll(() => storedCount(prefix), { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(after);
  process.kill(node.peer.pid, 'SIGKILL');
  await expect.poll(() => node.peer.exited, { timeout: 10_000 }).toBe(true);
  const markers = cluster.openMarkers(node.id);
  const r = await store;
  expect(r.code).not.toBe(0); // the association died with the node
  const acked = acknowledged(r, files);
  console.log(
    `SIGKILL of ${node.id}: ${acked.length} of ${files.length} acknowledged, ${await storedCount(prefix)} in the index, ${markers.length} open batch(es)`,
  );
  expect(acked.length).toBeGreaterThanOrEqual(after - 5); // storescu heard of nearly all committed ones
  expect(acked.length).toBeLessThan(files.length);
  expect(markers.length).toBeGreaterThan(0);
  return { acked, markers };
}

/** Every acknowledged instance is found by findscu on `node` and comes back from it with getscu, its data set byte for byte. */
async function expectServed(node: Node, s: { study: string; series: string }, acked: Written[], tag: string): Promise<void> {
  const found = await sopUids(node, s, tag);
  expect(acked.filter((f) => !found.has(f.uid)).map((f) => f.uid)).toEqual([]);
  const got = await getStudy(node, s.study, tag);
  for (const f of acked) {
    const info = got.get(f.uid);
    expect(info, f.uid).toBeDefined();
    expect(
      readFileSync(info!.path)
        .subarray(info!.dataSetOffset)
        .equals(await sentDataSet(f)),
      f.uid,
    ).toBe(true);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  base = await makeTempDir('pacs-nodes3-');
  const data = join(base, 'data');
  cluster = new NodeCluster(schema, base, data);
  // The first node imports this registry: a known caller that may query and retrieve.
  const seed = await ConfigStore.open(data);
  await seed.update((r) => addAe(r, { aeTitle: SCU, connection: { host: '127.0.0.1' }, permissions: ['echo', 'store', 'find', 'get'] }));
  seed.close();
  nodes.push(await cluster.startNode('n1', undefined, LEASE));
  nodes.push(...(await Promise.all([cluster.startNode('n2', undefined, LEASE), cluster.startNode('n3', undefined, LEASE)])));
  for (const n of [1, 2, 3]) sent.push(study(n, PER_NODE));
});

afterAll(async () => {
  await stopAllPeers();
  await dropSchema(schema);
  await removeTempDirs();
});

describe('three nodes on one PostgreSQL schema and one data directory', () => {
  it('take 3 × 300 CT from storescu at once; each node finds all 900, getscu on node 3 returns node 1’s byte for byte, DICOMweb on node 2 serves them', async () => {
    const t0 = performance.now();
    const results = await Promise.all(nodes.map((n, i) => storescu(n, sent[i].files)));
    const ms = performance.now() - t0;
    for (const r of results) expect(r.code, r.stderr.slice(-2000)).toBe(0);
    results.forEach((r, i) => expect(acknowledged(r, sent[i].files)).toHaveLength(PER_NODE));
    console.log(
      `3 × ${PER_NODE} instances stored into three nodes in parallel in ${Math.round(ms)} ms (${Math.round((3 * PER_NODE * 1000) / ms)} instances/s; indicative only)`,
    );

    const studies = sent.map((s) => s.study);
    for (const n of nodes) expect(await instancesPerStudy(n, studies, 'all')).toEqual([PER_NODE, PER_NODE, PER_NODE]);

    // What node 1 received, from node 3: every data set byte for byte as storescu sent it.
    const got = await getStudy(nodes[2], sent[0].study, 'n1-study');
    expect(got.size).toBe(PER_NODE);
    for (const f of sent[0].files) {
      const info = got.get(f.uid);
      expect(info, f.uid).toBeDefined();
      expect(await dataSetHash(info!)).toBe(await dataSetHash((await part10Info(f.path))!));
    }

    // DICOMweb on node 2: QIDO-RS counts, WADO-RS returns one instance of node 3's with its bytes.
    const web = `http://127.0.0.1:${nodes[1].ports.web}/dicomweb`;
    for (const s of sent) {
      const res = await fetch(`${web}/studies?StudyInstanceUID=${s.study}&includefield=00201208`, { headers: { ...admin, accept: 'application/dicom+json' } });
      expect(res.status).toBe(200);
      const [hit] = (await res.json()) as Array<Record<string, { Value?: unknown[] }>>;
      expect(Number(hit['00201208'].Value?.[0])).toBe(PER_NODE);
    }
    const one = sent[2].files[123];
    const wado = await fetch(`${web}/studies/${sent[2].study}/series/${sent[2].series}/instances/${one.uid}`, {
      headers: { ...admin, accept: 'multipart/related; type="application/dicom"' },
    });
    expect(wado.status).toBe(200);
    const body = Buffer.from(await wado.arrayBuffer());
    expect(body.includes(await sentDataSet(one))).toBe(true);
  }, 900_000);

  it('a node SIGKILLed in the middle of a store: what it acknowledged is on the others; once its lease expired a live node sweeps its open batches, no restart needed', async () => {
    const n3 = nodes[2];
    const s = study(4, PER_NODE);
    const { acked, markers } = await killMidStore(n3, s.files, `${s.series}.`, 40);
    for (const [i, n] of [nodes[0], nodes[1]].entries()) await expectServed(n, s, acked, `kill3-${i}`);

    // The periodic sweep of a live node (n1 or n2) takes n3's batches once its lease (3 s) expired.
    const sweptBy = () => [nodes[0], nodes[1]].find((n) => logLines(n).some((l) => l.msg === 'swept the open batches of node n3, whose lease has expired'));
    await expect.poll(sweptBy, { timeout: 60_000, interval: 500 }).toBeDefined();
    expect((await cluster.status()).find((r) => r.nodeId === 'n3')?.live).toBe(false);
    expect(cluster.openMarkers('n3')).toEqual([]);
    const { rows, filesChecked } = await cluster.expectConsistent(markers);
    expect(rows).toBeGreaterThanOrEqual(3 * PER_NODE + acked.length);
    expect(filesChecked).toBeGreaterThanOrEqual(acked.length);
    // Still served after the sweep.
    await expectServed(nodes[0], s, acked, 'kill3-after');
  }, 600_000);

  it('the same holds after a restart: of the node swept meanwhile, and of a node SIGKILLed and restarted at once (its own start-up sweep)', async () => {
    const n3 = nodes[2];
    nodes[2] = await cluster.startNode('n3', n3.ports, LEASE);
    await cluster.expectConsistent(cluster.openMarkers('n3'));

    const n2 = nodes[1];
    const s = study(5, PER_NODE);
    const { acked, markers } = await killMidStore(n2, s.files, `${s.series}.`, 40);
    nodes[1] = await cluster.startNode('n2', n2.ports, LEASE);
    // Its batches of before the kill are gone, by its own start-up sweep (or a live node's, had its lease expired first).
    const left = cluster.openMarkers('n2');
    expect(left.filter((m) => markers.includes(m))).toEqual([]);
    await cluster.expectConsistent(markers);
    await expectServed(nodes[1], s, acked, 'kill2-n2');
    await expectServed(nodes[2], s, acked, 'kill2-n3');
  }, 600_000);

  it('a node paused beyond its lease (SIGSTOP) mid-store is fenced: after the sweep it commits nothing, stops when it wakes, and every row has its file', async () => {
    const n4 = await cluster.startNode('n4', undefined, LEASE);
    const s = study(6, PER_NODE);
    const store = storescu(n4, s.files);
    await expect.poll(() => storedCount(`${s.series}.`), { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(40);
    process.kill(n4.peer.pid, 'SIGSTOP');
    const markers = cluster.openMarkers('n4');
    expect(markers.length).toBeGreaterThan(0);
    const sweptBy = () => nodes.find((n) => logLines(n).some((l) => l.msg === 'swept the open batches of node n4, whose lease has expired'));
    await expect.poll(sweptBy, { timeout: 60_000, interval: 500 }).toBeDefined();
    const indexedAtSweep = await storedCount(`${s.series}.`);
    process.kill(n4.peer.pid, 'SIGCONT');
    // Awake: its writes are refused, its heartbeat finds it fenced, and it stops (exit code 1).
    await expect.poll(() => n4.peer.exited, { timeout: 30_000 }).toBe(true);
    expect(logLines(n4).some((l) => l.msg === 'node "n4" was fenced: its lease expired and another node swept its open batches; restart it')).toBe(true);
    const r = await store;
    expect(r.code).not.toBe(0);
    const acked = acknowledged(r, s.files);
    console.log(
      `SIGSTOP of n4: ${acked.length} of ${s.files.length} acknowledged, ${indexedAtSweep} in the index at the sweep, ${markers.length} open batch(es)`,
    );
    expect(await storedCount(`${s.series}.`)).toBe(indexedAtSweep); // nothing committed after the fence
    await cluster.expectConsistent(markers);
    await expectServed(nodes[0], s, acked, 'stop4');
  }, 600_000);

  it('a node runs only the roles it is given: --roles router listens on its router port only, and pacs status says so', async () => {
    const r = await cluster.startNode('r1', undefined, ['--roles', 'router', ...LEASE], 'router');
    await expect.poll(async () => (await cluster.status()).find((n) => n.nodeId === 'r1')?.roles, { timeout: 20_000 }).toEqual(['router']);
    const row = (await cluster.status()).find((n) => n.nodeId === 'r1')!;
    expect(row.ports).toEqual({ router: r.ports.router });
    expect(await listening(r.ports.main)).toBe(false);
    expect(await listening(r.ports.workstation)).toBe(false);
    expect(await listening(r.ports.web)).toBe(false);
    const text = await cluster.status();
    expect(text.find((n) => n.nodeId === 'n1')?.roles).toEqual(['main', 'workstation', 'router', 'web']);
    await r.peer.stop();
  }, 120_000);
});
