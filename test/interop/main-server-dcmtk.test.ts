/**
 * The Main Server against DCMTK: echoscu; storescu in every transfer syntax DCMTK can
 * write, checked byte for byte against what DCMTK's own storescp (+B, bit-preserving)
 * received from the same storescu command; a multi-frame and a 1 GB+ instance with
 * the server's memory watched; `pacs store` into storescp and Orthanc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readMeta,
  writeCtSeries,
  writeLargeInstance,
  writeMultiFrame,
  writeTransferSyntaxVariants,
  type TransferSyntaxVariant,
} from '../../scripts/gen-test-data.js';
import {
  echoscu,
  REPO_ROOT,
  runDcmtk,
  startOrthanc,
  startPacs,
  startStorescp,
  stopAllPeers,
  storescu,
  type PacsPeer,
  type StorescpPeer,
} from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dataSetHash, indexPart10Files, part10Info } from './dicom-files.js';

let dir: string;
let pacs: PacsPeer;
let reference: StorescpPeer;
let variants: TransferSyntaxVariant[];

beforeAll(async () => {
  dir = await makeTempDir('pacs-main-');
  [pacs, reference, variants] = await Promise.all([
    startPacs({ dir: join(dir, 'pacs') }),
    startStorescp({ dir: join(dir, 'storescp'), args: ['+B'] }),
    writeTransferSyntaxVariants({ dir: join(dir, 'variants') }),
  ]);
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

/**
 * A storescu association profile proposing exactly the file's SOP class in its own
 * transfer syntax, so storescu sends the stored bytes and never converts.
 */
function exactProposal(file: string): string[] {
  const meta = readMeta(file);
  const cfg = `${file}.cfg`;
  writeFileSync(
    cfg,
    [
      '[[TransferSyntaxes]]',
      '[TS]',
      `TransferSyntax1 = ${meta.transferSyntaxUid}`,
      '',
      '[[PresentationContexts]]',
      '[PC]',
      `PresentationContext1 = ${meta.sopClassUid}\\TS`,
      '',
      '[[Profiles]]',
      '[Exact]',
      'PresentationContexts = PC',
      '',
    ].join('\n'),
  );
  return ['-xf', cfg, 'Exact'];
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

describe('Main Server with DCMTK', () => {
  it('answers echoscu', async () => {
    const r = await echoscu({ port: pacs.port, calledAet: 'PACS' });
    expect(r.code, r.stderr).toBe(0);
  });

  it('rejects echoscu calling a wrong AE title', async () => {
    const r = await echoscu({ port: pacs.port, calledAet: 'NOT_PACS' });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/Called AE Title Not Recognized/i);
  });

  it('stores every transfer syntax DCMTK can write, byte for byte as sent', async () => {
    // GE's private syntax is left out: DCMTK's own DIMSE layer refuses to send in it.
    const made = variants.filter((v) => v.ok && v.standard);
    // Every standard syntax DCMTK writes must be among them.
    expect(made.map((v) => v.name)).toEqual(
      expect.arrayContaining([
        'implicit-le',
        'explicit-le',
        'explicit-be',
        'deflated-le',
        'jpeg-lossless',
        'jpeg-lossless-sv1',
        'jpegls-lossless',
        'jpegls-near-lossless',
        'rle',
        'jpeg-baseline',
        'jpeg-extended',
      ]),
    );
    const refused = new Set<string>();
    for (const v of made) {
      const args = exactProposal(v.file!);
      const toPacs = await storescu({ port: pacs.port, calledAet: 'PACS', files: [v.file!], args });
      expect(toPacs.code, `${v.source}/${v.name}: ${toPacs.stderr}`).toBe(0);
      const toRef = await storescu({ port: reference.port, calledAet: reference.aet, files: [v.file!], args });
      // storescp does not accept the retired JPEG processes; there the source file is the reference.
      if (toRef.code !== 0 && /No Acceptable Presentation Contexts/.test(toRef.stderr)) refused.add(v.file!);
      else expect(toRef.code, `${v.source}/${v.name} to storescp: ${toRef.stderr}`).toBe(0);
    }
    const stored = await indexPart10Files(pacs.dataDir);
    const received = await indexPart10Files(reference.storageDir);
    for (const v of made) {
      const source = (await part10Info(v.file!))!;
      const ours = stored.get(source.sopInstanceUid);
      expect(ours, `${v.source}/${v.name} stored`).toBeDefined();
      expect(ours!.transferSyntaxUid).toBe(v.transferSyntaxUid);
      const theirs = refused.has(v.file!) ? source : received.get(source.sopInstanceUid);
      expect(theirs, `${v.source}/${v.name} received by storescp`).toBeDefined();
      expect(await dataSetHash(ours!), `${v.source}/${v.name} bytes`).toBe(await dataSetHash(theirs!));
    }
    expect(refused.size).toBeLessThan(made.length / 2);
  });

  it('stores a multi-frame instance', async () => {
    const mf = await writeMultiFrame({ dir: join(dir, 'mf'), frames: 40, rows: 256, cols: 256 });
    const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: [mf.file], args: exactProposal(mf.file) });
    expect(r.code, r.stderr).toBe(0);
    const ours = (await indexPart10Files(pacs.dataDir)).get(mf.sopInstanceUid);
    const src = await part10Info(mf.file);
    expect(await dataSetHash(ours!)).toBe(await dataSetHash(src!));
  });

  it('stores a 1 GB+ instance with the server RSS rising by less than 64 MB', async () => {
    const big = await writeLargeInstance({ dir: join(dir, 'large'), bytes: 1.05e9 });
    const baseline = rssKb(pacs.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(pacs.pid))), 25);
    try {
      const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: [big.file], args: exactProposal(big.file), timeoutMs: 300_000 });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      clearInterval(sampler);
    }
    const growthMb = (peak - baseline) / 1024;
    console.log(`1 GB store: server RSS ${Math.round(baseline / 1024)} MB before, peak ${Math.round(peak / 1024)} MB (+${growthMb.toFixed(1)} MB)`);
    expect(growthMb).toBeLessThan(64);
    const ours = (await indexPart10Files(pacs.dataDir)).get(big.sopInstanceUid);
    expect(ours).toBeDefined();
    expect(await dataSetHash(ours!)).toBe(await dataSetHash((await part10Info(big.file))!));
  }, 600_000);
});

describe('pacs store', () => {
  it('sends a series to DCMTK storescp and to Orthanc', async () => {
    const series = await writeCtSeries({ dir: join(dir, 'series'), count: 12, rows: 128, cols: 128 });
    const scp = await startStorescp({ dir: join(dir, 'scp2') });
    const orthanc = await startOrthanc({ dir: join(dir, 'orthanc') });
    const pacsCli = join(REPO_ROOT, 'bin/pacs.js');
    for (const target of [
      { port: scp.port, aet: scp.aet },
      { port: orthanc.dicomPort, aet: orthanc.aet },
    ]) {
      const r = await runDcmtk(process.execPath, [pacsCli, 'store', '127.0.0.1', String(target.port), '--aec', target.aet, '-j', '2', join(dir, 'series')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/stored 12 of 12 files/);
    }
    expect(await scp.countFiles()).toBe(12);
    expect((await orthanc.statistics()).CountInstances).toBe(12);
    expect(series.files).toHaveLength(12);
  });
});
