// The web app: log in, then the Studies (default), Configuration, Status and Router pages (hash routes).
import { api, ApiError } from './api.js';
import { renderConfig } from './config.js';
import { renderLogin } from './login.js';
import { renderRouterQueue } from './router-queue.js';
import { renderRouterRules } from './router-rules.js';
import { renderStatus } from './status.js';
import { renderStudies } from './studies.js';

const app = document.getElementById('app')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;

const pages: Record<string, (root: HTMLElement) => Promise<void>> = {
  studies: renderStudies,
  config: renderConfig,
  status: renderStatus,
  'router-rules': renderRouterRules,
  'router-queue': renderRouterQueue,
};

async function route(): Promise<void> {
  const page = location.hash.replace(/^#\/?/, '') || 'studies';
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a[data-page]')) a.classList.toggle('active', a.dataset.page === page);
  try {
    await (pages[page] ?? renderStudies)(app);
  } catch (err) {
    if (err instanceof ApiError && err.problem.status === 401) return showLogin();
    app.textContent = `Error: ${(err as Error).message}`;
  }
}

function showLogin(): void {
  nav.hidden = true;
  renderLogin(app, (user) => {
    who.textContent = user;
    nav.hidden = false;
    void route();
  });
}

document.getElementById('logout')!.addEventListener('click', async () => {
  await api('POST', '/api/logout');
  showLogin();
});
window.addEventListener('hashchange', () => void route());

api<{ user: string }>('GET', '/api/me').then(
  (me) => {
    who.textContent = me.user;
    nav.hidden = false;
    void route();
  },
  () => showLogin(),
);
