/**
 * Storage commitment reports with two Main Server nodes on one PostgreSQL database (issue
 * 17): while both live, each pending report is sent once, by one of them; a report whose
 * node died holding its claim is sent by the other once the claim lapsed, and only then.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitmentStore } from '../../src/archive/commitment-store.js';
import { ScpDispatcher } from '../../src/dimse/scp-dispatcher.js';
import { ServiceRegistry } from '../../src/dimse/service.js';
import { newUid } from '../../src/dicom/uid-generator.js';
import { createAcceptor } from '../../src/net/index.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { commitmentReportReceiver } from '../../src/services/commitment-scu.js';
import { datasetBytes, storeRequest, CT_IMAGE } from '../archive/helpers.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const schema = freshSchemaName();
const LEASE_MS = 15_000;
const servers: MainServer[] = [];
/** Reports the requestor received, by Transaction UID, and who sent each. */
const received = new Map<string, string[]>();
let reportPort: number;
let closeReceiver: () => Promise<void>;

async function node(name: string): Promise<MainServer> {
  const s = await startMainServer({
    aeTitle: 'PACS',
    port: await freePort(),
    dataDir: join(await makeTempDir(`pacs-node-${name}-`), 'data'),
    index: { postgres: PG_URL, schema },
    logger: pino({ level: 'silent' }),
    commitment: {
      resolveRequestor: (aet) => (aet === 'MODALITY' ? { host: '127.0.0.1', port: reportPort } : undefined),
      reportMode: () => 'new',
      retryIntervalMs: 250,
      leaseMs: LEASE_MS,
      claimant: name,
    },
  });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  reportPort = await freePort();
  const registry = new ServiceRegistry([
    commitmentReportReceiver((r, from) => {
      received.set(r.transactionUid, [...(received.get(r.transactionUid) ?? []), from]);
    }),
  ]);
  const acceptor = createAcceptor({ onAssociation: (a) => void new ScpDispatcher(a, registry, pino({ level: 'silent' })) });
  await acceptor.listen(reportPort);
  closeReceiver = () => acceptor.close();
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await closeReceiver?.();
  await dropSchema(schema);
  await removeTempDirs();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storage commitment on two nodes sharing one PostgreSQL database', () => {
  it('sends each pending report once while both nodes run, and a dead node’s report once its claim lapsed', async () => {
    const a = await node('node-a');
    const stored = { sopInstanceUid: newUid(), sopClassUid: CT_IMAGE };
    const sink = a.archive.beginStore(storeRequest(stored));
    await sink.write(datasetBytes(stored));
    await sink.end();
    const store = await CommitmentStore.open(a.archive.index);
    const request = [{ sopClassUid: CT_IMAGE, sopInstanceUid: stored.sopInstanceUid }];

    // A report node-c was sending when it died: its claim stays in the database.
    const orphan = newUid();
    await store.add({ transactionUid: orphan, callingAeTitle: 'MODALITY', calledAeTitle: 'PACS', request });
    const claimedAt = Date.now(); // before the claim: its lease is counted from inside claim()
    expect(await store.claim(orphan, 'node-c', LEASE_MS)).toBe(true);
    // Reports accepted by the two live nodes, not yet sent.
    const live = Array.from({ length: 6 }, () => newUid());
    for (const uid of live) await store.add({ transactionUid: uid, callingAeTitle: 'MODALITY', calledAeTitle: 'PACS', request });

    await node('node-b');
    // Both nodes retry every 250 ms: every live report arrives, each once.
    await expect.poll(() => live.filter((u) => received.has(u)).length, { timeout: 30_000 }).toBe(live.length);
    // While node-c's claim lasts (the live reports took a fraction of it), no live node sends its report.
    expect(Date.now() - claimedAt).toBeLessThan(LEASE_MS);
    expect(received.has(orphan)).toBe(false);
    expect(await store.get(orphan)).toMatchObject({ state: 'pending', attempts: 0, claimedBy: 'node-c' });
    // Once it lapsed, one of them does.
    await expect.poll(() => received.get(orphan)?.length ?? 0, { timeout: LEASE_MS + 30_000 }).toBe(1);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(LEASE_MS);

    await sleep(1500); // several more retry rounds on both nodes
    for (const uid of [...live, orphan]) {
      expect(received.get(uid), uid).toHaveLength(1);
      expect(await store.get(uid)).toMatchObject({ state: 'done', attempts: 1 });
    }
    expect(received.get(orphan)).toEqual(['PACS']);
  });
});
