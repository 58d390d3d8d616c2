// What the first image needs, asked for while the viewer's code (about 3 MB of script)
// is still loading and the session is checked: the first study's series, the first hung series' metadata (kept by the
// client, which answers the viewer's own request with it) and its first frame. The frame
// is fetched with the image loader's exact Accept: frames are immutable and vary on
// Accept (src/web/dicomweb/pixel-cache.ts), so the browser's HTTP cache answers the
// loader's request with this one's response. No Cornerstone here.
import { str, TAG } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { firstHungSeries, firstShownInstance, LOADER_FRAME_ACCEPT } from './first-image.js';

/** Starts the requests; failures are left to the viewer, which asks again and reports them. */
export function askEarly(client: DicomWebClient, studyUids: string[]): void {
  const [study, ...others] = studyUids;
  void client
    .series(study)
    .then(async (list) => {
      const first = firstHungSeries(list);
      if (!first) return;
      const seriesUid = str(first, TAG.SeriesInstanceUID);
      const inst = firstShownInstance(await client.seriesMetadata(study, seriesUid));
      if (!inst) return;
      const url = client.frameImageId(study, seriesUid, str(inst, TAG.SOPInstanceUID), 1).replace(/^wadors:/, '');
      // X-Requested-With: without a session, a plain 401 rather than a Basic challenge (main.ts).
      // The cache entry still answers the loader's request: frames vary on Accept only.
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: LOADER_FRAME_ACCEPT, 'x-requested-with': 'fetch' } });
      if (!res.ok) return;
      await res.arrayBuffer(); // read to its end: the cache entry is complete only then
    })
    .catch(() => undefined);
  for (const uid of others) void client.series(uid).catch(() => undefined);
}
