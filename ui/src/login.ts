// The login page: POST /api/login sets the session cookie. Too many failed attempts get
// 429 from the server, whose message (with the wait) is shown as it is.
import { api, ApiError, type Me } from './api.js';
import { background, h } from './dom.js';

export function renderLogin(root: HTMLElement, onDone: (me: Me) => void): void {
  const user = h('input', { type: 'text', id: 'login-user', name: 'user', autocomplete: 'username', value: 'admin' });
  const password = h('input', { type: 'password', id: 'login-password', name: 'password', autocomplete: 'current-password' });
  const error = h('div', { class: 'field-error', id: 'login-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card', id: 'login-form' },
    h('h2', {}, 'Log in'),
    h('label', { for: 'login-user' }, 'User'),
    user,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    error,
    h('button', { type: 'submit' }, 'Log in'),
  );
  form.addEventListener(
    'submit',
    background(async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        onDone(await api<Me>('POST', '/api/login', { user: user.value, password: password.value }));
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.problem.detail : String(err);
      }
    }),
  );
  root.replaceChildren(form);
  password.focus();
}
