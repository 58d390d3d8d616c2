// The user's own window presets: read once from the server, saved there (PUT replaces the
// list), and the in-page form that names the active viewport's window as a new preset.
import { api, type WindowPresetsBody } from '../api.js';
import { background, h } from '../dom.js';
import type { WindowPreset } from './window-presets.js';

export class UserPresets {
  all: WindowPreset[] = [];
  private loaded?: Promise<void>;

  /** Reads them once; a failure leaves none (the viewer works without them) and is reported. */
  load(report: (message: string) => void): Promise<void> {
    this.loaded ??= api<WindowPresetsBody>('GET', '/api/me/window-presets').then(
      (b) => void (this.all = b.presets),
      (e: unknown) => report(`your W/L presets could not be read: ${(e as Error).message}`),
    );
    return this.loaded;
  }

  /** Adds (or replaces, same label and modality) a preset and saves the list. */
  async save(p: WindowPreset): Promise<void> {
    const same = (q: WindowPreset) => q.label === p.label && (q.modality ?? '') === (p.modality ?? '');
    const next = [...this.all.filter((q) => !same(q)), p];
    const body: WindowPresetsBody = {
      presets: next.map((q) => ({ label: q.label, center: q.center, width: q.width, ...(q.modality ? { modality: q.modality } : {}) })),
    };
    const saved = await api<WindowPresetsBody>('PUT', '/api/me/window-presets', body);
    this.all = saved.presets;
  }

  async remove(label: string): Promise<void> {
    const body: WindowPresetsBody = { presets: this.all.filter((q) => q.label !== label) };
    this.all = (await api<WindowPresetsBody>('PUT', '/api/me/window-presets', body)).presets;
  }
}

export interface PresetFormHost {
  /** The active viewport's window and modality, or undefined when no image is shown. */
  current(): { center: number; width: number; modality?: string } | undefined;
  saved(message: string): void;
}

/** A "Save W/L" button and the small in-page form it opens (label, only for this modality). */
export function presetForm(presets: UserPresets, host: PresetFormHost): HTMLElement {
  const label = h('input', { type: 'text', id: 'wl-save-label', maxlength: '64', placeholder: 'preset name', 'aria-label': 'preset name' });
  const onlyModality = h('input', { type: 'checkbox', id: 'wl-save-modality', checked: true });
  const modalityText = h('span', {});
  const error = h('span', { class: 'error', id: 'wl-save-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'wl-save-form', id: 'wl-save-form', hidden: true },
    label,
    h('label', {}, onlyModality, ' only ', modalityText),
    h('button', { type: 'submit', id: 'wl-save-submit' }, 'Save'),
    h('button', { type: 'button', onclick: () => (form.hidden = true) }, 'Cancel'),
    error,
  );
  const open = h(
    'button',
    {
      type: 'button',
      id: 'wl-save-open',
      title: 'keep the window shown as one of your presets',
      onclick: () => {
        const now = host.current();
        if (!now) return;
        modalityText.textContent = now.modality ?? 'this modality';
        error.textContent = '';
        form.hidden = false;
        label.focus();
      },
    },
    'Save W/L',
  );
  form.addEventListener(
    'submit',
    background(async (e: Event) => {
      e.preventDefault();
      const now = host.current();
      const name = label.value.trim();
      if (!now) return;
      if (!name) {
        error.textContent = 'a preset needs a name';
        return;
      }
      try {
        await presets.save({
          label: name,
          center: Math.round(now.center),
          width: Math.max(1, Math.round(now.width)),
          ...(onlyModality.checked && now.modality ? { modality: now.modality } : {}),
        });
        form.hidden = true;
        label.value = '';
        host.saved(`W/L preset "${name}" saved`);
      } catch (err) {
        error.textContent = (err as Error).message;
      }
    }),
  );
  return h('span', { class: 'wl-save' }, open, form);
}
