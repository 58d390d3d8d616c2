// The login page: POST /api/login sets the session cookie.
import { api, ApiError } from './api.js';
import { h } from './dom.js';

export function renderLogin(root: HTMLElement, onDone: (user: string) => void): void {
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
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      const r = await api<{ user: string }>('POST', '/api/login', { user: user.value, password: password.value });
      onDone(r.user);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.problem.detail : String(err);
    }
  });
  root.replaceChildren(form);
  password.focus();
}
