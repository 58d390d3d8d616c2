// The Patients page: patients whose studies disagree on name, birth date or sex (each
// study with its own values, one click to give a study's values to the whole patient),
// update a patient, merge two patients, and the recorded changes. Update and merge are
// an admin's (hidden for readers by role.ts, refused by the server anyway).
import { api, ApiError, type PatientChangeJson, type PatientChangeResult, type PatientConflictJson } from './api.js';
import { h } from './dom.js';
import { confirmDialog } from './confirm-dialog.js';

function problemText(err: unknown): string {
  return err instanceof ApiError ? `${err.problem.detail}${err.problem.field ? ` (${err.problem.field})` : ''}` : String(err);
}

const keyText = (k: { patientId: string; issuer: string }) => (k.issuer ? `${k.patientId} (${k.issuer})` : k.patientId);

function input(name: string, label: string, value = ''): HTMLInputElement {
  return h('input', { name, 'aria-label': label, placeholder: label, value });
}

export async function renderPatients(root: HTMLElement): Promise<void> {
  const [conflicts, changes] = await Promise.all([
    api<PatientConflictJson[]>('GET', '/api/patients/conflicts'),
    api<PatientChangeJson[]>('GET', '/api/patients/changes?limit=20'),
  ]);
  const message = h('div', { id: 'patients-message', role: 'status' });
  const say = (text: string, ok: boolean) => {
    message.className = ok ? 'ok' : 'fail';
    message.textContent = text;
  };
  const refresh = async (text: string) => {
    await renderPatients(root);
    const m = document.getElementById('patients-message')!;
    m.className = 'ok';
    m.textContent = text;
  };

  // Update
  const up = {
    patientId: input('patientId', 'Patient ID'),
    issuer: input('issuer', 'Issuer (optional)'),
    name: input('name', 'Name (FAMILY^GIVEN)'),
    birthDate: input('birthDate', 'Birth date YYYYMMDD'),
    sex: input('sex', 'Sex M/F/O'),
    reason: input('reason', 'Reason'),
  };
  const update = async () => {
    const body: Record<string, string> = { reason: up.reason.value };
    for (const f of ['name', 'birthDate', 'sex'] as const) if (up[f].value.trim() !== '') body[f] = up[f].value.trim();
    try {
      const q = up.issuer.value.trim() ? `?issuer=${encodeURIComponent(up.issuer.value.trim())}` : '';
      const r = await api<PatientChangeResult>('PATCH', `/api/patients/${encodeURIComponent(up.patientId.value.trim())}${q}`, body);
      await refresh(`patient ${up.patientId.value.trim()} updated: ${r.studies} stud${r.studies === 1 ? 'y' : 'ies'} corrected`);
    } catch (err) {
      say(problemText(err), false);
    }
  };
  const updateForm = h(
    'form',
    { id: 'patient-update', class: 'patient-form', onsubmit: (e: Event) => (e.preventDefault(), void update()) },
    h('h3', {}, 'Update a patient'),
    up.patientId,
    up.issuer,
    up.name,
    up.birthDate,
    up.sex,
    up.reason,
    h('button', { type: 'submit' }, 'Update'),
  );

  // Merge
  const mg = {
    fromId: input('fromId', 'From Patient ID'),
    fromIssuer: input('fromIssuer', 'From issuer (optional)'),
    intoId: input('intoId', 'Into Patient ID'),
    intoIssuer: input('intoIssuer', 'Into issuer (optional)'),
    reason: input('mergeReason', 'Reason'),
  };
  const merge = async () => {
    const from = { patientId: mg.fromId.value.trim(), issuer: mg.fromIssuer.value.trim() };
    const into = { patientId: mg.intoId.value.trim(), issuer: mg.intoIssuer.value.trim() };
    if (!(await confirmDialog(`Merge patient ${keyText(from)} into ${keyText(into)}? Its studies move and take the identity of ${keyText(into)}.`, 'Merge')))
      return;
    try {
      const r = await api<PatientChangeResult>('POST', '/api/patients/merge', { from, into, reason: mg.reason.value });
      await refresh(`${keyText(from)} merged into ${keyText(into)}: ${r.studies} stud${r.studies === 1 ? 'y' : 'ies'} moved`);
    } catch (err) {
      say(problemText(err), false);
    }
  };
  const mergeForm = h(
    'form',
    { id: 'patient-merge', class: 'patient-form', onsubmit: (e: Event) => (e.preventDefault(), void merge()) },
    h('h3', {}, 'Merge two patients'),
    mg.fromId,
    mg.fromIssuer,
    ' into ',
    mg.intoId,
    mg.intoIssuer,
    mg.reason,
    h('button', { type: 'submit' }, 'Merge'),
  );

  // Conflicts: "use" fills the update form with that study's values.
  const use = (c: PatientConflictJson, s: PatientConflictJson['studies'][number]) => {
    up.patientId.value = c.patientId;
    up.issuer.value = c.issuer;
    up.name.value = s.patientName ?? '';
    up.birthDate.value = s.patientBirthDate ?? '';
    up.sex.value = s.patientSex ?? '';
    up.reason.focus();
  };
  const conflictRows = conflicts.flatMap((c) =>
    c.studies.map((s, i) =>
      h(
        'tr',
        { 'data-patient': keyText(c), 'data-study': s.studyInstanceUid },
        h('td', {}, i === 0 ? keyText(c) : ''),
        h('td', { class: 'conflict-name' }, s.patientName ?? ''),
        h('td', {}, s.patientBirthDate ?? ''),
        h('td', {}, s.patientSex ?? ''),
        h('td', {}, s.studyDate ?? ''),
        h('td', {}, s.studyDescription ?? ''),
        h('td', {}, h('a', { href: `#/studies?study=${encodeURIComponent(s.studyInstanceUid)}`, class: 'muted' }, s.studyInstanceUid)),
        h('td', {}, h('button', { type: 'button', class: 'patient-use', onclick: () => use(c, s) }, 'Use for patient')),
      ),
    ),
  );
  const conflictTable = conflicts.length
    ? h(
        'table',
        { id: 'patient-conflicts' },
        h(
          'thead',
          {},
          h('tr', {}, ...['Patient', 'Name on the study', 'Birth date', 'Sex', 'Study date', 'Description', 'Study UID', ''].map((t) => h('th', {}, t))),
        ),
        h('tbody', {}, ...conflictRows),
      )
    : h('p', { id: 'patient-conflicts', class: 'muted' }, 'No patient has studies that disagree on name, birth date or sex.');

  const changeList = h(
    'ul',
    { id: 'patient-changes' },
    ...changes.map((c) =>
      h(
        'li',
        {},
        `${c.at.slice(0, 19).replace('T', ' ')} ${c.action} `,
        c.action === 'merge' ? `${keyText(c.from!)} into ${keyText(c.patient)}` : `${keyText(c.patient)} ${JSON.stringify(c.update)}`,
        ` (${c.studies} stud${c.studies === 1 ? 'y' : 'ies'}): ${c.reason}`,
      ),
    ),
  );

  root.replaceChildren(
    h('h2', {}, 'Patients'),
    message,
    h('h3', {}, `Studies that disagree about their patient (${conflicts.length} patient${conflicts.length === 1 ? '' : 's'})`),
    conflictTable,
    updateForm,
    mergeForm,
    h('h3', {}, 'Recent updates and merges'),
    changes.length ? changeList : h('p', { class: 'muted', id: 'patient-changes' }, 'None yet.'),
  );
}
