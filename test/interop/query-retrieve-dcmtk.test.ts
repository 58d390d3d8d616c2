/**
 * Query/Retrieve on the Main Server against DCMTK: findscu (table-driven: query ->
 * expected matches, every matching form), movescu into storescp and getscu (data sets
 * byte-identical), bad queries with their failure statuses, C-CANCEL.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, getString, getStrings } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { readDataset } from '../../src/dicom/dataset-reader.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { connect } from '../../src/net/index.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { QR_SOP_CLASSES } from '../../src/services/qr-identifier.js';
import { cFind, cGet, cMove, folderStorageService, getPresentationContexts } from '../../src/services/qr-scu.js';
import { ScpDispatcher } from '../../src/dimse/scp-dispatcher.js';
import { ServiceRegistry } from '../../src/dimse/service.js';
import { findscuDatasets } from '../support/findscu.js';
import { freePort, runDcmtk, startStorescp, stopAllPeers, storescu, type StorescpPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dataSetHash, indexPart10Files, part10Info } from './dicom-files.js';
import { SERIES, STUDY, writeQrData, type WrittenInstance } from './qr-data.js';
import { writeCtSeries, writeTransferSyntaxVariants, type TransferSyntaxVariant } from '../../scripts/gen-test-data.js';
import { inspectFiles, storeFiles } from '../../src/services/storage-scu.js';

let dir: string;
let server: MainServer;
let port: number;
let storescp: StorescpPeer;
let files: WrittenInstance[];
const extraDestinations = new Map<string, number>();

beforeAll(async () => {
  dir = await makeTempDir('pacs-qr-');
  mkdirSync(join(dir, 'in'));
  files = writeQrData(join(dir, 'in'));
  storescp = await startStorescp({ dir: join(dir, 'storescp') });
  port = await freePort();
  server = await startMainServer({
    aeTitle: 'PACS',
    port,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    logger: pino({ level: 'silent' }),
    resolveMoveDestination: (ae) =>
      ae === 'STORESCP'
        ? { host: '127.0.0.1', port: storescp.port }
        : extraDestinations.has(ae)
          ? { host: '127.0.0.1', port: extraDestinations.get(ae)! }
          : undefined,
  });
  const r = await storescu({ port, calledAet: 'PACS', files: files.map((f) => f.path) });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await server?.close();
  await stopAllPeers();
  await removeTempDirs();
});

let run = 0;
/** findscu with -X: each response identifier lands in a file; returns them parsed. */
async function findscu(model: '-S' | '-P', keys: string[]): Promise<Dataset[]> {
  return findscuDatasets({ port, model, keys, outDir: join(dir, `find-${++run}`) });
}

// [what, model, level, keys, returned attribute, expected values]
const FIND_CASES: [string, '-S' | '-P', string, string[], string, string[]][] = [
  ['all studies', '-S', 'STUDY', [], 'StudyInstanceUID', Object.values(STUDY)],
  ['name wildcard, case-insensitive', '-S', 'STUDY', ['PatientName=doe*'], 'StudyInstanceUID', [STUDY.A, STUDY.B, STUDY.C]],
  ['name single value, case-insensitive', '-S', 'STUDY', ['PatientName=DOE^JANE'], 'StudyInstanceUID', [STUDY.A, STUDY.B]],
  ['name ? wildcard', '-S', 'STUDY', ['PatientName=Sm?th*'], 'StudyInstanceUID', [STUDY.E]],
  ['Latin-1 stored name, UTF-8 key', '-S', 'STUDY', ['SpecificCharacterSet=ISO_IR 192', 'PatientName=MÜLLER*'], 'StudyInstanceUID', [STUDY.D]],
  ['exact patient ID', '-S', 'STUDY', ['PatientID=QR-P1'], 'StudyInstanceUID', [STUDY.A, STUDY.B]],
  ['date closed range', '-S', 'STUDY', ['StudyDate=20240101-20240331'], 'StudyInstanceUID', [STUDY.A, STUDY.B]],
  ['date open start', '-S', 'STUDY', ['StudyDate=-20240105'], 'StudyInstanceUID', [STUDY.A, STUDY.C]],
  ['date open end', '-S', 'STUDY', ['StudyDate=20240610-'], 'StudyInstanceUID', [STUDY.D, STUDY.E]],
  ['single date', '-S', 'STUDY', ['StudyDate=20231231'], 'PatientID', ['QR-P2']],
  ['time range', '-S', 'STUDY', ['StudyTime=0800-0900'], 'StudyInstanceUID', [STUDY.B]],
  ['UID list', '-S', 'STUDY', [`StudyInstanceUID=${STUDY.A}\\${STUDY.D}`], 'PatientID', ['QR-P1', 'QR-P3']],
  ['modalities in study', '-S', 'STUDY', ['ModalitiesInStudy=MR'], 'StudyInstanceUID', [STUDY.A, STUDY.B]],
  ['modality list plus date range', '-S', 'STUDY', ['ModalitiesInStudy=US\\CT', 'StudyDate=20240101-'], 'StudyInstanceUID', [STUDY.A, STUDY.D, STUDY.E]],
  ['description wildcard', '-S', 'STUDY', ['StudyDescription=*Knee'], 'AccessionNumber', ['QB1']],
  ['sequence matching', '-S', 'STUDY', ['ProcedureCodeSequence[0].CodeValue=T-04000'], 'StudyInstanceUID', [STUDY.C]],
  ['attribute only in the stored JSON', '-S', 'STUDY', ['InstitutionName=Clinic'], 'StudyInstanceUID', [STUDY.C]],
  ['no match', '-S', 'STUDY', ['PatientName=Nobody'], 'StudyInstanceUID', []],
  ['series of a study', '-S', 'SERIES', [`StudyInstanceUID=${STUDY.A}`], 'SeriesInstanceUID', [SERIES.A1, SERIES.A2]],
  ['series by modality', '-S', 'SERIES', [`StudyInstanceUID=${STUDY.A}`, 'Modality=MR'], 'SeriesInstanceUID', [SERIES.A2]],
  [
    'images of a series',
    '-S',
    'IMAGE',
    [`StudyInstanceUID=${STUDY.A}`, `SeriesInstanceUID=${SERIES.A1}`],
    'SOPInstanceUID',
    [`${SERIES.A1}.1`, `${SERIES.A1}.2`],
  ],
  ['patients (Patient Root)', '-P', 'PATIENT', ['PatientName=d*'], 'PatientID', ['QR-P1', 'QR-P2']],
  ['studies of a patient (Patient Root)', '-P', 'STUDY', ['PatientID=QR-P1'], 'StudyInstanceUID', [STUDY.A, STUDY.B]],
];

describe('C-FIND SCP with findscu', () => {
  it.each(FIND_CASES)('%s', async (_what, model, level, keys, ret, expected) => {
    const results = await findscu(model, [`QueryRetrieveLevel=${level}`, ...keys, `${ret}`]);
    const tag = { StudyInstanceUID: 0x0020000d, PatientID: 0x00100020, AccessionNumber: 0x00080050, SeriesInstanceUID: 0x0020000e, SOPInstanceUID: 0x00080018 }[
      ret
    ]!;
    expect(results.map((d) => getString(d, tag)).sort()).toEqual([...expected].sort());
  });

  it('returns exactly the requested keys plus level, Retrieve AE Title and Specific Character Set; computed attributes', async () => {
    const [d, ...rest] = await findscu('-S', [
      'QueryRetrieveLevel=STUDY',
      `StudyInstanceUID=${STUDY.A}`,
      'PatientName',
      'NumberOfStudyRelatedInstances',
      'NumberOfStudyRelatedSeries',
      'ModalitiesInStudy',
      'SOPClassesInStudy',
      'ReferringPhysicianName',
    ]);
    expect(rest).toHaveLength(0);
    expect([...d.keys()].sort((a, b) => a - b)).toEqual([
      0x00080005, 0x00080052, 0x00080054, 0x00080061, 0x00080062, 0x00080090, 0x00100010, 0x0020000d, 0x00201206, 0x00201208,
    ]);
    expect(getString(d, 0x00100010)).toBe('Doe^Jane');
    expect(getString(d, 0x00201208)).toBe('3');
    expect(getString(d, 0x00201206)).toBe('2');
    expect(getStrings(d, 0x00080061)).toEqual(['CT', 'MR']);
    expect(getStrings(d, 0x00080062)?.sort()).toEqual(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.4']);
    expect(getString(d, 0x00080054)).toBe('PACS');
    expect(getString(d, 0x00080052)).toBe('STUDY');
    expect(getString(d, 0x00080090)).toBe('');
  });

  it('returns a non-ASCII name in UTF-8 with ISO_IR 192', async () => {
    const [d] = await findscu('-S', ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${STUDY.D}`, 'PatientName']);
    expect(getString(d, 0x00080005)).toBe('ISO_IR 192');
    expect(getString(d, 0x00100010)).toBe('Müller^Hans');
  });

  it('returns the matching sequence item keys', async () => {
    const [d] = await findscu('-S', [
      'QueryRetrieveLevel=STUDY',
      `StudyInstanceUID=${STUDY.C}`,
      'ProcedureCodeSequence[0].CodeValue',
      'ProcedureCodeSequence[0].CodingSchemeDesignator',
    ]);
    const item = d.get(0x00081032)!.items![0];
    expect(getString(item, 0x00080100)).toBe('T-04000');
    expect(getString(item, 0x00080102)).toBe('SRT');
  });
});

/** Sends one C-FIND (or C-MOVE) with a hand-made identifier, returns the final status and comment. */
async function rawRequest(
  keys: [number, string, string][],
  op: 'find' | 'move' = 'find',
  destination = 'STORESCP',
): Promise<{ status: number; comment?: string; matches: number }> {
  const cls = op === 'find' ? QR_SOP_CLASSES.StudyRootFind : QR_SOP_CLASSES.StudyRootMove;
  const assoc = await connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: 'TEST',
    calledAeTitle: 'PACS',
    presentationContexts: [{ abstractSyntax: cls, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
  });
  const conn = new DimseConnection(assoc);
  const ds = new Dataset();
  for (const [tag, vr, value] of keys) putString(ds, tag, vr as 'CS', value);
  let matches = 0;
  try {
    const r =
      op === 'find'
        ? await cFind(conn, cls, writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN), { onMatch: () => matches++ })
        : await cMove(conn, cls, destination, writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN));
    return { status: r.status, comment: r.errorComment, matches };
  } finally {
    await assoc.release().catch(() => assoc.abort());
  }
}

const LEVEL = 0x00080052;
describe('bad queries get failure statuses with a comment', () => {
  it.each([
    // 0xA900 Identifier does not match SOP Class: the identifier does not fit the information model.
    ['missing Query/Retrieve Level', [[0x00100010, 'PN', 'Doe*']], 0xa900, /Level .* missing/],
    ['unknown level', [[LEVEL, 'CS', 'FOO']], 0xa900, /unknown Query\/Retrieve Level 'FOO'/],
    ['PATIENT level in the Study Root model', [[LEVEL, 'CS', 'PATIENT']], 0xa900, /no PATIENT level/],
    [
      'a key of a lower level',
      [
        [LEVEL, 'CS', 'STUDY'],
        [0x00080018, 'UI', '1.2.3'],
      ],
      0xa900,
      /SOPInstanceUID .* below STUDY/,
    ],
    // 0xC000 Unable to process: the value cannot be matched.
    [
      'malformed date range',
      [
        [LEVEL, 'CS', 'STUDY'],
        [0x00080020, 'DA', '2024-01-01'],
      ],
      0xc000,
      /malformed DA range/,
    ],
    [
      'range that ends before it starts',
      [
        [LEVEL, 'CS', 'STUDY'],
        [0x00080020, 'DA', '20240201-20240101'],
      ],
      0xc000,
      /ends before it starts/,
    ],
  ] as [string, [number, string, string][], number, RegExp][])('%s', async (_what, keys, status, comment) => {
    const r = await rawRequest(keys);
    expect(r.status).toBe(status);
    expect(r.comment).toMatch(comment);
    expect(r.matches).toBe(0);
  });

  it('move to an unknown AE: 0xA801', async () => {
    const r = await rawRequest(
      [
        [LEVEL, 'CS', 'STUDY'],
        [0x0020000d, 'UI', STUDY.A],
      ],
      'move',
      'NOWHERE',
    );
    expect(r.status).toBe(0xa801);
    expect(r.comment).toMatch(/NOWHERE.*unknown/);
  });

  it("move without the level's unique key: 0xA900", async () => {
    const r = await rawRequest(
      [
        [LEVEL, 'CS', 'SERIES'],
        [0x0020000d, 'UI', STUDY.A],
      ],
      'move',
    );
    expect(r.status).toBe(0xa900);
    expect(r.comment).toMatch(/SeriesInstanceUID/);
  });
});

describe('a 300-instance series: streaming, C-CANCEL, pending counts', () => {
  let series: Awaited<ReturnType<typeof writeCtSeries>>;
  beforeAll(async () => {
    series = await writeCtSeries({ dir: join(dir, 'ct'), count: 300, rows: 16, cols: 16, patientId: 'QR-BIG' });
    const r = await storescu({ port, calledAet: 'PACS', files: series.files });
    expect(r.code, r.stderr).toBe(0);
  });

  it('C-CANCEL answers 0xFE00 before every match was sent', async () => {
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      callingAeTitle: 'TEST',
      calledAeTitle: 'PACS',
      presentationContexts: [{ abstractSyntax: QR_SOP_CLASSES.StudyRootFind, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
    });
    const conn = new DimseConnection(assoc);
    const ds = new Dataset();
    putString(ds, LEVEL, 'CS', 'IMAGE');
    putString(ds, 0x0020000e, 'UI', series.seriesUid);
    putString(ds, 0x00080018, 'UI', '');
    let n = 0;
    const r = await cFind(conn, QR_SOP_CLASSES.StudyRootFind, writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN), { onMatch: () => n++, cancelAfter: 0 });
    await assoc.release();
    expect(r.status).toBe(0xfe00);
    expect(n).toBeLessThan(300);
  });

  it('C-MOVE sends Pending responses with remaining/completed counts', async () => {
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      callingAeTitle: 'TEST',
      calledAeTitle: 'PACS',
      presentationContexts: [{ abstractSyntax: QR_SOP_CLASSES.StudyRootMove, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
    });
    const conn = new DimseConnection(assoc);
    const ds = new Dataset();
    putString(ds, LEVEL, 'CS', 'SERIES');
    putString(ds, 0x0020000d, 'UI', series.studyUid);
    putString(ds, 0x0020000e, 'UI', series.seriesUid);
    const pending: [number, number][] = [];
    const r = await cMove(conn, QR_SOP_CLASSES.StudyRootMove, 'STORESCP', writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN), {
      onProgress: (p) => pending.push([p.remaining ?? -1, p.completed ?? -1]),
    });
    await assoc.release();
    expect(r.status).toBe(0);
    expect(r.completed).toBe(300);
    expect(r.failed).toBe(0);
    expect(pending).toHaveLength(299);
    expect(pending[0]).toEqual([299, 1]);
    expect(pending[298]).toEqual([1, 299]);
    expect(await storescp.countFiles()).toBeGreaterThanOrEqual(300);
  });

  /** A C-GET of the series from our SCU, receiving into a folder; `scpRole` false leaves out the role selection. */
  async function getSeries(o: { scpRole: boolean; cancelAfterFirst?: boolean }) {
    const out = join(dir, `cget-${++run}`);
    mkdirSync(out);
    const cls = QR_SOP_CLASSES.StudyRootGet;
    const contexts = getPresentationContexts(cls);
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      callingAeTitle: 'PACS_CLIENT',
      calledAeTitle: 'PACS',
      presentationContexts: contexts,
      roleSelections: o.scpRole
        ? [...new Set(contexts.slice(1).map((c) => c.abstractSyntax))].map((sopClassUid) => ({ sopClassUid, scuRole: false, scpRole: true }))
        : [],
    });
    const dispatcher = new ScpDispatcher(assoc, new ServiceRegistry([folderStorageService(out)]), pino({ level: 'silent' }));
    const ds = new Dataset();
    putString(ds, LEVEL, 'CS', 'SERIES');
    putString(ds, 0x0020000d, 'UI', series.studyUid);
    putString(ds, 0x0020000e, 'UI', series.seriesUid);
    const abort = new AbortController();
    try {
      return await cGet(dispatcher.connection, cls, writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN), {
        signal: abort.signal,
        onProgress: () => {
          if (o.cancelAfterFirst) abort.abort();
        },
      });
    } finally {
      await assoc.release().catch(() => assoc.abort());
    }
  }

  it('C-GET sends nothing for a SOP class whose SCP role the requestor did not give', async () => {
    const r = await getSeries({ scpRole: false });
    expect(r.status).toBe(0xa702);
    expect(r.failed).toBe(300);
    expect(r.completed).toBe(0);
    expect(r.errorComment).toMatch(/SCP role for 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2 was not negotiated/);
  });

  it('C-GET honours C-CANCEL: 0xFE00 with the remaining count', async () => {
    const r = await getSeries({ scpRole: true, cancelAfterFirst: true });
    expect(r.status).toBe(0xfe00);
    expect(r.completed).toBeGreaterThanOrEqual(1);
    expect(r.completed).toBeLessThan(300);
    expect(r.remaining).toBe(300 - r.completed! - (r.failed ?? 0) - (r.warning ?? 0));
  });
});

function readPart10Free(bytes: Buffer): Dataset {
  return readDataset(bytes, EXPLICIT_VR_LITTLE_ENDIAN);
}

async function expectSameDataSets(received: string, uids: string[]): Promise<void> {
  const got = await indexPart10Files(received);
  expect([...got.keys()].filter((u) => uids.includes(u)).sort()).toEqual([...uids].sort());
  for (const uid of uids) {
    const original = files.find((f) => f.sopInstanceUid === uid)!;
    expect(await dataSetHash(got.get(uid)!)).toBe(await dataSetHash((await part10Info(original.path))!));
  }
}

describe('C-MOVE SCP with movescu', () => {
  it('moves a study into storescp, data sets byte-identical', async () => {
    const r = await runDcmtk('movescu', [
      '-S',
      '-aet',
      'MOVESCU',
      '-aec',
      'PACS',
      '-aem',
      'STORESCP',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${STUDY.A}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    await expectSameDataSets(
      storescp.storageDir,
      files.filter((f) => f.study === STUDY.A).map((f) => f.sopInstanceUid),
    );
  });

  it('moves a series (Patient Root, unique keys of every level)', async () => {
    const r = await runDcmtk('movescu', [
      '-P',
      '-aec',
      'PACS',
      '-aem',
      'STORESCP',
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      'PatientID=QR-P1',
      '-k',
      `StudyInstanceUID=${STUDY.B}`,
      '-k',
      `SeriesInstanceUID=${SERIES.B1}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    await expectSameDataSets(storescp.storageDir, [`${SERIES.B1}.1`]);
  });
});

describe('C-GET SCP with getscu', () => {
  it('gets a series on the same association, data sets byte-identical', async () => {
    const out = join(dir, 'getscu');
    mkdirSync(out);
    const r = await runDcmtk('getscu', [
      '-S',
      '-aet',
      'GETSCU',
      '-aec',
      'PACS',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      `StudyInstanceUID=${STUDY.A}`,
      '-k',
      `SeriesInstanceUID=${SERIES.A1}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    await expectSameDataSets(out, [`${SERIES.A1}.1`, `${SERIES.A1}.2`]);
  });
});

describe('transfer syntax conversion on retrieve', () => {
  it('C-MOVE converts to implicit VR LE for a destination that accepts nothing else', async () => {
    const implicitScp = await startStorescp({ dir: join(dir, 'storescp-implicit'), aet: 'IMPLICIT', acceptAll: false, args: ['+xi'] });
    extraDestinations.set('IMPLICIT', implicitScp.port);
    const uid = `${SERIES.E1}.1`;
    const r = await runDcmtk('movescu', [
      '-S',
      '-aec',
      'PACS',
      '-aem',
      'IMPLICIT',
      '-k',
      'QueryRetrieveLevel=IMAGE',
      '-k',
      `StudyInstanceUID=${STUDY.E}`,
      '-k',
      `SeriesInstanceUID=${SERIES.E1}`,
      '-k',
      `SOPInstanceUID=${uid}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const info = (await indexPart10Files(implicitScp.storageDir)).get(uid)!;
    expect(info.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    const original = readPart10(readFileSync(files.find((f) => f.sopInstanceUid === uid)!.path)).dataset;
    const received = readPart10(readFileSync(info.path)).dataset;
    expect(Buffer.from(received.get(0x7fe00010)!.value!)).toEqual(Buffer.from(original.get(0x7fe00010)!.value!));
    expect(getString(received, 0x00100010)).toBe('Smith^Ann');
    expect([...received.keys()].sort()).toEqual([...original.keys()].sort());
  });
});

/** Every variant DCMTK writes, stored once into the server (one file per SOP Instance UID). */
let storedVariants: Promise<{ variants: TransferSyntaxVariant[]; byUid: Map<string, string> }> | undefined;
function storeVariants(): Promise<{ variants: TransferSyntaxVariant[]; byUid: Map<string, string> }> {
  storedVariants ??= (async () => {
    const variants = (await writeTransferSyntaxVariants({ dir: join(dir, 'variants') })).filter((v) => v.ok && v.standard);
    const { files: storable } = await inspectFiles(variants.map((v) => v.file!));
    // dcmconv keeps the SOP Instance UID: keep one file per UID (the archive keeps the first).
    const byUid = new Map<string, string>();
    for (const f of storable) if (!byUid.has(f.sopInstanceUid)) byUid.set(f.sopInstanceUid, f.path);
    const sent = await storeFiles(
      { host: '127.0.0.1', port, callingAeTitle: 'STORE', calledAeTitle: 'PACS' },
      storable.filter((f) => byUid.get(f.sopInstanceUid) === f.path),
    );
    expect(sent.failed).toEqual([]);
    return { variants, byUid };
  })();
  return storedVariants;
}

/** C-MOVE of the given instances to a destination AE; returns the final response and the failed UIDs. */
async function moveInstances(uids: string[], destination: string) {
  const assoc = await connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: 'TEST',
    calledAeTitle: 'PACS',
    presentationContexts: [{ abstractSyntax: QR_SOP_CLASSES.StudyRootMove, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
  });
  const id = new Dataset();
  putString(id, LEVEL, 'CS', 'IMAGE');
  putString(id, 0x00080018, 'UI', uids);
  const r = await cMove(new DimseConnection(assoc), QR_SOP_CLASSES.StudyRootMove, destination, writeDataset(id, EXPLICIT_VR_LITTLE_ENDIAN));
  await assoc.release();
  const failed = new Set(r.dataset ? (getStrings(readPart10Free(r.dataset), 0x00080058) ?? []) : []);
  return { r, failed };
}

const RETIRED_OR_UNLISTED = new Set(['1.2.840.10008.1.2.4.53', '1.2.840.10008.1.2.4.55', '1.2.840.10008.1.2.4.57']);
const UNCOMPRESSED = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'];

describe('every transfer syntax comes back as stored', () => {
  it('C-MOVE to storescp returns every stored data set byte-identical in its own syntax', async () => {
    const { byUid } = await storeVariants();
    const uids = [...byUid.keys()];
    const target = await startStorescp({ dir: join(dir, 'storescp-variants'), aet: 'VARIANTS' });
    extraDestinations.set('VARIANTS', target.port);
    const { r, failed } = await moveInstances(uids, 'VARIANTS');
    expect([...failed]).toEqual([]);
    expect(r.completed).toBe(uids.length);
    const got = await indexPart10Files(target.storageDir);
    for (const uid of uids) {
      const original = (await part10Info(byUid.get(uid)!))!;
      const received = got.get(uid)!;
      // storescp +xa refuses the retired JPEG processes 6-8/10-12 (.53, .55) and JPEG lossless process 14 (.57):
      // those, and only those, arrive decompressed.
      if (RETIRED_OR_UNLISTED.has(original.transferSyntaxUid)) {
        expect(UNCOMPRESSED, original.transferSyntaxUid).toContain(received.transferSyntaxUid);
        continue;
      }
      expect(received?.transferSyntaxUid, uid).toBe(original.transferSyntaxUid);
      expect(await dataSetHash(received), original.transferSyntaxUid).toBe(await dataSetHash(original));
    }
  });

  it('C-MOVE decompresses JPEG, JPEG-LS and RLE for a destination that accepts only uncompressed syntaxes', async () => {
    const { variants, byUid } = await storeVariants();
    const compressed = variants.filter(
      (v) =>
        v.ok &&
        byUid.get(sopInstanceUidOf(v.file)) === v.file &&
        !UNCOMPRESSED.includes(v.transferSyntaxUid) &&
        v.transferSyntaxUid !== '1.2.840.10008.1.2.1.99',
    );
    expect(compressed.length).toBeGreaterThanOrEqual(25);
    const target = await startStorescp({ dir: join(dir, 'storescp-uncompressed'), aet: 'UNCOMPRESSED', acceptAll: false });
    extraDestinations.set('UNCOMPRESSED', target.port);
    const uids = compressed.map((v) => sopInstanceUidOf(v.file!));
    const { r, failed } = await moveInstances(uids, 'UNCOMPRESSED');
    expect([...failed]).toEqual([]);
    expect(r.completed).toBe(uids.length);
    const got = await indexPart10Files(target.storageDir);
    for (const v of compressed) {
      const what = `${v.source}/${v.name}`;
      const received = got.get(sopInstanceUidOf(v.file!));
      expect(received, what).toBeDefined();
      expect(UNCOMPRESSED, what).toContain(received!.transferSyntaxUid);
      const ds = readPart10(readFileSync(received!.path)).dataset;
      const pixels = Buffer.from(ds.get(0x7fe00010)!.value!);
      if (!v.lossy) {
        // Lossless: exactly the original's pixels.
        const original = readPart10(readFileSync(v.sourceFile)).dataset;
        expect(pixels.equals(Buffer.from(original.get(0x7fe00010)!.value!)), what).toBe(true);
        expect(getString(ds, 0x00280004), what).toBe(getString(original, 0x00280004));
      } else {
        // Lossy: what DCMTK's own decoder makes of the same file, within one grey level.
        const ref = join(dir, `ref-${v.source}-${v.name}.dcm`);
        const tool = v.transferSyntaxUid.startsWith('1.2.840.10008.1.2.4.8') ? 'dcmdjpls' : 'dcmdjpeg';
        const d = await runDcmtk(tool, [v.file!, ref]);
        expect(d.code, d.stderr).toBe(0);
        const refDs = readPart10(readFileSync(ref)).dataset;
        const refPixels = Buffer.from(refDs.get(0x7fe00010)!.value!);
        expect(pixels.length, what).toBe(refPixels.length);
        expect(maxSampleDifference(pixels, refPixels, getString(ds, 0x00280100) === '16' ? 2 : 1), what).toBeLessThanOrEqual(1);
        expect(getString(ds, 0x00280004), what).toBe(getString(refDs, 0x00280004));
        expect(getString(ds, 0x00282110), what).toBe('01');
      }
      expect(ds.has(0x00080018), what).toBe(true);
    }
  });
});

function sopInstanceUidOf(file: string): string {
  return getString(readPart10(readFileSync(file), { stopAtPixelData: true }).dataset, 0x00080018)!;
}

function maxSampleDifference(a: Buffer, b: Buffer, bytes: 1 | 2): number {
  let max = 0;
  for (let i = 0; i + bytes <= a.length; i += bytes) {
    const d = Math.abs(bytes === 2 ? a.readInt16LE(i) - b.readInt16LE(i) : a[i] - b[i]);
    if (d > max) max = d;
  }
  return max;
}
