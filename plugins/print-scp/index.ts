/**
 * Example add-in: a DIMSE service. Basic Grayscale Print Management SCP (PS3.4 Annex H),
 * the Basic Grayscale Print Management Meta SOP Class: Printer (N-GET), Basic Film Session
 * (N-CREATE, N-SET, N-ACTION, N-DELETE), Basic Film Box (N-CREATE, N-ACTION, N-DELETE) and
 * Basic Grayscale Image Box (N-SET). A "printed" film is kept as a job (its layout and each
 * image box's position and matrix), listed by GET /api/plugins/print-scp/jobs; nothing is
 * sent to paper. Tested with DCMTK's print SCU (dcmprscu).
 *
 * Registry entry: { "module": "/path/to/plugins/print-scp/index.ts", "options": { "role": "main" } }
 *
 * State is per association's calling AE and held in memory, bounded: at most MAX_SESSIONS
 * film sessions and the last MAX_JOBS jobs.
 */
import type { DicomJsonObject } from '../../src/dicom/dataset-json.js';
import type { PluginDimseRequest, PluginDimseResponse, PluginHost, PluginModule } from '../../src/roles/plugin-api.js';

export const META_GRAYSCALE = '1.2.840.10008.5.1.1.9';
export const FILM_SESSION = '1.2.840.10008.5.1.1.1';
export const FILM_BOX = '1.2.840.10008.5.1.1.2';
export const GRAYSCALE_IMAGE_BOX = '1.2.840.10008.5.1.1.4';
export const PRINTER = '1.2.840.10008.5.1.1.16';
/** The Printer SOP Instance is well known (PS3.4 H.7.2.1). */
export const PRINTER_INSTANCE = '1.2.840.10008.5.1.1.17';

const MAX_SESSIONS = 64;
const MAX_JOBS = 100;
/** STANDARD\C,R allows at most this many image boxes per film. */
const MAX_IMAGE_BOXES = 100;

const T = {
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  ImageDisplayFormat: '20100010',
  FilmSizeID: '20100050',
  FilmOrientation: '20100040',
  NumberOfCopies: '20000010',
  MediumType: '20000030',
  ReferencedFilmSessionSequence: '20100500',
  ReferencedImageBoxSequence: '20100510',
  ImageBoxPosition: '20200010',
  BasicGrayscaleImageSequence: '20200110',
  Rows: '00280010',
  Columns: '00280011',
  PrinterStatus: '21100010',
  PrinterStatusInfo: '21100020',
  PrinterName: '21100030',
  Manufacturer: '00080070',
  ManufacturerModelName: '00081090',
} as const;

const str = (json: DicomJsonObject | undefined, tag: string): string | undefined => {
  const v = json?.[tag]?.Value?.[0];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
};
const num = (json: DicomJsonObject | undefined, tag: string): number | undefined => {
  const v = json?.[tag]?.Value?.[0];
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined;
};

interface ImageBox {
  uid: string;
  position: number;
  rows?: number;
  columns?: number;
  set: boolean;
}

interface FilmBox {
  uid: string;
  sessionUid: string;
  imageDisplayFormat: string;
  filmSizeId?: string;
  filmOrientation?: string;
  imageBoxes: ImageBox[];
}

interface FilmSession {
  uid: string;
  callingAeTitle: string;
  numberOfCopies?: number;
  mediumType?: string;
  filmBoxes: Map<string, FilmBox>;
}

/** A film "printed" (N-ACTION): GET /api/plugins/print-scp/jobs. */
export interface PrintJob {
  id: number;
  printedAt: string;
  callingAeTitle: string;
  filmSessionUid: string;
  filmBoxUid: string;
  numberOfCopies: number;
  mediumType: string | null;
  imageDisplayFormat: string;
  filmSizeId: string | null;
  filmOrientation: string | null;
  imageBoxes: { position: number; rows: number | null; columns: number | null }[];
}

/** Image boxes of an Image Display Format (PS3.3 C.13.8): STANDARD\C,R -> C*R; other formats are refused. */
export function imageBoxCount(format: string): number | undefined {
  const m = /^STANDARD\\(\d{1,3}),(\d{1,3})$/.exec(format.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * Number(m[2]);
  return n >= 1 && n <= MAX_IMAGE_BOXES ? n : undefined;
}

const plugin: PluginModule = {
  apiVersion: 1,
  name: 'print-scp',
  create(host: PluginHost, options) {
    const role = options.role ?? 'main';
    if (role !== 'main' && role !== 'workstation' && role !== 'router') throw new Error('options.role must be main, workstation or router');
    const S = host.dicom.status;
    const sessions = new Map<string, FilmSession>();
    const filmBoxes = new Map<string, FilmBox>();
    const imageBoxes = new Map<string, { box: ImageBox; filmBox: FilmBox }>();
    const jobs: PrintJob[] = [];
    let nextJob = 1;

    const fail = (status: number, errorComment: string): PluginDimseResponse => ({ status, errorComment });

    const dropFilmBox = (fb: FilmBox): void => {
      for (const ib of fb.imageBoxes) imageBoxes.delete(ib.uid);
      filmBoxes.delete(fb.uid);
      sessions.get(fb.sessionUid)?.filmBoxes.delete(fb.uid);
    };
    const dropSession = (s: FilmSession): void => {
      for (const fb of s.filmBoxes.values()) dropFilmBox(fb);
      sessions.delete(s.uid);
    };

    const print = (fb: FilmBox, session: FilmSession): void => {
      jobs.push({
        id: nextJob++,
        printedAt: new Date().toISOString(),
        callingAeTitle: session.callingAeTitle,
        filmSessionUid: session.uid,
        filmBoxUid: fb.uid,
        numberOfCopies: session.numberOfCopies ?? 1,
        mediumType: session.mediumType ?? null,
        imageDisplayFormat: fb.imageDisplayFormat,
        filmSizeId: fb.filmSizeId ?? null,
        filmOrientation: fb.filmOrientation ?? null,
        imageBoxes: fb.imageBoxes.filter((b) => b.set).map((b) => ({ position: b.position, rows: b.rows ?? null, columns: b.columns ?? null })),
      });
      if (jobs.length > MAX_JOBS) jobs.shift();
      host.log.info({ filmBox: fb.uid, images: fb.imageBoxes.filter((b) => b.set).length }, 'film printed');
    };

    const nGet = (rq: PluginDimseRequest): PluginDimseResponse => {
      if (rq.requestedSopClassUid !== PRINTER) return fail(S.NoSuchSopClass, 'N-GET is supported for the Printer SOP Class only');
      if (rq.requestedSopInstanceUid !== PRINTER_INSTANCE) return fail(S.NoSuchSopInstance, 'the Printer SOP Instance is 1.2.840.10008.5.1.1.17');
      return {
        status: S.Success,
        affectedSopInstanceUid: PRINTER_INSTANCE,
        dataset: {
          [T.PrinterStatus]: { vr: 'CS', Value: ['NORMAL'] },
          [T.PrinterStatusInfo]: { vr: 'CS', Value: ['NORMAL'] },
          [T.PrinterName]: { vr: 'LO', Value: ['open-pacs print add-in'] },
          [T.Manufacturer]: { vr: 'LO', Value: ['open-pacs'] },
          [T.ManufacturerModelName]: { vr: 'LO', Value: ['print-scp'] },
        },
      };
    };

    const nCreate = (rq: PluginDimseRequest): PluginDimseResponse => {
      const uid = rq.affectedSopInstanceUid ?? host.dicom.newUid();
      if (rq.affectedSopClassUid === FILM_SESSION) {
        if (sessions.has(uid)) return fail(S.DuplicateSopInstance, 'film session exists');
        if (sessions.size >= MAX_SESSIONS) return fail(S.ProcessingFailure, `at most ${MAX_SESSIONS} film sessions at a time`);
        sessions.set(uid, {
          uid,
          callingAeTitle: rq.association.callingAeTitle,
          numberOfCopies: num(rq.dataset, T.NumberOfCopies),
          mediumType: str(rq.dataset, T.MediumType),
          filmBoxes: new Map(),
        });
        return { status: S.Success, affectedSopInstanceUid: uid, ...(rq.dataset ? { dataset: rq.dataset } : {}) };
      }
      if (rq.affectedSopClassUid === FILM_BOX) {
        const ref = rq.dataset?.[T.ReferencedFilmSessionSequence]?.Value?.[0] as DicomJsonObject | undefined;
        const session = sessions.get(str(ref, T.ReferencedSOPInstanceUID) ?? '');
        if (!session) return fail(S.InvalidAttributeValue, 'Referenced Film Session Sequence names no film session of this SCP');
        const format = str(rq.dataset, T.ImageDisplayFormat) ?? '';
        const n = imageBoxCount(format);
        if (n === undefined) return fail(S.InvalidAttributeValue, `Image Display Format "${format}" is not STANDARD\\C,R (1 to ${MAX_IMAGE_BOXES} boxes)`);
        const fb: FilmBox = {
          uid,
          sessionUid: session.uid,
          imageDisplayFormat: format,
          filmSizeId: str(rq.dataset, T.FilmSizeID),
          filmOrientation: str(rq.dataset, T.FilmOrientation),
          imageBoxes: Array.from({ length: n }, (_, i) => ({ uid: host.dicom.newUid(), position: i + 1, set: false })),
        };
        filmBoxes.set(uid, fb);
        session.filmBoxes.set(uid, fb);
        for (const box of fb.imageBoxes) imageBoxes.set(box.uid, { box, filmBox: fb });
        return {
          status: S.Success,
          affectedSopInstanceUid: uid,
          dataset: {
            ...rq.dataset,
            [T.ReferencedImageBoxSequence]: {
              vr: 'SQ',
              Value: fb.imageBoxes.map((b) => ({
                [T.ReferencedSOPClassUID]: { vr: 'UI', Value: [GRAYSCALE_IMAGE_BOX] },
                [T.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [b.uid] },
              })),
            },
          },
        };
      }
      return fail(S.NoSuchSopClass, `N-CREATE is supported for Basic Film Session and Basic Film Box, not ${rq.affectedSopClassUid ?? '(none)'}`);
    };

    const nSet = (rq: PluginDimseRequest): PluginDimseResponse => {
      const uid = rq.requestedSopInstanceUid ?? '';
      if (rq.requestedSopClassUid === GRAYSCALE_IMAGE_BOX) {
        const found = imageBoxes.get(uid);
        if (!found) return fail(S.NoSuchSopInstance, 'no such image box');
        const item = rq.dataset?.[T.BasicGrayscaleImageSequence]?.Value?.[0] as DicomJsonObject | undefined;
        if (!item) return fail(S.MissingAttribute, 'Basic Grayscale Image Sequence (2020,0110) is required');
        found.box.set = true;
        found.box.rows = num(item, T.Rows);
        found.box.columns = num(item, T.Columns);
        return { status: S.Success, affectedSopInstanceUid: uid };
      }
      if (rq.requestedSopClassUid === FILM_SESSION) {
        const s = sessions.get(uid);
        if (!s) return fail(S.NoSuchSopInstance, 'no such film session');
        s.numberOfCopies = num(rq.dataset, T.NumberOfCopies) ?? s.numberOfCopies;
        s.mediumType = str(rq.dataset, T.MediumType) ?? s.mediumType;
        return { status: S.Success, affectedSopInstanceUid: uid };
      }
      return fail(S.NoSuchSopClass, `N-SET is not supported for ${rq.requestedSopClassUid ?? '(none)'}`);
    };

    const nAction = (rq: PluginDimseRequest): PluginDimseResponse => {
      const uid = rq.requestedSopInstanceUid ?? '';
      if (rq.actionTypeId !== 1) return fail(S.NoSuchActionType, 'the only action is 1 (print)');
      if (rq.requestedSopClassUid === FILM_BOX) {
        const fb = filmBoxes.get(uid);
        if (!fb) return fail(S.NoSuchSopInstance, 'no such film box');
        print(fb, sessions.get(fb.sessionUid)!);
        return { status: S.Success, affectedSopInstanceUid: uid, actionTypeId: 1 };
      }
      if (rq.requestedSopClassUid === FILM_SESSION) {
        const s = sessions.get(uid);
        if (!s) return fail(S.NoSuchSopInstance, 'no such film session');
        for (const fb of s.filmBoxes.values()) print(fb, s);
        return { status: S.Success, affectedSopInstanceUid: uid, actionTypeId: 1 };
      }
      return fail(S.NoSuchSopClass, `N-ACTION is not supported for ${rq.requestedSopClassUid ?? '(none)'}`);
    };

    const nDelete = (rq: PluginDimseRequest): PluginDimseResponse => {
      const uid = rq.requestedSopInstanceUid ?? '';
      if (rq.requestedSopClassUid === FILM_BOX) {
        const fb = filmBoxes.get(uid);
        if (!fb) return fail(S.NoSuchSopInstance, 'no such film box');
        dropFilmBox(fb);
        return { status: S.Success, affectedSopInstanceUid: uid };
      }
      if (rq.requestedSopClassUid === FILM_SESSION) {
        const s = sessions.get(uid);
        if (!s) return fail(S.NoSuchSopInstance, 'no such film session');
        dropSession(s);
        return { status: S.Success, affectedSopInstanceUid: uid };
      }
      return fail(S.NoSuchSopClass, `N-DELETE is not supported for ${rq.requestedSopClassUid ?? '(none)'}`);
    };

    host.dimse.register({
      role,
      sopClasses: [META_GRAYSCALE],
      metaSopClasses: { [META_GRAYSCALE]: [FILM_SESSION, FILM_BOX, GRAYSCALE_IMAGE_BOX, PRINTER] },
      handlers: { 'N-GET': nGet, 'N-CREATE': nCreate, 'N-SET': nSet, 'N-ACTION': nAction, 'N-DELETE': nDelete },
    });

    host.routes.add({ method: 'GET', path: '/jobs', access: 'read', handler: () => ({ jobs }) });
  },
};

export default plugin;
