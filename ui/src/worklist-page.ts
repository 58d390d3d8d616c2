// The Worklist page: the Main Server's scheduled procedure steps (Modality Worklist) with
// filters (date, modality, station, status), a form to schedule a step or edit one, and
// Cancel. Refreshed every few seconds while shown, so a step's state follows what the
// modality reports through MPPS (SCHEDULED -> STARTED -> COMPLETED).
import { api, ApiError, SPS_STATUSES, type WorklistEntry } from './api.js';
import { background, h } from './dom.js';

const REFRESH_MS = 2000;

/** The fields of the form, in order: [field, label, placeholder]. */
const FIELDS = [
  ['patientId', 'Patient ID', ''],
  ['patientName', 'Patient name', 'FAMILY^GIVEN'],
  ['patientBirthDate', 'Birth date', 'YYYYMMDD'],
  ['patientSex', 'Sex', 'M, F or O'],
  ['modality', 'Modality', 'CT'],
  ['stationAeTitle', 'Station AE', ''],
  ['startDate', 'Date', 'YYYYMMDD'],
  ['startTime', 'Time', 'HHMM'],
  ['accessionNumber', 'Accession', ''],
  ['requestedProcedureDescription', 'Procedure', ''],
] as const;
type Field = (typeof FIELDS)[number][0];

const today = (): string => new Date().toISOString().slice(0, 10).replace(/-/g, '');

function problemText(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  const fields = err.problem.errors?.map((e) => `${e.field}: ${e.message}`) ?? [];
  return fields.length ? fields.join('; ') : err.problem.detail;
}

export async function renderWorklist(root: HTMLElement): Promise<void> {
  const page = new WorklistPage();
  root.replaceChildren(page.element);
  await page.refresh();
  const timer = setInterval(() => {
    if (!root.contains(page.element)) clearInterval(timer);
    else void page.refresh().catch(() => undefined);
  }, REFRESH_MS);
}

class WorklistPage {
  readonly element: HTMLElement;
  private readonly rows = h('tbody', {});
  private readonly message = h('div', { id: 'worklist-message', role: 'status' });
  private readonly filterDate = h('input', { id: 'worklist-filter-date', placeholder: 'YYYYMMDD or range', size: 18 });
  private readonly filterModality = h('input', { id: 'worklist-filter-modality', placeholder: 'modality', size: 6 });
  private readonly filterStation = h('input', { id: 'worklist-filter-station', placeholder: 'station AE', size: 10 });
  private readonly filterStatus = h(
    'select',
    { id: 'worklist-filter-status' },
    h('option', { value: '' }, 'To do'),
    h('option', { value: 'all' }, 'All states'),
    ...SPS_STATUSES.map((s) => h('option', { value: s }, s)),
  );
  private readonly inputs = new Map<Field, HTMLInputElement>();
  private readonly formTitle = h('h3', { id: 'worklist-form-title' }, 'Schedule a step');
  private readonly submit = h('button', { type: 'submit', id: 'worklist-save' }, 'Schedule');
  /** The step being edited; undefined: the form schedules a new one. */
  private editing: string | undefined;

  constructor() {
    for (const [field, label, placeholder] of FIELDS) {
      this.inputs.set(field, h('input', { id: `worklist-${field}`, name: field, placeholder, 'aria-label': label }));
    }
    this.inputs.get('startDate')!.value = today();
    const form = h(
      'form',
      { id: 'worklist-form', class: 'admin-only', onsubmit: background((e: Event) => this.save(e)) },
      this.formTitle,
      h('div', { class: 'form-grid' }, ...FIELDS.map(([field, label]) => h('label', {}, `${label} `, this.inputs.get(field)))),
      this.submit,
      ' ',
      h('button', { type: 'button', id: 'worklist-form-reset', onclick: () => this.resetForm() }, 'Clear'),
    );
    const filters = h(
      'form',
      { id: 'worklist-filters', onsubmit: background(async (e: Event) => (e.preventDefault(), this.refresh())) },
      h('label', {}, 'Date ', this.filterDate),
      ' ',
      h('label', {}, 'Modality ', this.filterModality),
      ' ',
      h('label', {}, 'Station ', this.filterStation),
      ' ',
      h('label', {}, 'State ', this.filterStatus),
      ' ',
      h('button', { type: 'submit', id: 'worklist-search' }, 'Search'),
    );
    this.filterStatus.addEventListener(
      'change',
      background(() => this.refresh()),
    );
    const head = ['Date', 'Time', 'Patient', 'Patient ID', 'Modality', 'Station', 'Accession', 'Procedure', 'Step ID', 'State', ''];
    this.element = h(
      'div',
      { id: 'worklist-page' },
      h('h2', {}, 'Worklist'),
      filters,
      this.message,
      h('table', { id: 'worklist-table' }, h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))), this.rows),
      form,
    );
  }

  private query(): string {
    const q = new URLSearchParams();
    const date = this.filterDate.value.trim();
    if (date) q.set('date', date);
    if (this.filterModality.value.trim()) q.set('modality', this.filterModality.value.trim().toUpperCase());
    if (this.filterStation.value.trim()) q.set('station', this.filterStation.value.trim());
    const status = this.filterStatus.value;
    if (status === 'all') q.set('all', 'true');
    else if (status) q.set('status', status);
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  async refresh(): Promise<void> {
    let entries: WorklistEntry[];
    try {
      entries = await api<WorklistEntry[]>('GET', `/api/worklist${this.query()}`);
    } catch (err) {
      this.say(problemText(err), false);
      return;
    }
    this.rows.replaceChildren(
      ...(entries.length ? entries.map((e) => this.row(e)) : [h('tr', {}, h('td', { colspan: 11, class: 'muted' }, 'No scheduled steps match.'))]),
    );
  }

  private row(e: WorklistEntry): HTMLTableRowElement {
    const final = e.status === 'COMPLETED' || e.status === 'DISCONTINUED' || e.status === 'CANCELED';
    return h(
      'tr',
      { 'data-sps': e.spsId },
      h('td', {}, e.startDate),
      h('td', {}, e.startTime ?? ''),
      h('td', {}, e.patientName),
      h('td', {}, e.patientId),
      h('td', {}, e.modality),
      h('td', {}, e.stationAeTitle ?? ''),
      h('td', {}, e.accessionNumber ?? ''),
      h('td', {}, e.requestedProcedureDescription ?? ''),
      h('td', { class: 'muted' }, e.spsId),
      h('td', { class: `sps-status sps-${e.status.toLowerCase()}` }, e.status),
      h(
        'td',
        { class: 'admin-only' },
        h('button', { type: 'button', class: 'worklist-edit', onclick: () => this.edit(e) }, 'Edit'),
        ' ',
        final ? null : h('button', { type: 'button', class: 'worklist-cancel', onclick: background(() => this.cancel(e)) }, 'Cancel step'),
      ),
    );
  }

  private edit(e: WorklistEntry): void {
    this.editing = e.spsId;
    for (const [field] of FIELDS) this.inputs.get(field)!.value = e[field] ?? '';
    this.formTitle.textContent = `Edit step ${e.spsId}`;
    this.submit.textContent = 'Save';
    this.inputs.get('patientId')!.focus();
  }

  private resetForm(): void {
    this.editing = undefined;
    for (const input of this.inputs.values()) input.value = '';
    this.inputs.get('startDate')!.value = today();
    this.formTitle.textContent = 'Schedule a step';
    this.submit.textContent = 'Schedule';
  }

  private async save(ev: Event): Promise<void> {
    ev.preventDefault();
    const body: Record<string, string | null> = {};
    for (const [field] of FIELDS) {
      const v = this.inputs.get(field)!.value.trim();
      const value = field === 'modality' || field === 'patientSex' ? v.toUpperCase() : v;
      // A new step leaves empty fields out; an edit clears them (null removes an optional field).
      if (value) body[field] = value;
      else if (this.editing) body[field] = null;
    }
    try {
      if (this.editing) {
        const e = await api<WorklistEntry>('PATCH', `/api/worklist/${encodeURIComponent(this.editing)}`, body);
        this.say(`Saved step ${e.spsId}.`, true);
      } else {
        const e = await api<WorklistEntry>('POST', '/api/worklist', body);
        this.say(`Scheduled step ${e.spsId} for ${e.patientName}.`, true);
      }
      this.resetForm();
      await this.refresh();
    } catch (err) {
      this.say(problemText(err), false);
    }
  }

  private async cancel(e: WorklistEntry): Promise<void> {
    try {
      await api('DELETE', `/api/worklist/${encodeURIComponent(e.spsId)}`);
      this.say(`Canceled step ${e.spsId}.`, true);
      await this.refresh();
    } catch (err) {
      this.say(problemText(err), false);
    }
  }

  private say(text: string, ok: boolean): void {
    this.message.className = ok ? 'ok' : 'fail';
    this.message.textContent = text;
  }
}
