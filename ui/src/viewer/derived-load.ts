// Reading a study's SEG, RTSTRUCT and SR instances from the archive: segmentations and
// structure sets as Part 10 files (WADO-URI, explicit VR little endian, so compressed ones
// arrive decoded) read by dcmjs, reports from their WADO-RS metadata (they hold no bulk
// data). Loaded on demand (dcmjs is about 1 MB), after the first image.
import dcmjs from 'dcmjs';
import { str, TAG } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import type { Natural } from './natural.js';
import { parseRtStruct, type StructureSet } from './rtstruct-parse.js';
import { parseSeg, SegError, type Segmentation } from './seg-parse.js';
import { parseSr, type SrDocument } from './sr-parse.js';

const { DicomMessage, DicomMetaDictionary } = dcmjs.data;

/** A segmentation unpacked is one byte per pixel and frame: more than this is refused, not tried. */
export const MAX_SEG_PIXELS = 1 << 27;

export type Loaded<T> = { sopInstanceUid: string; value: T } | { sopInstanceUid: string; error: string };

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function part10(client: DicomWebClient, studyUid: string, seriesUid: string, sop: string): Promise<Natural> {
  const buf = await client.instanceFile(studyUid, seriesUid, sop, '1.2.840.10008.1.2.1');
  let file: { dict: Record<string, unknown> };
  try {
    file = DicomMessage.readFile(buf);
  } catch (e) {
    throw new Error(`the file cannot be read as DICOM: ${reason(e)}`, { cause: e });
  }
  return DicomMetaDictionary.naturalizeDataset(file.dict);
}

/** Each instance of a SEG or RTSTRUCT series, read, or why not. */
export async function loadOverlays(
  client: DicomWebClient,
  studyUid: string,
  seriesUid: string,
  modality: 'SEG' | 'RTSTRUCT',
): Promise<Array<Loaded<Segmentation | StructureSet>>> {
  const out: Array<Loaded<Segmentation | StructureSet>> = [];
  for (const inst of await client.seriesMetadata(studyUid, seriesUid)) {
    const sop = str(inst, TAG.SOPInstanceUID);
    try {
      if (modality === 'SEG') {
        const pixels = (Number(str(inst, TAG.Rows)) || 0) * (Number(str(inst, TAG.Columns)) || 0) * (Number(str(inst, TAG.NumberOfFrames)) || 1);
        if (pixels > MAX_SEG_PIXELS) throw new SegError(`${pixels} mask pixels, more than the ${MAX_SEG_PIXELS} this viewer shows`);
      }
      const ds = await part10(client, studyUid, seriesUid, sop);
      out.push({ sopInstanceUid: sop, value: modality === 'SEG' ? parseSeg(ds) : parseRtStruct(ds) });
    } catch (e) {
      out.push({ sopInstanceUid: sop, error: reason(e) });
    }
  }
  return out;
}

/** Each document of an SR series as a content tree, or why not. */
export async function loadReports(client: DicomWebClient, studyUid: string, seriesUid: string): Promise<Array<Loaded<SrDocument>>> {
  const out: Array<Loaded<SrDocument>> = [];
  for (const inst of await client.freshSeriesMetadata(studyUid, seriesUid)) {
    const sop = str(inst, TAG.SOPInstanceUID);
    try {
      out.push({ sopInstanceUid: sop, value: parseSr(DicomMetaDictionary.naturalizeDataset(inst)) });
    } catch (e) {
      out.push({ sopInstanceUid: sop, error: reason(e) });
    }
  }
  return out;
}
