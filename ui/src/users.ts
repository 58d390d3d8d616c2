// The Users page (admins): the users and their roles; add one with a role, reset a
// password, change a role, remove. And My password (everyone): change one's own password
// with the old one. The server's messages (field errors, "the last admin") appear next
// to the field or the row they concern.
import { api, ApiError, type UserInfo } from './api.js';
import { background, h } from './dom.js';
import { confirmDialog, toast } from './confirm-dialog.js';

const ROLES = ['reader', 'admin'] as const;

function problemText(err: unknown): string {
  return err instanceof ApiError ? err.problem.detail : String(err);
}

export async function renderUsers(root: HTMLElement): Promise<void> {
  const users = await api<UserInfo[]>('GET', '/api/users');
  const message = h('div', { id: 'users-message', role: 'status' });
  const say = (text: string, ok: boolean) => {
    message.className = ok ? 'ok' : 'fail';
    message.textContent = text;
  };
  const refresh = async (text: string) => {
    await renderUsers(root);
    const m = document.getElementById('users-message')!;
    m.className = 'ok';
    m.textContent = text;
  };

  const rows = users.map((u) => {
    const newPassword = h('input', {
      type: 'password',
      class: 'user-new-password',
      autocomplete: 'new-password',
      placeholder: 'new password',
      'aria-label': `new password for ${u.name}`,
    });
    const resetBox = h(
      'span',
      { class: 'user-reset-box', hidden: true },
      newPassword,
      ' ',
      h('button', { type: 'button', class: 'user-reset-save', onclick: () => void reset() }, 'Set'),
    );
    const reset = async () => {
      try {
        await api('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { password: newPassword.value });
        await refresh(`new password set for ${u.name}`);
      } catch (err) {
        say(problemText(err), false);
      }
    };
    const other = u.role === 'admin' ? 'reader' : 'admin';
    const changeRole = async () => {
      try {
        await api('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { role: other });
        await refresh(`${u.name} is now ${other}`);
      } catch (err) {
        say(problemText(err), false);
      }
    };
    const remove = async () => {
      if (!(await confirmDialog(`Remove the user ${u.name}?`, 'Remove'))) return;
      try {
        await api('DELETE', `/api/users/${encodeURIComponent(u.name)}`);
        await refresh(`removed ${u.name}`);
        toast(`removed the user ${u.name}`);
      } catch (err) {
        say(problemText(err), false);
      }
    };
    return h(
      'tr',
      { 'data-user': u.name },
      h('td', {}, u.name),
      h('td', { class: 'user-role' }, u.role),
      h('td', { class: 'muted' }, u.created.slice(0, 10)),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'user-reset',
            onclick: () => {
              resetBox.hidden = !resetBox.hidden;
              newPassword.focus();
            },
          },
          'Reset password',
        ),
        ' ',
        resetBox,
        ' ',
        h('button', { type: 'button', class: 'user-role-change', onclick: () => void changeRole() }, `Make ${other}`),
        ' ',
        h('button', { type: 'button', class: 'user-remove danger', onclick: () => void remove() }, 'Remove'),
      ),
    );
  });

  const name = h('input', { type: 'text', id: 'user-name', autocomplete: 'off' });
  const password = h('input', { type: 'password', id: 'user-password', autocomplete: 'new-password' });
  const role = h('select', { id: 'user-role' }, ...ROLES.map((r) => h('option', { value: r }, r)));
  const errors: Record<string, HTMLElement> = {
    name: h('div', { class: 'field-error', id: 'user-name-error' }),
    password: h('div', { class: 'field-error', id: 'user-password-error' }),
    role: h('div', { class: 'field-error', id: 'user-role-error' }),
  };
  const general = h('div', { class: 'field-error', id: 'user-form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card', id: 'user-add-form', novalidate: true },
    h('h2', {}, 'Add a user'),
    h('label', { for: 'user-name' }, 'Name'),
    name,
    errors.name,
    h('label', { for: 'user-password' }, 'Password (at least 8 characters)'),
    password,
    errors.password,
    h('label', { for: 'user-role' }, 'Role: a reader browses and views; an admin also deletes, configures, sends and exports'),
    role,
    errors.role,
    general,
    h('button', { type: 'submit', id: 'user-add' }, 'Add'),
  );
  form.addEventListener(
    'submit',
    background(async (e) => {
      e.preventDefault();
      for (const el of Object.values(errors)) el.textContent = '';
      general.textContent = '';
      try {
        await api('POST', '/api/users', { name: name.value, password: password.value, role: role.value });
        await refresh(`added ${name.value} (${role.value})`);
      } catch (err) {
        const field = err instanceof ApiError ? err.problem.field : undefined;
        (field && errors[field] ? errors[field] : general).textContent = problemText(err);
      }
    }),
  );

  root.replaceChildren(
    h('h2', {}, 'Users'),
    message,
    h('table', { id: 'users-table' }, h('thead', {}, h('tr', {}, ...['Name', 'Role', 'Created', ''].map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)),
    form,
  );
}

export async function renderOwnPassword(root: HTMLElement): Promise<void> {
  const old = h('input', { type: 'password', id: 'own-old-password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', id: 'own-new-password', autocomplete: 'new-password' });
  const again = h('input', { type: 'password', id: 'own-new-password-again', autocomplete: 'new-password' });
  const error = h('div', { class: 'field-error', id: 'own-password-error', role: 'alert' });
  const done = h('span', { class: 'ok', id: 'own-password-done' });
  const form = h(
    'form',
    { class: 'card', id: 'own-password-form', novalidate: true },
    h('h2', {}, 'Change my password'),
    h('label', { for: 'own-old-password' }, 'Current password'),
    old,
    h('label', { for: 'own-new-password' }, 'New password (at least 8 characters)'),
    next,
    h('label', { for: 'own-new-password-again' }, 'New password again'),
    again,
    error,
    h('button', { type: 'submit', id: 'own-password-save' }, 'Change'),
    ' ',
    done,
  );
  form.addEventListener(
    'submit',
    background(async (e) => {
      e.preventDefault();
      error.textContent = '';
      done.textContent = '';
      if (next.value !== again.value) {
        error.textContent = 'the two new passwords differ';
        return;
      }
      try {
        await api('POST', '/api/me/password', { oldPassword: old.value, newPassword: next.value });
        form.reset();
        done.textContent = 'password changed; your other sessions have ended';
      } catch (err) {
        error.textContent = problemText(err);
      }
    }),
  );
  root.replaceChildren(form);
}
