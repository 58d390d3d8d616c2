// The Status page: each role, listening or why not, associations, instances stored.
import { api, type Status } from './api.js';
import { h } from './dom.js';

export async function renderStatus(root: HTMLElement): Promise<void> {
  const s = await api<Status>('GET', '/api/status');
  const rows = s.roles.map((r) =>
    h(
      'tr',
      { 'data-role': r.role },
      h('td', {}, r.role),
      h('td', {}, r.aeTitle),
      h('td', {}, `${r.host}:${r.port ?? '-'}`),
      h('td', { class: r.listening ? 'ok' : 'fail' }, r.listening ? 'listening' : `not listening${r.error ? `: ${r.error}` : ''}`),
      h('td', {}, String(r.activeAssociations)),
      h('td', {}, r.instancesStored === null ? '-' : String(r.instancesStored)),
    ),
  );
  root.replaceChildren(
    h('h2', {}, 'Status'),
    h(
      'table',
      { id: 'status-roles' },
      h('thead', {}, h('tr', {}, ...['Role', 'AE title', 'Address', 'State', 'Associations', 'Instances stored'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows),
    ),
    h('p', { class: 'muted' }, `Web server on ${s.web.host}:${s.web.port}; configuration revision ${s.revision}; up ${s.uptimeSeconds} s.`),
  );
}
