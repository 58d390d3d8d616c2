// The tag browser: every attribute of one instance, from its DICOM JSON metadata (WADO-RS),
// in a dialog; a sequence's items open on a click, nested to any depth. Names come from the
// server's dictionaries (POST /api/dictionary/names), private elements by their private
// creator where DCMTK's private dictionary knows them.
import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { mainArchive, type DicomJson } from './dicomweb.js';
import type { DicomJsonAttribute } from './dicom-json.js';

/** A long value is cut here in the table (a whole LUT or CSA header helps nobody). */
const MAX_VALUE_TEXT = 1024;

interface Named {
  tag: string;
  creator?: string;
}

const isPrivate = (tag: string): boolean => parseInt(tag.slice(0, 4), 16) % 2 === 1;

/** The private creator of a private element (gggg,xxee): the value of (gggg,00xx) in the same data set. */
function creatorOf(ds: DicomJson, tag: string): string | undefined {
  const element = parseInt(tag.slice(4), 16);
  if (!isPrivate(tag) || element < 0x1000) return undefined;
  const v = ds[`${tag.slice(0, 4)}00${tag.slice(4, 6)}`]?.Value?.[0];
  return typeof v === 'string' ? v.trim() : undefined;
}

const nameKey = (n: Named): string => `${n.tag}|${n.creator ?? ''}`;

/** Every element of `ds` and of its sequences' items, once each. */
function collect(ds: DicomJson, into: Map<string, Named>): void {
  for (const [tag, a] of Object.entries(ds)) {
    const n = { tag, creator: creatorOf(ds, tag) };
    into.set(nameKey(n), n);
    if (a.vr === 'SQ') for (const item of a.Value ?? []) if (item && typeof item === 'object') collect(item as DicomJson, into);
  }
}

function valueText(a: DicomJsonAttribute): string {
  if (a.BulkDataURI !== undefined) return '(bulk data)';
  if (a.InlineBinary !== undefined) return `(binary, ${Math.floor((a.InlineBinary.length * 3) / 4)} bytes)`;
  const vs = a.Value ?? [];
  const t = vs
    .map((v) => {
      if (v === null || v === undefined) return '';
      if (typeof v === 'object') {
        const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
        return [pn.Alphabetic, pn.Ideographic, pn.Phonetic].filter((x) => x !== undefined).join('=');
      }
      return String(v);
    })
    .join('\\');
  return t.length > MAX_VALUE_TEXT ? `${t.slice(0, MAX_VALUE_TEXT)}… (${t.length} characters)` : t;
}

const tagText = (tag: string): string => `(${tag.slice(0, 4)},${tag.slice(4)})`;

/** The rows of a data set at `depth`; a sequence's row opens and closes its items' rows below it. */
function rows(ds: DicomJson, depth: number, names: Map<string, string | null>): HTMLTableRowElement[] {
  return Object.keys(ds)
    .sort()
    .map((tag) => {
      const a = ds[tag];
      const creator = creatorOf(ds, tag);
      const name = names.get(nameKey({ tag, creator })) ?? null;
      const nameCell = h(
        'td',
        { class: 'tag-name', style: `padding-left: ${0.4 + depth * 1.2}rem` },
        name ?? (isPrivate(tag) ? `Private${creator ? ` (${creator})` : ''}` : 'Unknown'),
      );
      const tr = h(
        'tr',
        { 'data-tag': tag, 'data-depth': depth, class: isPrivate(tag) ? 'private' : undefined },
        h('td', {}, tagText(tag)),
        h('td', {}, a.vr),
        nameCell,
        h('td', { class: 'tag-value' }, a.vr === 'SQ' ? '' : valueText(a)),
      );
      if (a.vr === 'SQ') {
        const items = (a.Value ?? []).filter((x): x is DicomJson => !!x && typeof x === 'object');
        const toggle = h('button', { type: 'button', class: 'tag-toggle', 'aria-expanded': 'false', 'aria-label': 'show items' }, '+');
        toggle.addEventListener('click', () => {
          if (toggle.getAttribute('aria-expanded') === 'true') {
            // Closing removes the items' rows and whatever was opened inside them (deeper rows below this one).
            let next = tr.nextElementSibling as HTMLTableRowElement | null;
            while (next && Number(next.dataset.depth) > depth) {
              const after = next.nextElementSibling as HTMLTableRowElement | null;
              next.remove();
              next = after;
            }
            toggle.textContent = '+';
            toggle.setAttribute('aria-expanded', 'false');
            return;
          }
          tr.after(
            ...items.flatMap((item, i) => [
              h(
                'tr',
                { class: 'tag-item', 'data-depth': depth + 1 },
                h('td', { colspan: 4, style: `padding-left: ${0.4 + (depth + 1) * 1.2}rem`, class: 'muted' }, `Item ${i + 1}`),
              ),
              ...rows(item, depth + 1, names),
            ]),
          );
          toggle.textContent = '−';
          toggle.setAttribute('aria-expanded', 'true');
        });
        nameCell.prepend(toggle);
        tr.cells[3].textContent = `${items.length} item(s)`;
      }
      return tr;
    });
}

/** Opens the tag browser of the instance at `path` (studies/{st}/series/{se}/instances/{sop}). */
export async function openTagBrowser(path: string, title: string): Promise<void> {
  document.getElementById('tag-browser')?.remove();
  const body = h('div', { class: 'tag-browser-body' }, h('p', { class: 'muted' }, 'loading…'));
  const close = h('button', { type: 'button', id: 'tag-browser-close' }, 'Close');
  const dialog = h('dialog', { id: 'tag-browser', class: 'tag-browser', 'aria-label': `Tags of ${title}` }, h('h3', {}, `Tags of ${title}`), body, close);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  try {
    const [ds] = await mainArchive.metadata(path);
    if (!ds) throw new Error('the instance has no metadata');
    const wanted = new Map<string, Named>();
    collect(ds, wanted);
    const asked = [...wanted.values()];
    const { names } = await api<{ names: (string | null)[] }>('POST', '/api/dictionary/names', { tags: asked });
    const byKey = new Map(asked.map((n, i) => [nameKey(n), names[i]]));
    body.replaceChildren(
      h(
        'table',
        { id: 'tag-table' },
        h('thead', {}, h('tr', {}, ...['Tag', 'VR', 'Name', 'Value'].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...rows(ds, 0, byKey)),
      ),
    );
  } catch (err) {
    body.replaceChildren(h('p', { class: 'fail', role: 'alert' }, err instanceof ApiError ? err.problem.detail : (err as Error).message));
  }
}
