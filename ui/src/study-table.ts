// The study search form and the results table (shared by the archive and the Remote tab).
import { h } from './dom.js';
import { num, TAG, text, type DicomJson } from './dicom-json.js';

export interface StudyKeys {
  PatientName?: string;
  PatientID?: string;
  StudyDate?: string;
  Modality?: string;
  AccessionNumber?: string;
  StudyDescription?: string;
}

/** `DOE` finds `DOE^JOHN`: free text gets a trailing wildcard unless it has one. */
const fuzzy = (s: string): string | undefined => (s.trim() === '' ? undefined : /[*?]/.test(s) ? s.trim() : `${s.trim()}*`);
const exact = (s: string): string | undefined => s.trim() || undefined;
const dicomDate = (d: string): string => d.replaceAll('-', '');

/** What the form's fields hold, as typed (kept in the address so a search can be restored). */
export interface FormValues {
  name: string;
  id: string;
  from: string;
  to: string;
  modality: string;
  accession: string;
  description: string;
}
export const FORM_FIELDS = ['name', 'id', 'from', 'to', 'modality', 'accession', 'description'] as const satisfies readonly (keyof FormValues)[];

/** The query keys of the form's values. */
export function keysOf(v: Partial<FormValues>): StudyKeys {
  const from = dicomDate(v.from ?? '');
  const to = dicomDate(v.to ?? '');
  return {
    PatientName: fuzzy(v.name ?? ''),
    PatientID: exact(v.id ?? ''),
    StudyDate: from || to ? (from === to ? from : `${from}-${to}`) : undefined,
    Modality: exact((v.modality ?? '').toUpperCase()),
    AccessionNumber: exact(v.accession ?? ''),
    StudyDescription: fuzzy(v.description ?? ''),
  };
}

export interface SearchForm {
  form: HTMLFormElement;
  /** Puts values into the fields (a search restored from the address). */
  fill(values: Partial<FormValues>): void;
}

/** The form alone (the Remote tab's: its searches are not kept in the address). */
export function searchForm(prefix: string, onSearch: (keys: StudyKeys) => void, extra: (Node | string)[] = []): HTMLFormElement {
  return studySearchForm(prefix, onSearch, extra).form;
}

export function studySearchForm(prefix: string, onSearch: (keys: StudyKeys, values: FormValues) => void, extra: (Node | string)[] = []): SearchForm {
  const field = (id: string, label: string, type = 'text') => {
    const input = h('input', { type, id: `${prefix}-${id}`, name: id });
    return { input, el: h('div', { class: 'field' }, h('label', { for: `${prefix}-${id}` }, label), input) };
  };
  const f: Record<keyof FormValues, { input: HTMLInputElement; el: HTMLElement }> = {
    name: field('patient-name', 'Patient name'),
    id: field('patient-id', 'Patient ID'),
    from: field('date-from', 'Study date from', 'date'),
    to: field('date-to', 'to', 'date'),
    modality: field('modality', 'Modality'),
    accession: field('accession', 'Accession number'),
    description: field('description', 'Description'),
  };
  const form = h(
    'form',
    { class: 'card search', id: `${prefix}-search` },
    ...extra,
    ...Object.values(f).map((x) => x.el),
    h('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = Object.fromEntries(FORM_FIELDS.map((k) => [k, f[k].input.value])) as unknown as FormValues;
    onSearch(keysOf(values), values);
  });
  return {
    form,
    fill(values) {
      for (const k of FORM_FIELDS) f[k].input.value = values[k] ?? '';
    },
  };
}

/** DA as YYYY-MM-DD (other text as it is). */
const isoDate = (da: string): string => da.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');
/** TM (HHMMSS.FFFFFF, or HH:MM:SS from old writers) as HH:MM:SS, or HH:MM when that is all it has. */
function clockTime(tm: string): string {
  const m = /^(\d{2}):?(\d{2})?:?(\d{2})?/.exec(tm);
  if (!m) return tm;
  return [m[1], m[2] ?? '00', m[3]].filter((x) => x !== undefined).join(':');
}

/** Studies per page of a search. */
export const PAGE = 25;

/** What the study list shows besides the QIDO-RS defaults. */
export const STUDY_LIST_FIELDS = ['StudyDescription', 'StudyTime', 'PatientSex', 'PatientBirthDate'].join(',');

/** QIDO-RS parameters of the search keys (Modality matches Modalities in Study). */
export function qidoParams(k: StudyKeys, offset: number): Record<string, string | number | undefined> {
  return {
    PatientName: k.PatientName,
    PatientID: k.PatientID,
    StudyDate: k.StudyDate,
    ModalitiesInStudy: k.Modality,
    AccessionNumber: k.AccessionNumber,
    StudyDescription: k.StudyDescription,
    includefield: STUDY_LIST_FIELDS,
    limit: PAGE,
    offset,
  };
}

interface Column {
  title: string;
  value: (s: DicomJson) => string | number;
}
const COLUMNS: Column[] = [
  { title: 'Patient name', value: (s) => text(s, TAG.PatientName).replaceAll('^', ' ').trim() },
  { title: 'Patient ID', value: (s) => text(s, TAG.PatientID) },
  { title: 'Sex', value: (s) => text(s, TAG.PatientSex) },
  { title: 'Birth date', value: (s) => isoDate(text(s, TAG.PatientBirthDate)) },
  { title: 'Study date', value: (s) => isoDate(text(s, TAG.StudyDate)) },
  { title: 'Time', value: (s) => clockTime(text(s, TAG.StudyTime)) },
  { title: 'Modalities', value: (s) => text(s, TAG.ModalitiesInStudy).replaceAll('\\', ', ') },
  { title: 'Accession', value: (s) => text(s, TAG.AccessionNumber) },
  { title: 'Description', value: (s) => text(s, TAG.StudyDescription) },
  { title: 'Series', value: (s) => num(s, TAG.NumberOfStudyRelatedSeries) ?? '' },
  { title: 'Instances', value: (s) => num(s, TAG.NumberOfStudyRelatedInstances) ?? '' },
];

/** Results table; a header click sorts the rows shown (this page of results only). */
export function studyTable(
  id: string,
  studies: DicomJson[],
  opts: { onOpen?: (s: DicomJson) => void; actions?: (s: DicomJson) => Node[] } = {},
): HTMLTableElement {
  let sortBy = -1;
  let dir = 1;
  const tbody = h('tbody');
  const fill = () => {
    const rows = [...studies];
    if (sortBy >= 0) {
      const v = COLUMNS[sortBy].value;
      rows.sort((a, b) => {
        const x = v(a),
          y = v(b);
        return dir * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
      });
    }
    tbody.replaceChildren(
      ...rows.map((s) => {
        const tr = h(
          'tr',
          { 'data-study': text(s, TAG.StudyInstanceUID), class: opts.onOpen ? 'clickable' : undefined },
          ...COLUMNS.map((c) => h('td', {}, String(c.value(s)))),
          ...(opts.actions ? [h('td', {}, ...opts.actions(s))] : []),
        );
        if (opts.onOpen)
          tr.addEventListener('click', (e) => {
            if ((e.target as HTMLElement).closest('button, a, input, select')) return;
            opts.onOpen!(s);
          });
        return tr;
      }),
    );
    if (rows.length === 0) tbody.replaceChildren(h('tr', {}, h('td', { colspan: COLUMNS.length + 1, class: 'muted' }, 'No studies found.')));
  };
  const headers = COLUMNS.map((c, i) => {
    const th = h('th', { class: 'sortable', title: 'sort this page' }, c.title);
    th.addEventListener('click', () => {
      dir = sortBy === i ? -dir : 1;
      sortBy = i;
      headers.forEach((x, j) => x.setAttribute('aria-sort', j === i ? (dir > 0 ? 'ascending' : 'descending') : 'none'));
      fill();
    });
    return th;
  });
  fill();
  return h('table', { id, class: 'studies' }, h('thead', {}, h('tr', {}, ...headers, ...(opts.actions ? [h('th', {}, '')] : []))), tbody);
}
