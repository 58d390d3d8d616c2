// The toolbar: layout, primary tool, window presets, image operations, cine, sync and
// reference lines. It only calls back into the viewer; it holds no viewer state.
import { h } from '../dom.js';
import { GROUP_LABELS, type WindowPreset } from './window-presets.js';
import { LAYOUTS, MAX_COLS, MAX_ROWS, PRIMARY_TOOLS } from './toolbar-entries.js';

export interface ToolbarActions {
  layout(rows: number, cols: number): void;
  tool(name: string): void;
  preset(p: WindowPreset): void;
  op(name: 'rotate-left' | 'rotate-right' | 'flip-h' | 'flip-v' | 'invert' | 'reset'): void;
  cine(play: boolean, fps: number): void;
  sync(on: boolean): void;
  referenceLines(on: boolean): void;
  saveMeasurements(): void;
  /** Shows or hides the Query/Retrieve panel. */
  queryRetrieve?(): void;
  /** Opens the active series in the MPR / 3D layout. */
  mpr?(): void;
}

export class Toolbar {
  readonly root: HTMLElement;
  private readonly presetSelect: HTMLSelectElement;
  /** The window presets and image operations; addImageControl() adds to it. */
  private readonly imageGroup: HTMLElement;
  private readonly toolButtons = new Map<string, HTMLButtonElement>();
  private readonly cineButton: HTMLButtonElement;
  private readonly fps: HTMLInputElement;
  readonly status: HTMLSpanElement;
  private presets: WindowPreset[] = [];

  constructor(actions: ToolbarActions) {
    const layoutButtons = LAYOUTS.map(([r, c]) =>
      h('button', { type: 'button', class: 'layout', 'data-layout': `${r}x${c}`, title: `${r} x ${c}`, onclick: () => actions.layout(r, c) }, `${r}x${c}`),
    );
    const rows = h('input', { type: 'number', id: 'layout-rows', min: '1', max: String(MAX_ROWS), value: '1', 'aria-label': 'rows' });
    const cols = h('input', { type: 'number', id: 'layout-cols', min: '1', max: String(MAX_COLS), value: '1', 'aria-label': 'columns' });
    const custom = h('button', { type: 'button', id: 'layout-custom', onclick: () => actions.layout(Number(rows.value), Number(cols.value)) }, 'Set');
    for (const t of PRIMARY_TOOLS) {
      this.toolButtons.set(t.name, h('button', { type: 'button', class: 'tool', 'data-tool': t.name, onclick: () => actions.tool(t.name) }, t.label));
    }
    this.presetSelect = h('select', { id: 'wl-preset', 'aria-label': 'window preset' });
    this.presetSelect.addEventListener('change', () => {
      const p = this.presets[Number(this.presetSelect.value)];
      if (p) actions.preset(p);
      this.presetSelect.value = '';
    });
    const op = (name: Parameters<ToolbarActions['op']>[0], label: string) =>
      h('button', { type: 'button', 'data-op': name, onclick: () => actions.op(name) }, label);
    this.fps = h('input', { type: 'number', id: 'cine-fps', min: '1', max: '60', value: '10', 'aria-label': 'frames per second' });
    this.cineButton = h('button', { type: 'button', id: 'cine-play' }, 'Play');
    this.cineButton.addEventListener('click', () => actions.cine(this.cineButton.textContent === 'Play', Number(this.fps.value) || 10));
    this.fps.addEventListener('change', () => {
      if (this.cineButton.textContent === 'Stop') actions.cine(true, Number(this.fps.value) || 10);
    });
    const sync = h('input', { type: 'checkbox', id: 'sync-scroll', checked: true });
    sync.addEventListener('change', () => actions.sync(sync.checked));
    const refLines = h('input', { type: 'checkbox', id: 'reference-lines' });
    refLines.addEventListener('change', () => actions.referenceLines(refLines.checked));
    const save = h(
      'button',
      { type: 'button', id: 'save-measurements', title: 'store the measurements in the archive (DICOM SR)', onclick: () => actions.saveMeasurements() },
      'Save measurements',
    );
    this.status = h('span', { id: 'viewer-status', class: 'muted' });
    const group = (label: string, ...children: Node[]) => h('div', { class: 'tb-group', role: 'group', 'aria-label': label }, ...children);
    this.imageGroup = group(
      'image',
      this.presetSelect,
      op('rotate-left', '⟲'),
      op('rotate-right', '⟳'),
      op('flip-h', 'Flip H'),
      op('flip-v', 'Flip V'),
      op('invert', 'Invert'),
      op('reset', 'Reset'),
    );
    this.root = h(
      'div',
      { class: 'toolbar', id: 'toolbar' },
      group('layout', ...layoutButtons, rows, h('span', {}, 'x'), cols, custom),
      group('tools', ...this.toolButtons.values()),
      this.imageGroup,
      group('cine', this.cineButton, this.fps, h('span', {}, 'fps')),
      group('sync', h('label', {}, sync, ' Sync scroll'), h('label', {}, refLines, ' Ref. lines')),
      group('measurements', save),
      ...(actions.mpr
        ? [
            group(
              '3d',
              h(
                'button',
                { type: 'button', id: 'open-mpr', title: 'the active series as a volume: MPR, slabs, 3D', onclick: () => actions.mpr?.() },
                '3D / MPR',
              ),
            ),
          ]
        : []),
      ...(actions.queryRetrieve
        ? [
            group(
              'query/retrieve',
              h(
                'button',
                {
                  type: 'button',
                  id: 'qr-toggle',
                  title: 'query a remote AE, retrieve into the workstation, send the open study',
                  onclick: () => actions.queryRetrieve?.(),
                },
                'Query/Retrieve',
              ),
            ),
          ]
        : []),
      this.status,
    );
  }

  /** A control of another module's in the image group (the user's preset form, user-presets.ts). */
  addImageControl(control: HTMLElement): void {
    this.imageGroup.append(control);
  }

  /** A group of another module's before the status (the reading session's, reading-bar.ts). */
  addGroup(group: HTMLElement): void {
    this.status.before(group);
  }

  setActiveTool(name: string): void {
    for (const [n, b] of this.toolButtons) b.classList.toggle('active', n === name);
  }

  /** The presets offered, in groups (modality, the image's own, the user's) in the order given. */
  setPresets(presets: WindowPreset[]): void {
    this.presets = presets;
    const option = (p: WindowPreset) => h('option', { value: String(presets.indexOf(p)) }, `${p.label} ${p.center}/${p.width}`);
    const groups = [...new Set(presets.map((p) => p.group))];
    this.presetSelect.replaceChildren(
      h('option', { value: '' }, presets.length ? 'W/L preset' : 'no presets'),
      ...groups.flatMap((g) => {
        const members = presets.filter((p) => p.group === g).map(option);
        return g ? [h('optgroup', { label: GROUP_LABELS[g], 'data-group': g }, ...members)] : members;
      }),
    );
  }

  setCinePlaying(playing: boolean): void {
    this.cineButton.textContent = playing ? 'Stop' : 'Play';
  }

  setLayout(rows: number, cols: number): void {
    for (const b of this.root.querySelectorAll<HTMLButtonElement>('button.layout')) b.classList.toggle('active', b.dataset.layout === `${rows}x${cols}`);
    (this.root.querySelector('#layout-rows') as HTMLInputElement).value = String(rows);
    (this.root.querySelector('#layout-cols') as HTMLInputElement).value = String(cols);
  }
}
