/**
 * Query/Retrieve commands in DCMTK's habits (findscu, movescu, getscu):
 *   pacs find [HOST PORT] [-P|-S] -k QueryRetrieveLevel=STUDY -k PatientName=DOE* [--json] [--cancel N]
 *   pacs move [HOST PORT] --aem DEST -k StudyInstanceUID=1.2.3
 *   pacs get  [HOST PORT] --od DIR -k StudyInstanceUID=1.2.3
 * Keys: `Keyword=value`, `(gggg,eeee)=value` or `ggggeeee=value`; an empty value asks
 * for the attribute back; `Sequence[0].Keyword=value` reaches into a sequence item.
 * Without a Query/Retrieve Level key, STUDY is used.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import pino from 'pino';
import { Dataset } from '../dicom/dataset.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { datasetToJson } from '../dicom/dataset-json.js';
import { putNumbers, putString, writeDataset } from '../dicom/dataset-writer.js';
import { lookupTag } from '../dicom/dictionary.js';
import { Status, statusHex } from '../dicom/status.js';
import { getStrings } from '../dicom/dataset.js';
import { parseTag, tagKeyword, formatTag } from '../dicom/tag.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import { VR_INFO } from '../dicom/vr.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { ScpDispatcher } from '../dimse/scp-dispatcher.js';
import { ServiceRegistry } from '../dimse/service.js';
import { connect, type Association } from '../net/index.js';
import {
  cFind,
  cGet,
  cMove,
  ensureDir,
  folderStorageService,
  getPresentationContexts,
  type RetrieveResult,
  type SubOperationProgress,
} from '../services/qr-scu.js';
import { QR_SOP_CLASSES } from '../services/qr-identifier.js';
import { parseAeTitle, parsePositiveInt } from './options.js';
import { peerOptions, resolvePeer, type Peer, type PeerOptions } from './peer.js';
import { progress, type Progress } from './progress.js';
import { COMMANDS } from './commands.js';

interface QrOptions extends PeerOptions {
  key: string[];
  patientRoot?: boolean;
  studyRoot?: boolean;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** Builds an identifier from `-k` keys. */
export function identifierFromKeys(specs: readonly string[], defaultLevel = 'STUDY'): Dataset {
  const root = new Dataset();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const path = (eq < 0 ? spec : spec.slice(0, eq)).trim();
    const value = eq < 0 ? '' : spec.slice(eq + 1);
    const segments = path.split('.');
    let ds = root;
    for (let i = 0; i < segments.length; i++) {
      const m = /^(.+?)(?:\[(\d+)\])?$/.exec(segments[i])!;
      const tag = parseTag(m[1]);
      const entry = lookupTag(tag);
      const vr = entry?.vr ?? 'UN';
      const last = i === segments.length - 1;
      if (!last || vr === 'SQ') {
        if (vr !== 'SQ') throw new Error(`-k ${spec}: ${m[1]} is not a sequence`);
        let el = ds.get(tag);
        if (!el) {
          el = { tag, vr: 'SQ', length: 0, items: [] };
          ds.put(el);
        }
        const n = Number(m[2] ?? 0);
        while (el.items!.length <= n && !last) el.items!.push(new Dataset(ds));
        if (last) {
          if (value !== '') throw new Error(`-k ${spec}: a sequence takes no value`);
          break;
        }
        ds = el.items![n];
        continue;
      }
      if (VR_INFO[vr].kind === 'binary' && value !== '') {
        if (vr === 'AT' || VR_INFO[vr].size === 0) throw new Error(`-k ${spec}: cannot give a value for VR ${vr}`);
        putNumbers(ds, tag, vr, value.split('\\').map(Number));
      } else if (VR_INFO[vr].kind === 'binary') {
        ds.put({ tag, vr, length: 0, value: new Uint8Array(0) });
      } else {
        putString(ds, tag, vr, value);
      }
    }
  }
  if (!root.has(0x00080052)) putString(root, 0x00080052, 'CS', defaultLevel);
  if (specs.some((s) => /[^\x00-\x7f]/.test(s)) && !root.has(0x00080005)) putString(root, 0x00080005, 'CS', 'ISO_IR 192');
  return root;
}

function qrOptions(cmd: Command): Command {
  return peerOptions(cmd.argument('[peer...]', 'HOST PORT'))
    .option('-k, --key <key=value>', 'query key (repeatable): Keyword=value, (gggg,eeee)=value, Seq[0].Keyword=value', collect, [])
    .option('-P, --patient-root', 'Patient Root information model')
    .option('-S, --study-root', 'Study Root information model (default)');
}

function sopClass(o: QrOptions, op: 'Find' | 'Move' | 'Get'): string {
  return QR_SOP_CLASSES[`${o.patientRoot ? 'PatientRoot' : 'StudyRoot'}${op}`];
}

function statusText(r: RetrieveResult): string {
  return `${statusHex(r.status)}${r.errorComment ? ` (${r.errorComment})` : ''}`;
}

/** Prints one identifier as `Keyword=value` lines. */
function printIdentifier(ds: Dataset, indent = ''): void {
  for (const el of ds.sorted()) {
    const name = tagKeyword(el.tag) ?? formatTag(el.tag);
    if (el.items) {
      process.stdout.write(`${indent}${name}: ${el.items.length} item(s)\n`);
      el.items.forEach((item) => printIdentifier(item, `${indent}  `));
      continue;
    }
    process.stdout.write(`${indent}${name}=${(getStrings(ds, el.tag) ?? []).join('\\')}\n`);
  }
}

/** The peer of a query/retrieve command: HOST PORT and nothing else positional (keys go with -k). */
async function peer(args: string[], o: QrOptions): Promise<Peer> {
  const p = await resolvePeer(args, o);
  if (p.rest.length > 0) throw new Error(`unexpected arguments: ${p.rest.join(' ')} (give keys with -k)`);
  return p;
}

async function open(o: QrOptions, args: string[], contexts: Parameters<typeof connect>[0]['presentationContexts']): Promise<Association> {
  const { host, port, tls } = await peer(args, o);
  return connect({ host, port, tls, callingAeTitle: o.aet, calledAeTitle: o.aec, presentationContexts: contexts });
}

function contextSyntax(conn: DimseConnection, sopClassUid: string): string {
  return [...conn.transport.contexts.values()].find((c) => c.abstractSyntax === sopClassUid)?.transferSyntax ?? EXPLICIT_VR_LITTLE_ENDIAN;
}

function encodeFor(conn: DimseConnection, sopClassUid: string, ds: Dataset): Buffer {
  const ctx = [...conn.transport.contexts.values()].find((c) => c.abstractSyntax === sopClassUid);
  if (!ctx) throw new Error(`the peer did not accept ${sopClassUid}`);
  return writeDataset(ds, ctx.transferSyntax);
}

/** Progress of sub-operations: a bar sized once the first Pending response says how many. */
function subOperationProgress(label: string): { update(p: SubOperationProgress): void; stop(): void } {
  let bar: Progress | undefined;
  let seenDone = 0;
  let seenFailed = 0;
  return {
    update(p) {
      const failed = p.failed ?? 0;
      const done = (p.completed ?? 0) + failed + (p.warning ?? 0);
      if (done + (p.remaining ?? 0) === 0) return;
      bar ??= progress(label, done + (p.remaining ?? 0));
      for (; seenFailed < failed; seenFailed++, seenDone++) bar.tick(false);
      for (; seenDone < done; seenDone++) bar.tick(true);
    },
    stop: () => bar?.stop(),
  };
}

function report(op: string, r: RetrieveResult, transferSyntaxUid: string): void {
  process.stdout.write(`${op}: status ${statusText(r)}, ${r.completed ?? 0} completed, ${r.failed ?? 0} failed, ${r.warning ?? 0} warning\n`);
  if (r.dataset && r.dataset.length) {
    try {
      const ds = readDataset(r.dataset, transferSyntaxUid);
      const failed = getStrings(ds, 0x00080058);
      if (failed?.length) process.stderr.write(`failed SOP instances: ${failed.join(', ')}\n`);
    } catch {
      // best effort: the list is informative only
    }
  }
  if (r.status !== Status.Success) process.exitCode = 1;
}

export function registerQueryRetrieveCommands(program: Command): void {
  qrOptions(program.command('find').description(COMMANDS.find))
    .option('--json', 'print each match as one line of DICOM JSON')
    .option('--cancel <n>', 'send C-CANCEL after n matches', parsePositiveInt)
    .action(async (args: string[], o: QrOptions & { json?: boolean; cancel?: number }) => {
      const cls = sopClass(o, 'Find');
      const assoc = await open(o, args, [{ abstractSyntax: cls, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }]);
      const conn = new DimseConnection(assoc);
      let n = 0;
      try {
        const r = await cFind(conn, cls, encodeFor(conn, cls, identifierFromKeys(o.key)), {
          cancelAfter: o.cancel,
          onMatch: (bytes, ts) => {
            n++;
            const ds = readDataset(bytes, ts);
            if (o.json) process.stdout.write(`${JSON.stringify(datasetToJson(ds))}\n`);
            else {
              process.stdout.write(`# match ${n}\n`);
              printIdentifier(ds);
            }
          },
        });
        process.stderr.write(`C-FIND: ${n} match(es), status ${statusText(r)}\n`);
        if (r.status !== Status.Success && r.status !== Status.Cancel) process.exitCode = 1;
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    });

  qrOptions(program.command('move').description(COMMANDS.move))
    .requiredOption('--aem <title>', 'move destination AE title', parseAeTitle)
    .action(async (args: string[], o: QrOptions & { aem: string }) => {
      const cls = sopClass(o, 'Move');
      const assoc = await open(o, args, [{ abstractSyntax: cls, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }]);
      const conn = new DimseConnection(assoc);
      const bar = subOperationProgress(`C-MOVE to ${o.aem}`);
      try {
        const r = await cMove(conn, cls, o.aem, encodeFor(conn, cls, identifierFromKeys(o.key)), { onProgress: (p) => bar.update(p) });
        bar.update(r);
        bar.stop();
        report('C-MOVE', r, contextSyntax(conn, cls));
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    });

  qrOptions(program.command('get').description(COMMANDS.get))
    .option('-o, --od <dir>', 'folder for the received files', '.')
    .option('--sop-class <uid>', 'also accept this storage SOP class (repeatable)', collect, [])
    .action(async (args: string[], o: QrOptions & { od: string; sopClass: string[] }) => {
      const cls = sopClass(o, 'Get');
      const dir = resolve(o.od);
      await ensureDir(dir);
      const contexts = getPresentationContexts(cls);
      for (const extra of o.sopClass)
        contexts.splice(1, 0, { abstractSyntax: extra, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] });
      const storageClasses = [...new Set(contexts.slice(1).map((c) => c.abstractSyntax))];
      const { host, port, tls } = await peer(args, o);
      const assoc = await connect({
        host,
        port,
        tls,
        callingAeTitle: o.aet,
        calledAeTitle: o.aec,
        presentationContexts: contexts.slice(0, 128),
        roleSelections: storageClasses.map((sopClassUid) => ({ sopClassUid, scuRole: false, scpRole: true })),
      });
      let received = 0;
      let bytes = 0;
      const registry = new ServiceRegistry([
        folderStorageService(dir, (f) => {
          received++;
          bytes += f.bytes;
        }),
      ]);
      const dispatcher = new ScpDispatcher(assoc, registry, pino({ level: 'silent' }));
      const bar = subOperationProgress('C-GET');
      const started = performance.now();
      try {
        const r = await cGet(dispatcher.connection, cls, encodeFor(dispatcher.connection, cls, identifierFromKeys(o.key)), {
          onProgress: (p) => bar.update(p),
        });
        bar.update(r);
        bar.stop();
        report('C-GET', r, contextSyntax(dispatcher.connection, cls));
        const s = (performance.now() - started) / 1000;
        process.stdout.write(`received ${received} file(s), ${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s into ${dir}\n`);
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    });
}
