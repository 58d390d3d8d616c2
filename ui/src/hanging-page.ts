// The Hanging protocols page (admins): the administrators' protocols as JSON in a text
// area, saved with PUT /api/hanging-protocols (the server checks them and names the first
// bad field), and the built-in protocols, tried after them, shown for reference.
import { api, ApiError, type HangingProtocolsBody } from './api.js';
import { background, h } from './dom.js';
import { BUILT_IN_PROTOCOLS } from './viewer/hanging.js';

const HELP =
  'Tried in order before the built-in protocols; the first whose match holds for the opened study is used. ' +
  'Patterns ignore case: * any run, ? one character, | between alternatives. ' +
  'A viewport shows the current study (default) or "study": "prior" (the same patient\u2019s newest study of an earlier date and the same modality); ' +
  '"sameAsViewport": N puts there the prior\u2019s series like the one in viewport N.';

export async function renderHangingProtocols(root: HTMLElement): Promise<void> {
  const body = await api<HangingProtocolsBody>('GET', '/api/hanging-protocols');
  const text = h('textarea', { id: 'hanging-json', rows: '22', cols: '100', spellcheck: 'false', 'aria-label': 'hanging protocols (JSON)' });
  text.value = JSON.stringify(body, null, 2);
  const error = h('div', { class: 'field-error', id: 'hanging-error', role: 'alert' });
  const done = h('span', { class: 'ok', id: 'hanging-done', role: 'status' });
  const form = h(
    'form',
    { class: 'card', id: 'hanging-form', novalidate: true },
    h('p', { class: 'muted' }, HELP),
    text,
    error,
    h('button', { type: 'submit', id: 'hanging-save' }, 'Save'),
    ' ',
    done,
  );
  form.addEventListener(
    'submit',
    background(async (e) => {
      e.preventDefault();
      error.textContent = '';
      done.textContent = '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(text.value);
      } catch (err) {
        error.textContent = `not JSON: ${(err as Error).message}`;
        return;
      }
      try {
        const saved = await api<HangingProtocolsBody>('PUT', '/api/hanging-protocols', parsed);
        text.value = JSON.stringify(saved, null, 2);
        done.textContent = `${saved.protocols.length} protocol(s) saved; the viewer uses them from the next study opened`;
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.problem.detail : String(err);
      }
    }),
  );
  root.replaceChildren(
    h('h2', {}, 'Hanging protocols'),
    form,
    h('h3', {}, 'Built-in (tried after these)'),
    h('pre', { class: 'card', id: 'hanging-builtin' }, JSON.stringify(BUILT_IN_PROTOCOLS, null, 2)),
  );
}
