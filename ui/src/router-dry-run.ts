// The rules page's dry run: a file or a stored instance run through the rules as edited
// (unsaved changes included), showing which rules match and what would be sent where.
import { api, type DryRunResult, type FieldIssue, type Rule } from './api.js';
import { h } from './dom.js';
import { issuesOf } from './rule-draft.js';

/** Runs a file or a stored instance through the rules as edited (unsaved changes included). */
export class DryRunPanel {
  readonly element: HTMLElement;

  constructor(rules: () => Rule[], showIssues: (issues: FieldIssue[]) => void) {
    const file = h('input', { type: 'file', id: 'dry-run-file', accept: '.dcm,application/dicom' });
    const uid = h('input', { type: 'text', id: 'dry-run-uid', placeholder: '1.2.840...' });
    const archive = h('select', { id: 'dry-run-archive' }, ...['router', 'main', 'workstation'].map((a) => h('option', { value: a }, a)));
    const calling = h('input', { type: 'text', id: 'dry-run-calling', placeholder: 'as stored / none' });
    const error = h('div', { class: 'field-error', id: 'dry-run-error', role: 'alert' });
    const result = h('div', { id: 'dry-run-result' });
    const run = async () => {
      error.textContent = '';
      result.replaceChildren();
      const body: Record<string, unknown> = { rules: rules() };
      if (calling.value.trim()) body.callingAE = calling.value.trim();
      const f = file.files?.[0];
      if (f) body.file = await base64Of(f);
      else if (uid.value.trim()) Object.assign(body, { sopInstanceUid: uid.value.trim(), archive: archive.value });
      else {
        error.textContent = 'choose a file or enter a SOP Instance UID';
        return;
      }
      try {
        result.replaceChildren(...renderDryRun(await api<DryRunResult>('POST', '/api/router/dry-run', body)));
      } catch (err) {
        const issues = issuesOf(err);
        error.textContent = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
        showIssues(issues.filter((i) => i.field.startsWith('rules[')));
      }
    };
    this.element = h(
      'section',
      { class: 'card dry-run', id: 'dry-run' },
      h('h2', {}, 'Dry run'),
      h('p', { class: 'muted' }, 'Which of the rules as edited above (saved or not) match, and what would be sent where.'),
      h('label', { for: 'dry-run-file' }, 'A DICOM file'),
      file,
      h('label', { for: 'dry-run-uid' }, 'or a stored instance (SOP Instance UID)'),
      h('div', { class: 'inline' }, uid, ' in ', archive),
      h('label', { for: 'dry-run-calling' }, 'Calling AE'),
      calling,
      error,
      h('button', { type: 'button', id: 'dry-run-run', onclick: () => void run() }, 'Run'),
      result,
    );
  }
}

function base64Of(f: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error('the file could not be read'));
    r.readAsDataURL(f);
  });
}

const OUTCOME_TEXT: Record<DryRunResult['outcome'], (d: DryRunResult) => string> = {
  send: () => 'Forwarded as listed below.',
  discard: (d) => `Discarded by "${d.stoppedBy ?? ''}": not forwarded, not kept as unrouted.`,
  unrouted: () => 'No rule forwards it: kept as unrouted (Router queue page) until a user purges or retries it.',
  'rule-failed': (d) => `Held, not forwarded: ${d.error ?? 'a rule failed'}.`,
};

function renderDryRun(d: DryRunResult): HTMLElement[] {
  const state = (m: DryRunResult['matches'][number]) =>
    m.matched
      ? 'matches'
      : m.skipped === 'stopped'
        ? 'not evaluated (stopped)'
        : m.skipped === 'disabled'
          ? 'disabled'
          : m.error
            ? `error: ${m.error}`
            : 'no match';
  return [
    h(
      'table',
      { id: 'dry-run-matches' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Rule'), h('th', {}, 'Result'))),
      h(
        'tbody',
        {},
        ...d.matches.map((m) =>
          h(
            'tr',
            { 'data-rule': m.rule, class: m.matched ? 'matched' : 'unmatched' },
            h('td', {}, m.rule),
            h('td', { class: m.matched ? 'ok' : m.error ? 'fail' : 'muted' }, state(m)),
          ),
        ),
      ),
    ),
    h('p', { id: 'dry-run-stopped' }, d.stoppedBy ? `Evaluation stopped at "${d.stoppedBy}".` : 'Every rule was evaluated.'),
    h('p', { id: 'dry-run-outcome', 'data-outcome': d.outcome, class: d.outcome === 'rule-failed' ? 'fail' : undefined }, OUTCOME_TEXT[d.outcome](d)),
    d.sends.length
      ? h(
          'ul',
          { id: 'dry-run-sends' },
          ...d.sends.map((s) => {
            const changes = Object.entries(s.changes)
              .map(([k, v]) => `${k} = ${v ?? '(removed)'}`)
              .join(', ');
            return h(
              'li',
              { 'data-destination': s.destination },
              `\u2192 ${s.destination}`,
              s.address ? ` (${s.address})` : '',
              ` by "${s.rule}"`,
              changes ? `; changes: ${changes}` : '',
              s.error ? h('span', { class: 'fail' }, ` (${s.error})`) : null,
            );
          }),
        )
      : h('p', { id: 'dry-run-sends', class: 'muted' }, 'Not forwarded.'),
  ];
}
