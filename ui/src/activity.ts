// The Activity page (admins): the activity log (GET /api/activity), newest first, with
// filters (time, AE, patient, study, kind, outcome), older pages on demand, and live
// updates over Server-Sent Events (GET /api/activity/stream) while the page is open. Each
// event shows its details; a study it names links to the study in the Studies page.
import {
  ACTIVITY_KINDS,
  ACTIVITY_OPERATIONS,
  ACTIVITY_OUTCOMES,
  api,
  ApiError,
  type ActivityEvent,
  type ActivityFilter,
  type ActivityPage,
  type ActivityQuery,
} from './api.js';
import { background, h } from './dom.js';

/** Rows kept on the page: live events push the oldest out. */
const MAX_ROWS = 1000;
const PAGE = 100;

const enc = encodeURIComponent;

function queryString(q: ActivityQuery): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p.toString();
}

/** 'stored 30, 2 failed (0xa700 x2)' for each operation an association used. */
function summaryText(e: ActivityEvent): string {
  const s = e.summary ?? {};
  return ACTIVITY_OPERATIONS.flatMap((op) => {
    const t = s[op];
    if (!t) return [];
    const failures = t.failures.map((f) => `0x${f.status.toString(16).padStart(4, '0')} x${f.count}${f.comment ? `: ${f.comment}` : ''}`).join('; ');
    return [`${op} ${t.completed}${t.failed ? `, ${t.failed} failed (${failures})` : ''}`];
  }).join(' · ');
}

function detailsOf(e: ActivityEvent): HTMLElement {
  const parts: (string | undefined)[] = [
    e.peerAddress !== undefined ? `peer ${e.peerAddress}` : undefined,
    e.role !== undefined ? `role ${e.role}` : undefined,
    e.tls !== undefined ? (e.tls ? 'TLS' : 'no TLS') : undefined,
    e.durationMs !== undefined ? `${(e.durationMs / 1000).toFixed(1)} s` : undefined,
    e.reason !== undefined ? `reason: ${e.reason}` : undefined,
    e.summary ? summaryText(e) || undefined : undefined,
    e.contexts?.length ? `${e.contexts.length} context(s): ${e.contexts.slice(0, 3).join(', ')}${e.contexts.length > 3 ? ', …' : ''}` : undefined,
    e.patientIds?.length ? `patient ${e.patientIds.join(', ')}` : undefined,
  ];
  return h('div', { class: 'activity-details muted' }, parts.filter((p) => p !== undefined).join(' · '));
}

function row(e: ActivityEvent): HTMLTableRowElement {
  const studies = (e.studyUids ?? []).slice(0, 5).map((uid) => h('a', { href: `#/studies?study=${enc(uid)}`, class: 'activity-study', title: uid }, uid));
  const ae = e.callingAe !== undefined ? `${e.callingAe} → ${e.calledAe ?? ''}` : (e.calledAe ?? '');
  return h(
    'tr',
    { 'data-id': e.id, 'data-kind': e.kind, 'data-outcome': e.outcome },
    h('td', { title: e.time }, new Date(e.time).toLocaleString()),
    h('td', {}, e.kind),
    h('td', { class: e.outcome === 'success' || e.outcome === 'released' ? 'ok' : 'fail' }, e.outcome),
    h('td', { class: 'activity-ae' }, ae || (e.user ?? '')),
    h('td', {}, h('div', { class: 'activity-message' }, e.message), detailsOf(e), ...studies.flatMap((a) => [a, ' '])),
  );
}

export async function renderActivity(root: HTMLElement): Promise<void> {
  const input = (name: string, attrs: Record<string, string> = {}) => h('input', { name, id: `activity-${name}`, ...attrs });
  const select = (name: string, values: readonly string[]) =>
    h('select', { name, id: `activity-${name}` }, h('option', { value: '' }, `any ${name}`), ...values.map((v) => h('option', { value: v }, v)));
  const from = input('from', { type: 'datetime-local', step: '1', 'aria-label': 'from' });
  const to = input('to', { type: 'datetime-local', step: '1', 'aria-label': 'to' });
  const ae = input('ae', { placeholder: 'AE title', maxlength: '16' });
  const patientId = input('patientId', { placeholder: 'Patient ID', maxlength: '64' });
  const studyUid = input('studyUid', { placeholder: 'Study Instance UID', maxlength: '64' });
  const kind = select('kind', ACTIVITY_KINDS);
  const outcome = select('outcome', ACTIVITY_OUTCOMES);
  const live = h('input', { type: 'checkbox', id: 'activity-live', checked: true });
  const form = h(
    'form',
    { id: 'activity-filters', class: 'filters' },
    h('label', {}, 'From ', from),
    h('label', {}, ' to ', to),
    ' ',
    ae,
    ' ',
    patientId,
    ' ',
    studyUid,
    ' ',
    kind,
    ' ',
    outcome,
    ' ',
    h('button', { type: 'submit', id: 'activity-apply' }, 'Apply'),
    ' ',
    h('label', {}, live, ' live'),
  );
  const error = h('div', { class: 'fail', id: 'activity-error', role: 'alert' });
  const body = h('tbody', { id: 'activity-rows' });
  const table = h(
    'table',
    { id: 'activity-table' },
    h('thead', {}, h('tr', {}, ...['Time', 'Kind', 'Outcome', 'AE / user', 'What happened'].map((t) => h('th', {}, t)))),
    body,
  );
  const older = h('button', { type: 'button', id: 'activity-older', hidden: true }, 'Older');
  root.replaceChildren(h('h2', {}, 'Activity'), form, error, table, older);

  /** datetime-local (the browser's local time) as ISO 8601 UTC. */
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  const filter = (): ActivityFilter => ({
    from: iso(from.value),
    to: iso(to.value),
    ae: ae.value.trim() || undefined,
    patientId: patientId.value.trim() || undefined,
    studyUid: studyUid.value.trim() || undefined,
    kind: (kind.value || undefined) as ActivityFilter['kind'],
    outcome: (outcome.value || undefined) as ActivityFilter['outcome'],
  });

  let stream: EventSource | undefined;
  let nextBefore: number | undefined;
  let newest = 0;
  const stop = () => {
    stream?.close();
    stream = undefined;
  };
  const listen = (f: ActivityFilter) => {
    stop();
    if (!live.checked) return;
    const es = new EventSource(`/api/activity/stream?${queryString({ ...f, after: newest })}`);
    es.addEventListener('activity', (m) => {
      // The page was left (another hash route): nothing more to show.
      if (!table.isConnected) return stop();
      const e = JSON.parse((m as MessageEvent<string>).data) as ActivityEvent;
      if (e.id <= newest) return;
      newest = e.id;
      body.prepend(row(e));
      while (body.rows.length > MAX_ROWS) body.rows[body.rows.length - 1].remove();
    });
    stream = es;
  };

  const load = async (append: boolean) => {
    error.textContent = '';
    const f = filter();
    let page: ActivityPage;
    try {
      page = await api<ActivityPage>('GET', `/api/activity?${queryString({ ...f, limit: PAGE, before: append ? nextBefore : undefined })}`);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.problem.detail : (err as Error).message;
      return;
    }
    if (!append) {
      body.replaceChildren();
      newest = page.events[0]?.id ?? 0;
      listen(f);
    }
    for (const e of page.events) body.append(row(e));
    nextBefore = page.nextBefore;
    older.hidden = nextBefore === undefined;
  };

  form.addEventListener(
    'submit',
    background(async (ev: Event) => {
      ev.preventDefault();
      await load(false);
    }),
  );
  live.addEventListener('change', () => (live.checked ? listen(filter()) : stop()));
  older.addEventListener(
    'click',
    background(() => load(true)),
  );
  window.addEventListener('hashchange', stop, { once: true });
  await load(false);
}
