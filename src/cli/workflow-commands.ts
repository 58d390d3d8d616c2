/**
 * Workflow commands:
 *   pacs worklist add|list|rm      the Main Server's scheduled procedure steps (its index, in --data or --database-url)
 *   pacs worklist query [HOST PORT] -k ...      Modality Worklist C-FIND (MWL SCU)
 *   pacs mpps create|set [HOST PORT] ...        MPPS N-CREATE / N-SET (MPPS SCU)
 *   pacs commit [HOST PORT] FILES|UIDs          Storage Commitment request; waits for the report
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { IndexMissingError, openIndex } from '../archive/open-index.js';
import { SPS_STATUSES, WorklistStore, type WorklistEntry } from '../archive/worklist-store.js';
import { WorklistEntryError } from '../archive/errors.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { nCreate, nSet } from '../dimse/scu-n.js';
import { datasetToJson } from '../dicom/dataset-json.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import { Status, statusHex } from '../dicom/status.js';
import { isValidUid, newUid } from '../dicom/uid-generator.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import { connect } from '../net/index.js';
import { requestCommitment } from '../services/commitment-scu.js';
import type { CommitmentRef } from '../archive/commitment-store.js';
import { MPPS_SOP_CLASS } from '../services/mpps.js';
import { mppsCreateDataset, mppsSetDataset } from '../services/mpps-scu.js';
import { cFind } from '../services/qr-scu.js';
import { expandPaths, inspectFiles } from '../services/storage-scu.js';
import { MODALITY_WORKLIST_FIND } from '../services/worklist.js';
import { parsePort, parsePositiveInt } from './options.js';
import { peerOptions, resolvePeer, splitHostPort, type PeerOptions } from './peer.js';
import { identifierFromKeys } from './qr-commands.js';
import { COMMANDS } from './commands.js';

const indexOptions = (cmd: Command): Command =>
  cmd
    .option('--data <dir>', 'data directory of the Main Server', process.env.PACS_DATA_DIR ?? './data')
    .option('--database-url <url>', 'PostgreSQL index (as pacs serve --database-url)', process.env.PACS_DATABASE_URL)
    .option('--database-schema <name>', 'PostgreSQL schema of the index', process.env.PACS_DATABASE_SCHEMA ?? 'pacs');

/** The Main Server's index, without the archive (no blob sweep: a running server owns the blobs). */
async function withWorklist<T>(o: { data: string; databaseUrl?: string; databaseSchema: string }, fn: (w: WorklistStore) => Promise<T>): Promise<T> {
  const spec = o.databaseUrl ? { postgres: o.databaseUrl, schema: o.databaseSchema } : 'sqlite';
  const index = await openIndex(o.data, spec, { create: false }).catch((err: unknown) => {
    throw err instanceof IndexMissingError ? new Error(`${err.message} (start pacs serve --data ${o.data} once, or give --database-url)`) : err;
  });
  try {
    return await fn(await WorklistStore.open(index));
  } finally {
    await index.close();
  }
}

/** Entry field -> option, for messages that name what to fix. */
const FLAG: Record<string, string> = {
  patientId: '--patient-id',
  patientName: '--patient-name',
  patientBirthDate: '--birth-date',
  patientSex: '--sex',
  accessionNumber: '--accession',
  requestedProcedureId: '--procedure-id',
  requestedProcedureDescription: '--procedure-description',
  referringPhysicianName: '--referring',
  studyInstanceUid: '--study-uid',
  spsId: '--sps-id',
  modality: '--modality',
  stationAeTitle: '--station',
  stationName: '--station-name',
  startDate: '--date',
  startTime: '--time',
  performingPhysicianName: '--physician',
  spsDescription: '--description',
  location: '--location',
  status: '--status',
};

function cliError(err: unknown): Error {
  if (err instanceof WorklistEntryError && err.kind === 'invalid')
    return new Error(err.issues.map((i) => `${FLAG[i.field] ?? i.field}: ${i.message}`).join('\n'));
  return err as Error;
}

function entryFromOptions(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const map: Record<string, string> = {
    patientId: 'patientId',
    patientName: 'patientName',
    birthDate: 'patientBirthDate',
    sex: 'patientSex',
    accession: 'accessionNumber',
    procedureId: 'requestedProcedureId',
    procedureDescription: 'requestedProcedureDescription',
    referring: 'referringPhysicianName',
    studyUid: 'studyInstanceUid',
    spsId: 'spsId',
    modality: 'modality',
    station: 'stationAeTitle',
    stationName: 'stationName',
    date: 'startDate',
    time: 'startTime',
    physician: 'performingPhysicianName',
    description: 'spsDescription',
    location: 'location',
    status: 'status',
  };
  for (const [opt, field] of Object.entries(map)) if (o[opt] !== undefined) out[field] = o[opt];
  return out;
}

function entryLine(e: WorklistEntry): string {
  return [
    e.spsId,
    e.status,
    `${e.startDate}${e.startTime ? ` ${e.startTime}` : ''}`,
    e.modality,
    e.stationAeTitle ?? '-',
    e.patientId,
    e.patientName,
    e.accessionNumber ?? '-',
  ].join('\t');
}

const today = (): string => new Date().toISOString().slice(0, 10).replace(/-/g, '');

async function open(args: string[], o: PeerOptions, sopClass: string) {
  const { host, port, tls, rest } = await resolvePeer(args, o);
  const assoc = await connect({
    host,
    port,
    tls,
    callingAeTitle: o.aet,
    calledAeTitle: o.aec,
    presentationContexts: [{ abstractSyntax: sopClass, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }],
  });
  const conn = new DimseConnection(assoc);
  const ts = [...assoc.contexts.values()].find((c) => c.abstractSyntax === sopClass)?.transferSyntax;
  if (!ts) {
    await assoc.release().catch(() => assoc.abort());
    throw new Error(`${o.aec} did not accept ${sopClass}`);
  }
  return { assoc, conn, ts, rest };
}

export function registerWorkflowCommands(program: Command): void {
  const worklist = program.command('worklist').description(COMMANDS.worklist);
  const entryOptions = (cmd: Command) =>
    cmd
      .option('--patient-id <id>')
      .option('--patient-name <name>', 'Family^Given')
      .option('--birth-date <YYYYMMDD>')
      .option('--sex <M|F|O>')
      .option('--accession <number>')
      .option('--procedure-id <id>', 'Requested Procedure ID')
      .option('--procedure-description <text>')
      .option('--referring <name>', 'Referring Physician')
      .option('--study-uid <uid>', 'Study Instance UID (default: a new one)')
      .option('--modality <CS>')
      .option('--station <AE>', 'Scheduled Station AE Title')
      .option('--station-name <name>')
      .option('--date <YYYYMMDD>', 'scheduled start date')
      .option('--time <HHMM>', 'scheduled start time')
      .option('--physician <name>', 'Scheduled Performing Physician')
      .option('--description <text>', 'step description')
      .option('--location <text>')
      .option('--status <status>', SPS_STATUSES.join('|'));

  indexOptions(entryOptions(worklist.command('add').description('schedule a procedure step')))
    .option('--sps-id <id>', 'Scheduled Procedure Step ID (default: generated)')
    .option('--json', 'print the entry as JSON')
    .action(async (o) => {
      const input = entryFromOptions(o);
      input.startDate ??= today();
      const e = await withWorklist(o, (w) => w.add(input)).catch((err) => {
        throw cliError(err);
      });
      process.stdout.write(o.json ? `${JSON.stringify(e)}\n` : `scheduled ${e.spsId} (study ${e.studyInstanceUid})\n`);
    });

  indexOptions(entryOptions(worklist.command('set').description('change a scheduled procedure step').argument('<sps-id>'))).action(async (spsId: string, o) => {
    const e = await withWorklist(o, (w) => w.change(spsId, entryFromOptions(o))).catch((err) => {
      throw cliError(err);
    });
    process.stdout.write(`${entryLine(e)}\n`);
  });

  indexOptions(worklist.command('list').description('list scheduled procedure steps (open ones unless --all)'))
    .option('--all', 'also COMPLETED, DISCONTINUED and CANCELED steps')
    .option('--date <YYYYMMDD>', 'scheduled on this day')
    .option('--json', 'one JSON object per line')
    .action(async (o) => {
      const statuses = o.all ? undefined : SPS_STATUSES.filter((s) => !['COMPLETED', 'DISCONTINUED', 'CANCELED'].includes(s));
      const entries = await withWorklist(o, (w) => w.list({ statuses, fromDate: o.date, toDate: o.date }));
      if (o.json) for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`);
      else {
        process.stdout.write('SPS ID\tSTATUS\tSTART\tMODALITY\tSTATION\tPATIENT ID\tPATIENT NAME\tACCESSION\n');
        for (const e of entries) process.stdout.write(`${entryLine(e)}\n`);
      }
    });

  indexOptions(worklist.command('rm').description('cancel a scheduled procedure step (status CANCELED)').argument('<sps-id>'))
    .option('--purge', 'delete the entry instead of cancelling it')
    .action(async (spsId: string, o) => {
      await withWorklist(o, (w) => w.cancel(spsId, o.purge)).catch((err) => {
        throw cliError(err);
      });
      process.stdout.write(`${o.purge ? 'deleted' : 'cancelled'} ${spsId}\n`);
    });

  peerOptions(
    worklist
      .command('query')
      .description('Modality Worklist C-FIND: pacs worklist query [HOST PORT] -k ScheduledProcedureStepSequence[0].Modality=CT')
      .argument('[peer...]', 'HOST PORT'),
  )
    .option('-k, --key <key=value>', 'query key (repeatable), as pacs find', (v: string, acc: string[]) => [...acc, v], [])
    .option('--json', 'print each item as DICOM JSON')
    .action(async (args: string[], o: PeerOptions & { key: string[]; json?: boolean }) => {
      const defaults = [
        'PatientName',
        'PatientID',
        'AccessionNumber',
        'StudyInstanceUID',
        'RequestedProcedureID',
        'ScheduledProcedureStepSequence[0].Modality',
        'ScheduledProcedureStepSequence[0].ScheduledStationAETitle',
        'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate',
        'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime',
        'ScheduledProcedureStepSequence[0].ScheduledProcedureStepID',
        'ScheduledProcedureStepSequence[0].ScheduledProcedureStepDescription',
      ];
      const given = new Set(o.key.map((k) => k.split('=')[0]));
      const identifier = identifierFromKeys([...defaults.filter((k) => !given.has(k)), ...o.key]);
      if (!o.key.some((k) => k.startsWith('QueryRetrieveLevel'))) identifier.delete(0x00080052);
      const { assoc, conn, ts } = await open(args, o, MODALITY_WORKLIST_FIND);
      let n = 0;
      try {
        const r = await cFind(conn, MODALITY_WORKLIST_FIND, writeDataset(identifier, ts), {
          onMatch: (bytes, syntax) => {
            n++;
            const json = datasetToJson(readDataset(bytes, syntax));
            if (o.json) process.stdout.write(`${JSON.stringify(json)}\n`);
            else {
              const v = (key: string, obj = json) => {
                const a = obj[key]?.Value?.[0];
                return a == null ? '' : typeof a === 'object' ? ((a as { Alphabetic?: string }).Alphabetic ?? '') : String(a);
              };
              const sps = (json['00400100']?.Value?.[0] ?? {}) as typeof json;
              process.stdout.write(
                `${[v('00400009', sps), `${v('00400002', sps)} ${v('00400003', sps)}`.trim(), v('00080060', sps), v('00400001', sps), v('00100020'), v('00100010'), v('00080050')].join('\t')}\n`,
              );
            }
          },
        });
        process.stderr.write(`worklist: ${n} item(s), status ${statusHex(r.status)}${r.errorComment ? ` (${r.errorComment})` : ''}\n`);
        if (r.status !== Status.Success) process.exitCode = 1;
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    });

  const mpps = program.command('mpps').description(COMMANDS.mpps);
  peerOptions(
    mpps
      .command('create')
      .description('N-CREATE an IN PROGRESS step: pacs mpps create [HOST PORT] --patient-id P --modality CT --sps-id S')
      .argument('[peer...]', 'HOST PORT'),
  )
    .requiredOption('--patient-id <id>')
    .option('--patient-name <name>')
    .requiredOption('--modality <CS>')
    .option('--station <AE>', 'Performed Station AE Title (default: --aet)')
    .option('--sps-id <id>', 'the Scheduled Procedure Step performed')
    .option('--study-uid <uid>', 'Study Instance UID (default: a new one)')
    .option('--accession <number>')
    .option('--procedure-id <id>', 'Requested Procedure ID')
    .option('--pps-id <id>', 'Performed Procedure Step ID')
    .option('--uid <uid>', 'SOP Instance UID of the step (default: a new one)')
    .action(async (args: string[], o) => {
      const uid: string = o.uid ?? newUid();
      if (!isValidUid(uid)) throw new Error(`--uid: not a UID: "${uid}"`);
      const ds = mppsCreateDataset({
        patientId: o.patientId,
        patientName: o.patientName,
        modality: o.modality,
        stationAeTitle: o.station ?? o.aet,
        spsId: o.spsId,
        studyInstanceUid: o.studyUid,
        accessionNumber: o.accession,
        requestedProcedureId: o.procedureId,
        ppsId: o.ppsId,
      });
      const { assoc, conn, ts } = await open(args, o, MPPS_SOP_CLASS);
      try {
        const rsp = await nCreate(conn, MPPS_SOP_CLASS, uid, writeDataset(ds, ts));
        process.stdout.write(`${rsp.command.affectedSopInstanceUid ?? uid}\n`);
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    });

  peerOptions(mpps.command('set').description('N-SET a step: pacs mpps set [HOST PORT] UID --status COMPLETED').argument('<args...>', '[HOST PORT] UID'))
    .requiredOption('--status <status>', 'IN PROGRESS | COMPLETED | DISCONTINUED')
    .action(async (args: string[], o) => {
      const { rest } = splitHostPort(args);
      if (rest.length !== 1) throw new Error('give the SOP Instance UID of the step (and HOST PORT first, if not the default)');
      const status = String(o.status).toUpperCase().replace('_', ' ');
      if (!['IN PROGRESS', 'COMPLETED', 'DISCONTINUED'].includes(status))
        throw new Error(`--status: must be IN PROGRESS, COMPLETED or DISCONTINUED, got "${o.status}"`);
      const { assoc, conn, ts } = await open(args.slice(0, args.length - 1), o, MPPS_SOP_CLASS);
      try {
        await nSet(conn, MPPS_SOP_CLASS, rest[0], writeDataset(mppsSetDataset({ status: status as 'COMPLETED' }), ts));
        process.stdout.write(`${rest[0]} ${status}\n`);
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    });

  peerOptions(program.command('commit').description(COMMANDS.commit).argument('<items...>'))
    .option('--sop-class <uid>', 'SOP Class UID for items given as bare SOP Instance UIDs')
    .option('--listen <port>', 'also accept the report on a new association on this port (our AE must be registered there)', (v) =>
      v === '0' ? 0 : parsePort(v),
    )
    .option('--timeout <seconds>', 'wait this long for the report', parsePositiveInt, 60)
    .option('--json', 'print the report as JSON')
    .action(async (args: string[], o: PeerOptions & { sopClass?: string; listen?: number; timeout: number; json?: boolean }) => {
      const { host, port, tls, rest } = await resolvePeer(args, o);
      const refs: CommitmentRef[] = [];
      const paths: string[] = [];
      for (const item of rest) {
        if (existsSync(item)) paths.push(item);
        else if (/^[\d.]+:[\d.]+$/.test(item)) {
          const [sopClassUid, sopInstanceUid] = item.split(':');
          refs.push({ sopClassUid, sopInstanceUid });
        } else if (isValidUid(item)) {
          if (!o.sopClass) throw new Error(`${item}: a bare SOP Instance UID needs --sop-class (or give SOPCLASS:SOPINSTANCE)`);
          refs.push({ sopClassUid: o.sopClass, sopInstanceUid: item });
        } else throw new Error(`${item}: neither a file nor a UID`);
      }
      if (paths.length) {
        const { files, skipped } = await inspectFiles(await expandPaths(paths));
        for (const s of skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
        for (const f of files) refs.push({ sopClassUid: f.sopClassUid, sopInstanceUid: f.sopInstanceUid });
      }
      if (refs.length === 0) throw new Error('nothing to commit');
      const r = await requestCommitment({
        host,
        port,
        tls,
        callingAeTitle: o.aet,
        calledAeTitle: o.aec,
        refs,
        listenPort: o.listen,
        timeoutMs: o.timeout * 1000,
        onRequested: (uid) => process.stderr.write(`requested commitment of ${refs.length} instance(s), transaction ${uid}; waiting for the report\n`),
      });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(`report from ${r.from} (${r.via}), transaction ${r.transactionUid}\n`);
        process.stdout.write(`committed: ${r.success.length}\n`);
        for (const s of r.success) process.stdout.write(`  ${s.sopInstanceUid} (${s.sopClassUid})\n`);
        process.stdout.write(`failed: ${r.failed.length}\n`);
        for (const f of r.failed) process.stdout.write(`  ${f.sopInstanceUid} (${f.sopClassUid}): reason ${statusHex(f.reason)}\n`);
      }
      if (r.failed.length) process.exitCode = 1;
    });
}
