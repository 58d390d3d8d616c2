// What the first image needs, asked for while the viewer's code (about 4 MB of script)
// is still loading: the first study's series, the first hung series' metadata (kept by the
// client, which answers the viewer's own request with it) and its first frame. The frame
// is fetched with the image loader's exact Accept: frames are immutable and vary on
// Accept (src/web/dicomweb/pixel-cache.ts), so the browser's HTTP cache answers the
// loader's request with this one's response. No Cornerstone here.
import { num, str, TAG, type DicomJson } from './dicom-json.js';
import type { DicomWebClient } from './dicomweb.js';
import { hangingOrder, hangsAsImages } from './hanging.js';
import { holdsPixels, orderSlices } from './slice-order.js';

/** The Accept of the dicom-image-loader's WADO-RS frame requests (its wadors/loadImage.js). */
export const LOADER_FRAME_ACCEPT = 'multipart/related; type=application/octet-stream; transfer-syntax=*';

const hangingKey = (s: DicomJson) => ({ seriesNumber: num(s, TAG.SeriesNumber), description: str(s, TAG.SeriesDescription) });

/** The series the viewer hangs first: images only, in hanging order. */
export function firstHungSeries(series: DicomJson[]): DicomJson | undefined {
  return series.filter((s) => hangsAsImages(str(s, TAG.Modality))).sort((a, b) => hangingOrder(hangingKey(a), hangingKey(b)))[0];
}

/** The instance the viewer shows first: the first image in display order. */
export function firstShownInstance(instances: DicomJson[]): DicomJson | undefined {
  const images = instances.filter(holdsPixels);
  return images.length ? orderSlices(images).ordered[0] : undefined;
}

/** Starts the requests; failures are left to the viewer, which asks again and reports them. */
export function askEarly(client: DicomWebClient, studyUids: string[]): void {
  const [study, ...others] = studyUids;
  void client.series(study).then(async (list) => {
    const first = firstHungSeries(list);
    if (!first) return;
    const seriesUid = str(first, TAG.SeriesInstanceUID);
    const inst = firstShownInstance(await client.seriesMetadata(study, seriesUid));
    if (!inst) return;
    const url = client.frameImageId(study, seriesUid, str(inst, TAG.SOPInstanceUID), 1).replace(/^wadors:/, '');
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: LOADER_FRAME_ACCEPT } });
    await res.arrayBuffer(); // read to its end: the cache entry is complete only then
  }).catch(() => undefined);
  for (const uid of others) void client.series(uid).catch(() => undefined);
}
