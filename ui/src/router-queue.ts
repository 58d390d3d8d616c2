// The Router queue page: per destination the counts (with Retry failed: failed and dead
// entries due now), and its entries by state (pending, in flight, failed, dead), each shown
// by its patient, study and series, with Retry (failed or dead) and Purge; below, what the Router holds without a
// destination (unrouted: no rule forwards it; rule failed: with the error) with Retry
// (evaluate the rules again) and Purge; refreshed every few seconds while shown.
import { api, ApiError } from './api.js';
import { background, h } from './dom.js';
import type { DestinationStatus, QueuePage as DestinationEntries, QueuedInstance, UnroutedList } from './api.js';
import { confirmDialog } from './confirm-dialog.js';

const REFRESH_MS = 3000;
const STATES = [
  ['pending', 'Pending'],
  ['inflight', 'In flight'],
  ['failed', 'Failed'],
  ['dead', 'Dead'],
] as const;
type View = (typeof STATES)[number][0] | 'all';

const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '-');
/** 20240131 -> 2024-01-31. */
const dicomDate = (da: string | null): string => (da && /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : (da ?? ''));
const joined = (...parts: (string | null)[]): string => parts.filter((p) => p).join(' \u00b7 ');

/** Patient, study and series cells of an entry (its SOP Instance UID on hover); the instance may be gone. */
function instanceCells(inst: QueuedInstance | null | undefined, uid: string): HTMLTableCellElement[] {
  if (!inst) return [h('td', { class: 'entry-patient muted', colspan: 3, title: uid }, `instance gone (${uid})`)];
  return [
    h('td', { class: 'entry-patient', title: uid }, joined(inst.patientName?.replace(/\^/g, ' ').trim() ?? null, inst.patientId)),
    h('td', { class: 'entry-study' }, joined(dicomDate(inst.studyDate), inst.studyDescription)),
    h('td', { class: 'entry-series' }, joined(inst.modality, inst.seriesDescription)),
  ];
}

export async function renderRouterQueue(root: HTMLElement): Promise<void> {
  const page = new QueuePage(root);
  await page.refresh();
  const timer = setInterval(() => {
    // Stop once another page has replaced this one.
    if (!root.contains(page.element)) clearInterval(timer);
    else void page.refresh().catch(() => undefined);
  }, REFRESH_MS);
}

class QueuePage {
  readonly element: HTMLElement;
  private readonly counts = h('tbody', {});
  private readonly entries = h('tbody', {});
  private readonly heading = h('h3', { id: 'queue-entries-heading' });
  private readonly message = h('div', { id: 'queue-message', role: 'status' });
  private readonly viewSelect: HTMLSelectElement;
  private readonly unroutedCounts = h('span', { id: 'unrouted-counts', class: 'muted' });
  private readonly unrouted = h('tbody', {});
  private selected: string | undefined;

  constructor(root: HTMLElement) {
    this.viewSelect = h(
      'select',
      { id: 'queue-state', onchange: () => void this.refresh() },
      h('option', { value: 'all' }, 'All states'),
      ...STATES.map(([v, label]) => h('option', { value: v }, label)),
    );
    this.element = h(
      'div',
      { id: 'queue-page' },
      h('h2', {}, 'Router queue'),
      h(
        'table',
        { id: 'queue-destinations' },
        h(
          'thead',
          {},
          h('tr', {}, ...['Destination', 'Pending', 'In flight', 'Failed', 'Dead', 'Next attempt', 'Delivered', 'Last error', ''].map((t) => h('th', {}, t))),
        ),
        this.counts,
      ),
      this.message,
      h(
        'section',
        { id: 'queue-entries-section' },
        this.heading,
        h('label', { for: 'queue-state' }, 'Show'),
        this.viewSelect,
        h(
          'table',
          { id: 'queue-entries' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['#', 'State', 'Patient', 'Study', 'Series', 'Destination', 'Rule', 'Attempts', 'Next attempt', 'Last error', ''].map((t) => h('th', {}, t)),
            ),
          ),
          this.entries,
        ),
      ),
      h(
        'section',
        { id: 'unrouted-section' },
        h('h3', {}, 'Not forwarded ', this.unroutedCounts),
        h(
          'p',
          { class: 'muted' },
          'Instances no rule forwards (unrouted) and instances whose rules could not be evaluated (rule failed). They are kept until purged; Retry evaluates the current rules again.',
        ),
        h(
          'p',
          {},
          h('button', { type: 'button', id: 'unrouted-retry-all', onclick: () => void this.act('/api/router/unrouted/retry', {}, 'retried') }, 'Retry all'),
          ' ',
          h(
            'button',
            {
              type: 'button',
              id: 'unrouted-purge-all',
              onclick: background(async () => {
                if (await confirmDialog('Purge every unrouted and failed entry? The retention may then delete these instances.', 'Purge'))
                  await this.act('/api/router/unrouted/purge', {}, 'purged');
              }),
            },
            'Purge all',
          ),
        ),
        h(
          'table',
          { id: 'unrouted-entries' },
          h('thead', {}, h('tr', {}, ...['#', 'State', 'SOP Instance UID', 'Received', 'Rule', 'Error', ''].map((t) => h('th', {}, t)))),
          this.unrouted,
        ),
      ),
    );
    root.replaceChildren(this.element);
  }

  async refresh(): Promise<void> {
    const status = await api<DestinationStatus[]>('GET', '/api/router/queue');
    if (this.selected && !status.some((s) => s.destination === this.selected)) this.selected = undefined;
    this.selected ??= status[0]?.destination;
    this.counts.replaceChildren(
      ...(status.length ? status.map((s) => this.countRow(s)) : [h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'Nothing queued.'))]),
    );
    await this.refreshEntries();
    await this.refreshUnrouted();
  }

  private async refreshUnrouted(): Promise<void> {
    const r = await api<UnroutedList>('GET', '/api/router/unrouted');
    this.unroutedCounts.textContent = `(${r.counts.unrouted} unrouted, ${r.counts.ruleFailed} rule failed)`;
    this.unrouted.replaceChildren(
      ...(r.entries.length
        ? r.entries.map((e) =>
            h(
              'tr',
              { 'data-entry': e.id, 'data-state': e.state, 'data-uid': e.sopInstanceUid },
              h('td', {}, String(e.id)),
              h('td', { class: e.state === 'rule-failed' ? 'fail' : undefined }, e.state === 'rule-failed' ? 'rule failed' : 'unrouted'),
              h('td', {}, h('code', {}, e.sopInstanceUid)),
              h('td', {}, when(e.createdAt)),
              h('td', {}, e.rule),
              h('td', {}, e.lastError ?? ''),
              h(
                'td',
                {},
                h(
                  'button',
                  { type: 'button', class: 'unrouted-retry', onclick: () => void this.act('/api/router/unrouted/retry', { id: e.id }, 'retried') },
                  'Retry',
                ),
                ' ',
                h(
                  'button',
                  { type: 'button', class: 'unrouted-purge', onclick: () => void this.act('/api/router/unrouted/purge', { id: e.id }, 'purged') },
                  'Purge',
                ),
              ),
            ),
          )
        : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'Nothing held.'))]),
    );
  }

  private countRow(s: DestinationStatus): HTMLTableRowElement {
    const dest = encodeURIComponent(s.destination);
    return h(
      'tr',
      { 'data-destination': s.destination, class: s.destination === this.selected ? 'selected' : undefined },
      h(
        'td',
        {},
        h(
          'a',
          {
            href: '#/router-queue',
            class: 'queue-select',
            onclick: (e: Event) => {
              e.preventDefault();
              this.selected = s.destination;
              void this.refresh();
            },
          },
          s.destination,
        ),
      ),
      h('td', { class: 'count-pending' }, String(s.pending)),
      h('td', { class: 'count-inflight' }, String(s.inFlight)),
      h('td', { class: 'count-failed' }, String(s.failed)),
      h('td', { class: 'count-dead' }, String(s.dead)),
      h('td', {}, when(s.nextAttemptAt)),
      h('td', {}, String(s.delivered)),
      h('td', { class: s.lastError ? 'fail' : undefined }, s.lastError ?? ''),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'queue-retry',
            title: 'send the failed and dead entries again now',
            disabled: s.dead + s.failed === 0,
            onclick: () => void this.act(`/api/router/queue/${dest}/retry`, {}, 'retried'),
          },
          'Retry failed',
        ),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'queue-purge-dead',
            disabled: s.dead === 0,
            onclick: () => void this.act(`/api/router/queue/${dest}/purge`, { state: 'dead' }, 'purged'),
          },
          'Purge dead',
        ),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'queue-purge-all',
            onclick: background(async () => {
              if (await confirmDialog(`Delete everything queued for ${s.destination}? It will not be sent.`))
                await this.act(`/api/router/queue/${dest}/purge`, { state: 'all' }, 'purged');
            }),
          },
          'Purge all',
        ),
      ),
    );
  }

  private async refreshEntries(): Promise<void> {
    const dest = this.selected;
    if (!dest) {
      this.heading.textContent = 'Entries';
      this.entries.replaceChildren();
      return;
    }
    const view = this.viewSelect.value as View;
    const q = view === 'all' ? '' : `?state=${view}`;
    const r = await api<DestinationEntries>('GET', `/api/router/queue/${encodeURIComponent(dest)}${q}`);
    this.heading.textContent = `Entries for ${dest}`;
    const path = `/api/router/queue/${encodeURIComponent(dest)}`;
    this.entries.replaceChildren(
      ...(r.entries.length
        ? r.entries.map((e) => {
            const state = e.inFlight ? 'in flight' : e.state === 'dead' ? 'dead' : e.attempts > 0 ? 'failed' : 'pending';
            return h(
              'tr',
              { 'data-entry': e.id, 'data-state': state },
              h('td', {}, String(e.id)),
              h('td', { class: state === 'dead' || state === 'failed' ? 'fail' : undefined }, state),
              ...instanceCells(e.instance, e.sopInstanceUid),
              h('td', {}, e.destination),
              h('td', {}, e.rule),
              h('td', { class: 'entry-attempts' }, String(e.attempts)),
              h('td', {}, e.state === 'dead' ? '-' : new Date(e.nextAttemptAt).toLocaleString()),
              h('td', { class: 'entry-error' }, e.lastError ?? ''),
              h(
                'td',
                {},
                (state === 'dead' || state === 'failed') && !e.inFlight
                  ? h('button', { type: 'button', class: 'entry-retry', onclick: () => void this.act(`${path}/retry`, { id: e.id }, 'retried') }, 'Retry')
                  : null,
                ' ',
                h(
                  'button',
                  { type: 'button', class: 'entry-purge', onclick: () => void this.act(`${path}/purge`, { state: 'all', id: e.id }, 'purged') },
                  'Purge',
                ),
              ),
            );
          })
        : [h('tr', {}, h('td', { colspan: 11, class: 'muted' }, 'No entries.'))]),
    );
  }

  private async act(path: string, body: object, verb: 'retried' | 'purged'): Promise<void> {
    try {
      const r = await api<Record<string, number>>('POST', path, body);
      this.message.className = 'ok';
      this.message.textContent = `${r[verb]} ${r[verb] === 1 ? 'entry' : 'entries'} ${verb}`;
    } catch (err) {
      this.message.className = 'fail';
      this.message.textContent = err instanceof ApiError ? err.problem.detail : String(err);
    }
    await this.refresh();
  }
}
