// The series side panel: a thumbnail and description per series, under a heading per
// study. A series is dragged onto a viewport, or clicked to show it in the active one.
import { h } from '../dom.js';
import type { DisplaySet } from './loader.js';

export const SERIES_MIME = 'application/x-pacs-series';

export function renderSeriesPanel(root: HTMLElement, sets: DisplaySet[], choose: (ds: DisplaySet) => void): void {
  const items: HTMLElement[] = [];
  let study: string | undefined;
  for (const ds of sets) {
    if (ds.studyUid !== study) {
      study = ds.studyUid;
      items.push(h('li', { class: 'study-heading', 'data-study': ds.studyUid, title: ds.studyUid }, ds.studyLabel));
    }
    items.push(seriesItem(ds, choose));
  }
  root.replaceChildren(h('ul', { class: 'series-list' }, ...items));
}

function seriesItem(ds: DisplaySet, choose: (ds: DisplaySet) => void): HTMLElement {
  const thumb = h('img', { class: 'thumb', src: ds.thumbnailUrl, alt: '', loading: 'lazy', draggable: 'false' });
  thumb.addEventListener('error', () => thumb.classList.add('missing'));
  const item = h(
    'li',
    { class: 'series-item', draggable: 'true', 'data-series': ds.seriesUid, title: 'drag onto a viewport, or click for the active one' },
    thumb,
    h(
      'div',
      { class: 'series-text' },
      h('div', { class: 'series-title' }, `${ds.seriesNumber ?? '-'} ${ds.description || '(no description)'}`),
      h('div', { class: 'muted' }, `${ds.modality} - ${ds.instanceCount} image${ds.instanceCount === 1 ? '' : 's'}`),
    ),
  );
  item.addEventListener('dragstart', (e) => {
    e.dataTransfer?.setData(SERIES_MIME, ds.key);
    e.dataTransfer?.setData('text/plain', ds.seriesUid);
    if (e.dataTransfer) e.dataTransfer.effectAllowed = 'copy';
  });
  item.addEventListener('click', () => choose(ds));
  return item;
}
