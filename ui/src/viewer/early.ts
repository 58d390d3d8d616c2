// What the first image needs, asked for while the viewer's code (about 3 MB of script)
// is still loading and the session is checked: the first study's series, the first hung
// series' metadata (kept by the client, which answers the viewer's own request with it)
// and its first frame, drawn at once as a preview (preview.ts); and what the hanging
// needs, which the series listing waited for: the administrators' hanging protocols and,
// when a protocol asks for one, the search for the prior study and its series. The
// frame is fetched with the image loader's exact Accept: frames are immutable and vary on
// Accept (src/web/dicomweb/pixel-cache.ts), so the browser's HTTP cache answers the
// loader's request with this one's response. No Cornerstone here.
import { api, type HangingProtocol, type HangingProtocolsBody } from '../api.js';
import { num, str, TAG, type DicomJson } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { firstHungSeries, firstShown, LOADER_FRAME_ACCEPT } from './first-image.js';
import { BUILT_IN_PROTOCOLS, hangsAsImages, type SeriesFacts } from './hanging.js';
import { boundaryOf, readMultipart } from './multipart-reader.js';
import type { Preview } from './preview.js';
import { previewableHeader, previewImage } from './preview-image.js';
import { findPrior, priorModality, studyIdentity } from './prior-study.js';

/** Answers asked for once per page (early here, used by the viewer); a failure is asked again next time. */
const answers = new Map<string, Promise<unknown>>();
function once<T>(key: string, ask: () => Promise<T>): Promise<T> {
  let p = answers.get(key) as Promise<T> | undefined;
  if (!p) {
    p = ask();
    answers.set(key, p);
    p.catch(() => answers.delete(key));
  }
  return p;
}

/** The administrators' hanging protocols (GET /api/hanging-protocols), asked once. */
export function adminProtocols(): Promise<HangingProtocol[]> {
  return once('hanging-protocols', async () => (await api<HangingProtocolsBody>('GET', '/api/hanging-protocols')).protocols);
}

/** A QIDO-RS study search of `client`, each query asked once (the prior's search: findPrior asks the same one both times). */
export function studySearch(client: DicomWebClient): (params: Record<string, string | number | undefined>) => Promise<DicomJson[]> {
  return (params) => once(`${client.root}|studies|${JSON.stringify(params)}`, () => client.qido('studies', params));
}

/** A series as the hanging protocols read it (loader.ts displaySetFromSeries makes the same facts). */
function seriesFacts(client: DicomWebClient, s: DicomJson): SeriesFacts {
  return {
    key: `${client.root}|${str(s, TAG.SeriesInstanceUID)}`,
    modality: str(s, TAG.Modality),
    description: str(s, TAG.SeriesDescription),
    seriesNumber: num(s, TAG.SeriesNumber),
    bodyPart: str(s, TAG.BodyPartExamined),
  };
}

/** When each early answer was in (performance.now()): the part of the first image's timeline before the viewer's scripts. */
export interface EarlyTimings {
  series?: number;
  metadata?: number;
  frame?: number;
  prior?: number;
}

/**
 * Starts the requests; failures are left to the viewer, which asks again and reports them.
 * Resolves once the first image's part is over: its preview handed over (drawn, or drawn
 * once the session is checked), or known not to come (not previewable by its header, or a
 * request failed).
 */
export function askEarly(client: DicomWebClient, studyUids: string[], preview?: Preview, timings: EarlyTimings = {}): Promise<void> {
  const [study, ...others] = studyUids;
  const protocols = adminProtocols();
  protocols.catch(() => undefined);
  const listed = client.series(study);
  void listed
    .then(async (list) => {
      await askPrior(client, study, list, protocols);
      timings.prior = performance.now();
    })
    .catch(() => undefined);
  let settle!: () => void;
  const firstImage = new Promise<void>((resolve) => (settle = resolve));
  void listed
    .then(async (list) => {
      timings.series = performance.now();
      const first = firstHungSeries(list);
      if (!first) return;
      const seriesUid = str(first, TAG.SeriesInstanceUID);
      const shown = firstShown(await client.seriesMetadata(study, seriesUid));
      timings.metadata = performance.now();
      if (!shown) return;
      const inst = shown.instance;
      // No preview can come of it: the frame is still asked for (the loader's request is answered from the cache), but not waited for.
      if (!preview || !previewableHeader(inst)) settle();
      const url = client.frameImageId(study, seriesUid, str(inst, TAG.SOPInstanceUID), 1).replace(/^wadors:/, '');
      // X-Requested-With: without a session, a plain 401 rather than a Basic challenge (main.ts).
      // The cache entry still answers the loader's request: frames vary on Accept only.
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: LOADER_FRAME_ACCEPT, 'x-requested-with': 'fetch' } });
      if (!res.ok) return;
      const body = await res.arrayBuffer(); // read to its end: the cache entry is complete only then
      timings.frame = performance.now();
      if (preview) await showPreview(preview, seriesUid, inst, shown.frames, res.headers.get('content-type') ?? '', body);
    })
    .catch(() => undefined)
    .finally(settle);
  for (const uid of others) void client.series(uid).catch(() => undefined);
  return firstImage;
}

/** The prior study's search and series list, when a protocol that applies asks for a prior (the viewer's priorOf asks the same). */
async function askPrior(client: DicomWebClient, study: string, list: DicomJson[], protocols: Promise<HangingProtocol[]>): Promise<void> {
  const current = list[0];
  if (!current) return;
  const all = [...(await protocols.catch(() => [])), ...BUILT_IN_PROTOCOLS];
  const series = list.filter((s) => hangsAsImages(str(s, TAG.Modality))).map((s) => seriesFacts(client, s));
  const modality = priorModality(all, { description: str(current, TAG.StudyDescription), series });
  if (!modality) return;
  const uid = await findPrior(studySearch(client), studyIdentity(current, study), modality);
  if (uid) await client.series(uid);
}

/** The frame's one part drawn as the preview, when the viewer would show it as computed here (preview-image.ts). */
async function showPreview(preview: Preview, seriesUid: string, inst: DicomJson, frames: number, contentType: string, body: ArrayBuffer): Promise<void> {
  const boundary = boundaryOf(contentType);
  if (!boundary) return;
  for await (const part of readMultipart(new Response(body).body!, boundary)) {
    const image = previewImage(inst, part.headers['content-type'] ?? '', part.body);
    if (image) preview.show(seriesUid, inst, image, frames);
    return;
  }
}
