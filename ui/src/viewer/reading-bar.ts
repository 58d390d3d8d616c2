// The toolbar's reading group (presentation states, key images), without Cornerstone: the
// reading session (reading.ts) fills and answers it; the entry chunk's page skeleton
// (preview.ts) shows the same group, inert, so that its toolbar wraps as the viewer's does.
import { background, h } from '../dom.js';

export interface ReadingBarActions {
  savePresentation(): Promise<void>;
  choosePresentation(sopInstanceUid: string): Promise<void>;
  toggleKeyImage(): void;
  saveKeyImages(): Promise<void>;
}

export interface ReadingBar {
  readonly root: HTMLElement;
  /** What happened last (saved, applied, failed): its own line, the toolbar's status stays the measurements'. */
  readonly status: HTMLSpanElement;
  readonly presentationSelect: HTMLSelectElement;
  readonly keyButton: HTMLButtonElement;
}

export function readingBar(actions: ReadingBarActions): ReadingBar {
  const status = h('span', { id: 'reading-status', class: 'muted reading-status', role: 'status' });
  const presentationSelect = h('select', { id: 'gsps-select', 'aria-label': 'presentation state' }, h('option', { value: '' }, 'no presentation states'));
  presentationSelect.addEventListener(
    'change',
    background(() => actions.choosePresentation(presentationSelect.value)),
  );
  const keyButton = h(
    'button',
    { type: 'button', id: 'key-image', title: 'mark or unmark the image shown as a key image', 'aria-pressed': 'false' },
    'Key image',
  );
  keyButton.addEventListener('click', () => actions.toggleKeyImage());
  const root = h(
    'div',
    { class: 'tb-group', role: 'group', 'aria-label': 'reading' },
    h(
      'button',
      {
        type: 'button',
        id: 'save-gsps',
        title: 'store the display (window, zoom, rotation, annotations) as a presentation state',
        onclick: background(() => actions.savePresentation()),
      },
      'Save display',
    ),
    presentationSelect,
    keyButton,
    h(
      'button',
      { type: 'button', id: 'save-key-images', title: 'store the marked images as a key object selection', onclick: background(() => actions.saveKeyImages()) },
      'Save key images',
    ),
    status,
  );
  return { root, status, presentationSelect, keyButton };
}
