// The Status page: each role, listening or why not, associations, instances stored; each add-in, loaded or why not, its errors.
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
    ...pluginSection(s),
    h('p', { class: 'muted' }, `Web server on ${s.web.host}:${s.web.port}; configuration revision ${s.revision}; up ${s.uptimeSeconds} s.`),
  );
}

/** The add-ins of the registry: loaded, failed at load (with the error) or disabled; errors since the start. */
function pluginSection(s: Status): HTMLElement[] {
  if (s.plugins.length === 0) return [];
  const rows = s.plugins.map((p) =>
    h(
      'tr',
      { 'data-plugin': p.name },
      h('td', {}, p.name),
      h('td', {}, p.module),
      h(
        'td',
        { class: p.state === 'loaded' ? 'ok' : p.state === 'failed' ? 'fail' : 'muted' },
        p.state === 'failed' ? `failed: ${p.loadError ?? ''}` : p.state,
      ),
      h('td', { class: p.errorCount > 0 ? 'fail' : '' }, String(p.errorCount)),
      h('td', {}, p.lastError ? `${p.lastError.at} ${p.lastError.where}: ${p.lastError.message}` : '-'),
      h('td', {}, String(p.queued)),
    ),
  );
  return [
    h('h3', {}, 'Add-ins'),
    h(
      'table',
      { id: 'status-plugins' },
      h('thead', {}, h('tr', {}, ...['Add-in', 'Module', 'State', 'Errors', 'Last error', 'Queued'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows),
    ),
  ];
}
