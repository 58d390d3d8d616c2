// The Storage commitment page: each request the Main Server received (N-ACTION), its
// result (instances committed and failed) and whether the report reached the requestor;
// a pending report shows its attempts and last error, with Retry to send it now.
import { api, ApiError, type CommitmentRecord } from './api.js';
import { background, h } from './dom.js';

const REFRESH_MS = 3000;

export async function renderCommitments(root: HTMLElement): Promise<void> {
  const rows = h('tbody', {});
  const message = h('div', { id: 'commitments-message', role: 'status' });
  const say = (text: string, ok: boolean) => {
    message.className = ok ? 'ok' : 'fail';
    message.textContent = text;
  };
  const element = h(
    'div',
    { id: 'commitments-page' },
    h('h2', {}, 'Storage commitment'),
    message,
    h(
      'table',
      { id: 'commitments-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Requested', 'Requestor', 'Transaction UID', 'Instances', 'Committed', 'Failed', 'Report', 'Attempts', 'Last error', ''].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      rows,
    ),
  );
  root.replaceChildren(element);

  const retry = async (c: CommitmentRecord) => {
    try {
      const after = await api<CommitmentRecord>('POST', `/api/commitments/${encodeURIComponent(c.transactionUid)}/retry`);
      // The row first, then the message: what the message says is already in the table.
      await refresh();
      say(
        after.state === 'done'
          ? `Report for ${c.callingAeTitle} delivered.`
          : `Report for ${c.callingAeTitle} not delivered: ${after.lastError ?? 'unknown error'}`,
        after.state === 'done',
      );
    } catch (err) {
      say(err instanceof ApiError ? err.problem.detail : String(err), false);
    }
  };
  const refresh = async () => {
    const list = await api<CommitmentRecord[]>('GET', '/api/commitments');
    rows.replaceChildren(
      ...(list.length
        ? list.map((c) =>
            h(
              'tr',
              { 'data-transaction': c.transactionUid },
              h('td', {}, new Date(c.createdAt).toLocaleString()),
              h('td', {}, c.callingAeTitle),
              h('td', { class: 'muted' }, c.transactionUid),
              h('td', { class: 'commit-requested' }, String(c.request.length)),
              h('td', { class: 'commit-success' }, c.result ? String(c.result.success.length) : '-'),
              h('td', { class: 'commit-failed' }, c.result ? String(c.result.failed.length) : '-'),
              h('td', { class: `commit-state commit-${c.state}` }, c.state === 'done' ? 'delivered' : 'pending'),
              h('td', { class: 'commit-attempts' }, String(c.attempts)),
              h('td', { class: 'commit-error' }, c.lastError ?? ''),
              h(
                'td',
                { class: 'admin-only' },
                c.state === 'pending' ? h('button', { type: 'button', class: 'commit-retry', onclick: background(() => retry(c)) }, 'Retry') : null,
              ),
            ),
          )
        : [h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No storage commitment requests yet.'))]),
    );
  };
  await refresh();
  const timer = setInterval(() => {
    if (!root.contains(element)) clearInterval(timer);
    else void refresh().catch(() => undefined);
  }, REFRESH_MS);
}
