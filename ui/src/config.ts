// The Configuration page: the local AEs and the remote peers, an Echo button per AE,
// a form to add or change one, and each server role's access policy (who may call it);
// the server's validation messages appear next to the field.
import {
  api,
  answersQueries,
  ApiError,
  PERMISSIONS,
  SERVER_ROLES,
  UNKNOWN_CALLER_PERMISSIONS,
  type AccessPolicy,
  type AeEntry as Ae,
  type EchoResult,
  type FieldIssue,
} from './api.js';
import { background, h } from './dom.js';
import { confirmDialog, toast } from './confirm-dialog.js';

type Policy = AccessPolicy;

/** A new peer may echo and store only until given more (the server's default too). */
const NEW_PEER_PERMISSIONS: readonly string[] = UNKNOWN_CALLER_PERMISSIONS;
const ROLE_NAMES: Record<string, string> = { main: 'Main Server', workstation: 'Workstation Server', router: 'Router' };

/** Registry field -> form input id. */
const FIELD_INPUT: Record<string, string> = {
  aeTitle: 'ae-title',
  'connection.host': 'ae-host',
  'connection.port': 'ae-port',
  'connection.tls': 'ae-tls',
  description: 'ae-description',
  permissions: 'ae-permissions',
  checkHost: 'ae-check-host',
  moveDestination: 'ae-move',
  queryRetrieve: 'ae-query-retrieve',
};

function inputFor(field: string): string | undefined {
  return FIELD_INPUT[field.replace(/\[\d+\]$/, '')];
}

/**
 * Where an AE may call our servers from, as the server decides it (roles/access-control.ts
 * hostBinding): its own host with checkHost, anywhere with checkHost off, our own AEs
 * from loopback only by default.
 */
function hostCheckText(a: Ae): string {
  if (a.checkHost === false) return 'any address';
  if (a.checkHost === true && a.connection.host !== '0.0.0.0' && a.connection.host !== '::') return 'only from its host';
  if (!a.local) return 'any address';
  const h = a.connection.host;
  return h === '0.0.0.0' || h === '::' || h === 'localhost' || h === '::1' || h.startsWith('127.') ? 'loopback only' : `loopback and ${h}`;
}

function policyText(p: Policy | undefined): string {
  if (!p) return '';
  return [
    p.strict ? 'strict' : `unknown callers: ${p.unknownCallers.join(', ') || 'none'}`,
    ...(p.requireClientCert ? ['client certificate'] : []),
    ...(p.checkCallerHosts === false ? ['host check off'] : []),
  ].join('; ');
}

export async function renderConfig(root: HTMLElement): Promise<void> {
  const aes = await api<Ae[]>('GET', '/api/aes');
  const form = aeForm(root);
  root.replaceChildren(
    h('h2', {}, 'Local AEs'),
    aeTable(
      aes.filter((a) => a.local),
      root,
      form,
      'local-aes',
    ),
    h('h2', {}, 'Who may call the server roles'),
    h(
      'div',
      { class: 'policies' },
      ...SERVER_ROLES.map((role) => aes.find((a) => a.local && a.role === role))
        .filter((a): a is Ae => a !== undefined)
        .map((a) => policyForm(a, root)),
    ),
    h('h2', {}, 'Remote peers'),
    aeTable(
      aes.filter((a) => !a.local),
      root,
      form,
      'peer-aes',
    ),
    form.element,
  );
}

/** One server role's access policy: strict, unknown callers' permissions, client certificate, host binding. */
function policyForm(ae: Ae, root: HTMLElement): HTMLFormElement {
  const p: Policy = ae.policy ?? { strict: false, unknownCallers: [] };
  const checkbox = (name: string, checked: boolean, disabled = false) => h('input', { type: 'checkbox', name, checked, disabled });
  const strict = checkbox('strict', p.strict);
  const unknown = PERMISSIONS.map((perm) => h('input', { type: 'checkbox', value: perm, checked: p.unknownCallers.includes(perm) }));
  // Without TLS there is no certificate to ask for: the server would listen as before.
  const clientCert = checkbox('requireClientCert', p.requireClientCert === true, !ae.connection.tls && p.requireClientCert !== true);
  const hosts = checkbox('checkCallerHosts', p.checkCallerHosts !== false);
  const saved = h('span', { class: 'ok saved' });
  const error = h('div', { class: 'field-error', role: 'alert' });
  const syncUnknown = () => {
    for (const c of unknown) c.disabled = strict.checked;
  };
  strict.addEventListener('change', syncUnknown);
  syncUnknown();
  const form = h(
    'form',
    { class: 'card policy-form', id: `policy-${ae.role}`, 'data-ae': ae.aeTitle, novalidate: true },
    h('h3', {}, `${ae.aeTitle} (${ROLE_NAMES[ae.role] ?? ae.role})`),
    h('label', {}, strict, ' Strict: refuse calling AE titles that are not registered'),
    h('label', {}, 'Unknown callers may'),
    h('div', { class: 'perms unknown-callers' }, ...unknown.map((c) => h('label', {}, c, ` ${c.value}`))),
    h('label', {}, hosts, " Host binding: admit a registered AE only from its host (this PACS's own AEs from loopback)"),
    h('label', {}, clientCert, ' Require a client certificate signed by the local CA'),
    ae.connection.tls ? null : h('div', { class: 'hint muted' }, 'needs TLS on this role (Edit it above and tick TLS)'),
    error,
    h('button', { type: 'submit' }, 'Save policy'),
    ' ',
    saved,
  );
  form.addEventListener(
    'submit',
    background(async (e) => {
      e.preventDefault();
      error.textContent = '';
      saved.textContent = '';
      const policy: Policy = {
        strict: strict.checked,
        unknownCallers: PERMISSIONS.filter((_, i) => unknown[i].checked),
        requireClientCert: clientCert.checked,
        checkCallerHosts: hosts.checked,
      };
      try {
        await api('PATCH', `/api/aes/${encodeURIComponent(ae.aeTitle)}`, { policy });
        await renderConfig(root);
        const again = root.querySelector<HTMLElement>(`#policy-${ae.role} .saved`);
        if (again) again.textContent = 'saved';
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.problem.detail : String(err);
      }
    }),
  );
  return form;
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
      if (!(await confirmDialog(`Remove ${a.aeTitle} from the registry?`, 'Remove'))) return;
      try {
        await api('DELETE', `/api/aes/${encodeURIComponent(a.aeTitle)}`);
      } catch (err) {
        toast(`${a.aeTitle} was not removed: ${err instanceof Error ? err.message : String(err)}`, false);
        return;
      }
      await renderConfig(root);
      toast(`removed ${a.aeTitle}`);
    };
    return h(
      'tr',
      { 'data-ae': a.aeTitle },
      h('td', {}, a.aeTitle),
      h('td', {}, a.role),
      h('td', {}, a.connection.host),
      h('td', {}, a.connection.port === undefined ? '-' : String(a.connection.port)),
      h('td', {}, a.connection.tls ? 'TLS' : ''),
      h('td', { class: 'may' }, a.permissions.length === PERMISSIONS.length ? 'all' : a.permissions.join(', ')),
      h('td', {}, [a.moveDestination ? 'move destination' : '', answersQueries(a) ? 'query/retrieve' : ''].filter(Boolean).join(', ')),
      h('td', { class: 'host-check' }, hostCheckText(a)),
      h('td', { class: 'policy' }, policyText(a.policy)),
      h('td', {}, a.description),
      h(
        'td',
        {},
        a.connection.port !== undefined ? h('button', { type: 'button', class: 'echo', onclick: () => void echo() }, 'Echo') : null,
        ' ',
        h('button', { type: 'button', class: 'edit', onclick: () => form.edit(a) }, 'Edit'),
        ' ',
        // Local roles and our own client AEs (the web app calls as them) stay: no Remove button.
        a.role === 'peer' ? h('button', { type: 'button', class: 'remove', onclick: () => void remove() }, 'Remove') : null,
        ' ',
        result,
      ),
    );
  });
  return h(
    'table',
    { id },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['AE title', 'Role', 'Host', 'Port', 'TLS', 'May', 'Move', 'Calls from', 'Callers (policy)', 'Description', ''].map((t) => h('th', {}, t)),
      ),
    ),
    h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 11, class: 'muted' }, 'none yet'))])),
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
  const queryRetrieve = h('input', { type: 'checkbox', id: 'ae-query-retrieve' });
  const perms = PERMISSIONS.map((p) => h('input', { type: 'checkbox', value: p, checked: NEW_PEER_PERMISSIONS.includes(p) }));
  const checkHost = h('input', { type: 'checkbox', id: 'ae-check-host', checked: true });
  /** The host binding as loaded for editing: sent only when changed (an unset one has a meaning of its own). */
  let checkHostLoaded: boolean | undefined;
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
    h('label', { for: 'ae-title' }, 'AE title'),
    title,
    errorFor('ae-title'),
    h('label', { for: 'ae-host' }, 'Host'),
    host,
    errorFor('ae-host'),
    h('label', { for: 'ae-port' }, 'Port'),
    port,
    errorFor('ae-port'),
    h('label', {}, tls, ' TLS'),
    errorFor('ae-tls'),
    h('label', { for: 'ae-description' }, 'Description'),
    description,
    errorFor('ae-description'),
    h('label', {}, 'May do at our servers'),
    h('div', { class: 'perms', id: 'ae-permissions' }, ...perms.map((c) => h('label', {}, c, ` ${c.value}`))),
    errorFor('ae-permissions'),
    h('label', {}, checkHost, ' Accept its calls from this host only (host binding)'),
    errorFor('ae-check-host'),
    h('label', {}, move, ' Valid move destination'),
    errorFor('ae-move'),
    h('label', {}, queryRetrieve, ' Answers C-FIND and C-MOVE (offered as a query target)'),
    errorFor('ae-query-retrieve'),
    general,
    h('button', { type: 'submit', id: 'ae-save' }, 'Save'),
    ' ',
    cancel,
    ' ',
    done,
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
    for (const c of perms) c.checked = NEW_PEER_PERMISSIONS.includes(c.value);
    checkHost.checked = true;
    checkHostLoaded = undefined;
    title.disabled = false;
    cancel.hidden = true;
    clearErrors();
  };
  cancel.addEventListener('click', reset);
  element.addEventListener(
    'submit',
    background(async (e) => {
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
        ...(queryRetrieve.checked || editing?.queryRetrieve ? { queryRetrieve: queryRetrieve.checked } : {}),
        ...(!editing || checkHost.checked !== checkHostLoaded ? { checkHost: checkHost.checked } : {}),
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
        if (err instanceof ApiError)
          showErrors(err.problem.errors ?? (err.problem.field ? [{ field: err.problem.field, message: err.problem.detail }] : []), err.problem.detail);
        else general.textContent = String(err);
      }
    }),
  );
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
      queryRetrieve.checked = ae.queryRetrieve === true;
      for (const c of perms) c.checked = (ae.permissions as readonly string[]).includes(c.value);
      checkHost.checked = checkHostLoaded = hostCheckText(ae) === 'only from its host';
      cancel.hidden = false;
      element.scrollIntoView();
    },
  };
}
