// The web app: log in, then the Studies (default), Patients, Worklist, Performed steps,
// Storage commitment, Configuration, Status, Router and (for
// admins) Users and Hanging protocols pages (hash routes). Readers browse and view: admin-only controls are
// hidden (role.ts) and refused by the server anyway.
import { api, ApiError, type Me } from './api.js';
import { renderActivity } from './activity.js';
import { renderConfig } from './config.js';
import { renderHangingProtocols } from './hanging-page.js';
import { background, h } from './dom.js';
import { renderLogin } from './login.js';
import { applyRole } from './role.js';
import { renderPatients } from './patients.js';
import { renderRouterQueue } from './router-queue.js';
import { renderRouterRules } from './router-rules.js';
import { renderStatus } from './status.js';
import { renderStudies } from './studies.js';
import { renderCommitments } from './commitments-page.js';
import { renderMpps } from './mpps-page.js';
import { renderWorklist } from './worklist-page.js';
import { renderOwnPassword, renderUsers } from './users.js';

const app = document.getElementById('app')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;

const pages: Record<string, (root: HTMLElement) => Promise<void>> = {
  studies: renderStudies,
  patients: renderPatients,
  config: renderConfig,
  status: renderStatus,
  'router-rules': renderRouterRules,
  'router-queue': renderRouterQueue,
  users: renderUsers,
  hanging: renderHangingProtocols,
  activity: renderActivity,
  password: renderOwnPassword,
  worklist: renderWorklist,
  mpps: renderMpps,
  commitments: renderCommitments,
};

// Links of the pages this file adds (index.html has the others): Activity, Users and Hanging protocols for admins, My password for everyone.
const activityLink = h('a', { href: '#/activity', 'data-page': 'activity', hidden: true }, 'Activity');
const usersLink = h('a', { href: '#/users', 'data-page': 'users', hidden: true }, 'Users');
const hangingLink = h('a', { href: '#/hanging', 'data-page': 'hanging', hidden: true }, 'Hanging protocols');
const passwordLink = h('a', { href: '#/password', 'data-page': 'password' }, 'My password');
who.before(activityLink, ' ', usersLink, ' ', hangingLink);
who.after(' ', passwordLink);

async function route(): Promise<void> {
  // A page may take parameters after '?' (#/studies?study=UID).
  const page = (location.hash.replace(/^#\/?/, '') || 'studies').split('?')[0];
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a[data-page]')) a.classList.toggle('active', a.dataset.page === page);
  try {
    await (pages[page] ?? renderStudies)(app);
  } catch (err) {
    if (err instanceof ApiError && err.problem.status === 401) return showLogin();
    app.textContent = `Error: ${(err as Error).message}`;
  }
}

function loggedIn(me: Me): void {
  who.textContent = me.user;
  who.title = me.role;
  applyRole(me.role);
  usersLink.hidden = me.role !== 'admin';
  hangingLink.hidden = me.role !== 'admin';
  activityLink.hidden = me.role !== 'admin';
  nav.hidden = false;
  void route();
}

function showLogin(): void {
  nav.hidden = true;
  renderLogin(app, loggedIn);
}

document.getElementById('logout')!.addEventListener(
  'click',
  background(async () => {
    await api('POST', '/api/logout');
    showLogin();
  }),
);
window.addEventListener('hashchange', () => void route());

api<Me>('GET', '/api/me').then(loggedIn, () => showLogin());
