// The Performed steps page: the Main Server's Modality Performed Procedure Steps (MPPS
// N-CREATE / N-SET from the modalities), newest first, each with its state, the scheduled
// steps it performs and the series it reports (Performed Series Sequence). Refreshed while shown.
import { api, type DicomJson, type MppsRecord } from './api.js';
import { str } from './dicom-json.js';
import { h } from './dom.js';

const REFRESH_MS = 3000;

/** The series a step reports: (0040,0340) Performed Series Sequence items. */
function performedSeries(json: DicomJson): { uid: string; description: string; images: number }[] {
  const items = (json['00400340']?.Value ?? []) as DicomJson[];
  return items.map((item) => ({
    uid: str(item, '0020000E'),
    description: str(item, '0008103E'),
    images: (item['00081140']?.Value ?? []).length,
  }));
}

export async function renderMpps(root: HTMLElement): Promise<void> {
  const rows = h('tbody', {});
  const element = h(
    'div',
    { id: 'mpps-page' },
    h('h2', {}, 'Performed steps'),
    h(
      'table',
      { id: 'mpps-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Started', 'Patient', 'Patient ID', 'Modality', 'Station AE', 'Scheduled steps', 'State', 'Series', 'Updated'].map((t) => h('th', {}, t)),
        ),
      ),
      rows,
    ),
  );
  root.replaceChildren(element);
  const refresh = async () => {
    const steps = await api<MppsRecord[]>('GET', '/api/mpps');
    rows.replaceChildren(
      ...(steps.length
        ? steps.map((m) => {
            const series = performedSeries(m.json);
            return h(
              'tr',
              { 'data-mpps': m.sopInstanceUid },
              h('td', {}, `${str(m.json, '00400244')} ${str(m.json, '00400245')}`.trim()),
              h('td', {}, str(m.json, '00100010')),
              h('td', {}, str(m.json, '00100020')),
              h('td', {}, str(m.json, '00080060')),
              h('td', {}, m.callingAeTitle),
              h('td', { class: 'mpps-sps' }, m.spsIds.join(', ')),
              h('td', { class: `mpps-status mpps-${m.status.toLowerCase().replace(' ', '-')}` }, m.status),
              h(
                'td',
                { class: 'mpps-series' },
                series.length
                  ? h('ul', {}, ...series.map((s) => h('li', { title: s.uid }, `${s.description || s.uid} (${s.images} image${s.images === 1 ? '' : 's'})`)))
                  : '-',
              ),
              h('td', { class: 'muted' }, new Date(m.updatedAt).toLocaleString()),
            );
          })
        : [h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No performed procedure steps yet.'))]),
    );
  };
  await refresh();
  const timer = setInterval(() => {
    if (!root.contains(element)) clearInterval(timer);
    else void refresh().catch(() => undefined);
  }, REFRESH_MS);
}
