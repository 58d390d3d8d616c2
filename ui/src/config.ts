// The Configuration page: the local AEs and the remote peers, an Echo button per AE,
// a form to add or change one; the server's validation messages appear next to the field.
import { api, ApiError, PERMISSIONS, type Ae, type EchoResult, type FieldIssue } from './api.js';
import { h } from './dom.js';

/** Registry field -> form input id. */
const FIELD_INPUT: Record<string, string> = {
  aeTitle: 'ae-title',
  'connection.host': 'ae-host',
  'connection.port': 'ae-port',
  'connection.tls': 'ae-tls',
  description: 'ae-description',
  permissions: 'ae-permissions',
  moveDestination: 'ae-move',
};

function inputFor(field: string): string | undefined {
  return FIELD_INPUT[field.replace(/\[\d+\]$/, '')];
}

export async function renderConfig(root: HTMLElement): Promise<void> {
  const aes = await api<Ae[]>('GET', '/api/aes');
  const form = aeForm(root);
  root.replaceChildren(
    h('h2', {}, 'Local AEs'),
    aeTable(aes.filter((a) => a.local), root, form, 'local-aes'),
    h('h2', {}, 'Remote peers'),
    aeTable(aes.filter((a) => !a.local), root, form, 'peer-aes'),
    form.element,
  );
}

function aeTable(aes: Ae[], root: HTMLElement, form: AeForm, id: string): HTMLTableElement {
  const rows = aes.map((a) => {
    const result = h('span', { class: 'echo-result' });
    const echo = async () => {
      result.className = 'echo-result muted';
      result.textContent = 'echoing...';
      const r = await api<EchoResult>('POST', `/api/aes/${encodeURIComponent(a.aeTitle)}/echo`);
      result.className = `echo-result ${r.ok ? 'ok' : 'fail'}`;
      result.textContent = r.ok ? `success (${r.ms.toFixed(1)} ms)` : `failed: ${r.error ?? ''}`;
    };
    const remove = async () => {
      if (!confirm(`Remove ${a.aeTitle}?`)) return;
      await api('DELETE', `/api/aes/${encodeURIComponent(a.aeTitle)}`);
      await renderConfig(root);
    };
    return h(
      'tr',
      { 'data-ae': a.aeTitle },
      h('td', {}, a.aeTitle),
      h('td', {}, a.role),
      h('td', {}, a.connection.host),
      h('td', {}, a.connection.port === undefined ? '-' : String(a.connection.port)),
      h('td', {}, a.connection.tls ? 'TLS' : ''),
      h('td', {}, a.permissions.length === PERMISSIONS.length ? 'all' : a.permissions.join(', ')),
      h('td', {}, a.moveDestination ? 'move destination' : ''),
      h('td', {}, a.description),
      h(
        'td',
        {},
        a.connection.port !== undefined ? h('button', { type: 'button', class: 'echo', onclick: () => void echo() }, 'Echo') : null,
        ' ',
        h('button', { type: 'button', class: 'edit', onclick: () => form.edit(a) }, 'Edit'),
        ' ',
        a.role === 'peer' || a.role === 'client' ? h('button', { type: 'button', class: 'remove', onclick: () => void remove() }, 'Remove') : null,
        ' ',
        result,
      ),
    );
  });
  return h(
    'table',
    { id },
    h('thead', {}, h('tr', {}, ...['AE title', 'Role', 'Host', 'Port', 'TLS', 'May', 'Move', 'Description', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'none yet'))])),
  );
}

interface AeForm {
  element: HTMLFormElement;
  edit(ae: Ae): void;
}

function aeForm(root: HTMLElement): AeForm {
  let editing: Ae | undefined;
  const text = (id: string, type = 'text') => h('input', { type, id, name: id });
  const title = text('ae-title');
  const host = text('ae-host');
  const port = text('ae-port');
  const tls = h('input', { type: 'checkbox', id: 'ae-tls' });
  const description = text('ae-description');
  const move = h('input', { type: 'checkbox', id: 'ae-move' });
  const perms = PERMISSIONS.map((p) => h('input', { type: 'checkbox', value: p, checked: true }));
  const errors = new Map<string, HTMLElement>();
  const errorFor = (id: string) => {
    const e = h('div', { class: 'field-error', id: `${id}-error`, 'data-for': id });
    errors.set(id, e);
    return e;
  };
  const heading = h('h2', {}, 'Add a peer');
  const general = h('div', { class: 'field-error', id: 'ae-form-error', role: 'alert' });
  const done = h('span', { class: 'ok', id: 'ae-form-done' });
  const cancel = h('button', { type: 'button', hidden: true }, 'Cancel');
  const element = h(
    'form',
    { class: 'card', id: 'ae-form', novalidate: true },
    heading,
    h('label', { for: 'ae-title' }, 'AE title'), title, errorFor('ae-title'),
    h('label', { for: 'ae-host' }, 'Host'), host, errorFor('ae-host'),
    h('label', { for: 'ae-port' }, 'Port'), port, errorFor('ae-port'),
    h('label', {}, tls, ' TLS'), errorFor('ae-tls'),
    h('label', { for: 'ae-description' }, 'Description'), description, errorFor('ae-description'),
    h('label', {}, 'May do at our servers'),
    h('div', { class: 'perms', id: 'ae-permissions' }, ...perms.map((c) => h('label', {}, c, ` ${c.value}`))), errorFor('ae-permissions'),
    h('label', {}, move, ' Valid move destination'), errorFor('ae-move'),
    general,
    h('button', { type: 'submit', id: 'ae-save' }, 'Save'), ' ', cancel, ' ', done,
  );
  const clearErrors = () => {
    for (const [id, e] of errors) {
      e.textContent = '';
      document.getElementById(id)?.classList.remove('invalid');
    }
    general.textContent = '';
  };
  const showErrors = (issues: FieldIssue[], detail: string) => {
    let shown = false;
    for (const i of issues) {
      const id = inputFor(i.field);
      const e = id ? errors.get(id) : undefined;
      if (!id || !e) continue;
      e.textContent = e.textContent ? `${e.textContent}; ${i.message}` : i.message;
      document.getElementById(id)?.classList.add('invalid');
      shown = true;
    }
    if (!shown) general.textContent = detail;
  };
  const reset = () => {
    editing = undefined;
    heading.textContent = 'Add a peer';
    element.reset();
    for (const c of perms) c.checked = true;
    title.disabled = false;
    cancel.hidden = true;
    clearErrors();
  };
  cancel.addEventListener('click', reset);
  element.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    done.textContent = '';
    const portValue = port.value.trim();
    const body = {
      aeTitle: title.value,
      description: description.value,
      connection: { host: host.value.trim(), ...(portValue ? { port: /^\d+$/.test(portValue) ? Number(portValue) : portValue } : {}), tls: tls.checked },
      permissions: perms.filter((c) => c.checked).map((c) => c.value),
      moveDestination: move.checked,
    };
    try {
      if (editing) {
        await api('PATCH', `/api/aes/${encodeURIComponent(editing.aeTitle)}`, body);
      } else {
        await api('POST', '/api/aes', { ...body, role: 'peer' });
      }
      const saved = body.aeTitle.trim();
      await renderConfig(root);
      document.getElementById('ae-form-done')!.textContent = `saved ${saved}`;
    } catch (err) {
      if (err instanceof ApiError) showErrors(err.problem.errors ?? (err.problem.field ? [{ field: err.problem.field, message: err.problem.detail }] : []), err.problem.detail);
      else general.textContent = String(err);
    }
  });
  return {
    element,
    edit(ae) {
      reset();
      editing = ae;
      heading.textContent = `Change ${ae.aeTitle}`;
      title.value = ae.aeTitle;
      host.value = ae.connection.host;
      port.value = ae.connection.port === undefined ? '' : String(ae.connection.port);
      tls.checked = ae.connection.tls;
      description.value = ae.description;
      move.checked = ae.moveDestination;
      for (const c of perms) c.checked = ae.permissions.includes(c.value);
      cancel.hidden = false;
      element.scrollIntoView();
    },
  };
}
