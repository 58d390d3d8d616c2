// The Router rules page: the ordered rules (drag to reorder, or Up/Down), an editor per
// rule (name, CEL condition checked as you type, destination AEs from the registry,
// attribute changes, continue-after-match, or discard), and a dry run of the rules as edited.
import { api, ApiError, type AeEntry as Ae, type FieldIssue } from './api.js';
import { conditionEditor, type ConditionEditor } from './condition-editor.js';
import { h } from './dom.js';
import type { ConditionProblem, DryRunResult, Rule, RouterSettings } from './api.js';

/** What the form holds; changes as rows so a half-typed keyword is kept. */
interface Draft {
  name: string;
  condition: string;
  destinations: string[];
  changes: [string, string][];
  continue: boolean;
  enabled: boolean;
  discard: boolean;
}

interface Item {
  key: number;
  /** Its name on the server; undefined until a new rule is saved. */
  savedName?: string;
  draft: Draft;
  open: boolean;
  editor?: ConditionEditor;
  errors?: Map<string, HTMLElement>;
}

const toDraft = (r: Rule): Draft => ({
  name: r.name, condition: r.condition, destinations: [...r.destinations],
  changes: Object.entries(r.changes).map(([k, v]) => [k, v ?? '']), continue: r.continue, enabled: r.enabled, discard: r.discard === true,
});

/** An empty value removes the attribute from the forwarded copy. A rule that discards sends nothing, changes nothing and stops. */
const toRule = (d: Draft): Rule => (d.discard
  ? { name: d.name, condition: d.condition, destinations: [], changes: {}, continue: false, enabled: d.enabled, discard: true }
  : {
    name: d.name, condition: d.condition, destinations: d.destinations,
    changes: Object.fromEntries(d.changes.filter(([k]) => k.trim() !== '').map(([k, v]) => [k.trim(), v === '' ? null : v])),
    continue: d.continue, enabled: d.enabled,
  });

/** `rules[2].changes.X` -> [2, 'changes']; `destinations[0]` -> [undefined, 'destinations']. */
function fieldOf(field: string): [number | undefined, string] {
  const m = /^rules\[(\d+)\]\.?(.*)$/.exec(field);
  const rest = m ? m[2] : field;
  return [m ? Number(m[1]) : undefined, /^[A-Za-z]+/.exec(rest)?.[0] ?? 'general'];
}

const issuesOf = (err: unknown): FieldIssue[] =>
  err instanceof ApiError ? err.problem.errors ?? [{ field: err.problem.field ?? '', message: err.problem.detail }] : [{ field: '', message: String(err) }];

export async function renderRouterRules(root: HTMLElement): Promise<void> {
  const [settings, aes] = await Promise.all([api<RouterSettings>('GET', '/api/router/rules'), api<Ae[]>('GET', '/api/aes')]);
  new RulesPage(root, aes).show(settings);
}

class RulesPage {
  private items: Item[] = [];
  private nextKey = 1;
  private readonly list = h('ol', { id: 'rule-list', class: 'rule-list' });
  private readonly status = h('div', { id: 'rules-status', role: 'status' });
  private readonly destinations: string[];
  private dragging: Item | undefined;

  constructor(private readonly root: HTMLElement, aes: Ae[]) {
    // Not our clients (nothing listens) and not the Router itself (it would forward to itself again).
    this.destinations = aes.filter((a) => a.role !== 'client' && a.role !== 'router' && a.connection.port !== undefined).map((a) => a.aeTitle);
  }

  show(settings: RouterSettings): void {
    this.sync(settings);
    const newRule = h('button', { type: 'button', id: 'rule-new', onclick: () => this.addNew() }, 'New rule');
    this.root.replaceChildren(
      h('h2', {}, 'Router rules'),
      h('p', { class: 'muted' }, 'Evaluated in order for every instance the Router receives; the first match stops unless it says continue. Drag a rule (or use Up/Down) to reorder.'),
      this.list,
      h('p', {}, newRule, ' ', this.status),
      new DryRunPanel(() => this.items.map((i) => toRule(i.draft)), (issues) => this.showIssues(issues, undefined)).element,
    );
    this.render();
  }

  /** Takes the server's rules; keeps unsaved edits of the others and new rules not yet saved. */
  private sync(settings: RouterSettings, saved?: Item): void {
    const old = new Map(this.items.filter((i) => i.savedName !== undefined).map((i) => [i.savedName!, i]));
    const next: Item[] = settings.rules.map((r) => {
      const i = old.get(r.name) ?? (saved?.draft.name === r.name ? saved : undefined);
      if (!i) return { key: this.nextKey++, savedName: r.name, draft: toDraft(r), open: false };
      if (i === saved) i.draft = toDraft(r);
      i.savedName = r.name;
      return i;
    });
    const unsavedNew = this.items.filter((i) => i.savedName === undefined && i !== saved);
    for (const i of this.items) if (!next.includes(i) && !unsavedNew.includes(i)) i.editor?.view.destroy();
    this.items = [...next, ...unsavedNew];
  }

  private render(): void {
    for (const i of this.items) {
      i.editor?.view.destroy();
      i.editor = undefined;
    }
    this.list.replaceChildren(...this.items.map((item, index) => this.renderItem(item, index)));
  }

  private renderItem(item: Item, index: number): HTMLLIElement {
    const saved = this.items.filter((i) => i.savedName !== undefined);
    const pos = saved.indexOf(item);
    const move = (by: number) => void this.reorder(item, saved[pos + by], by < 0 ? 'before' : 'after');
    const d = item.draft;
    const head = h(
      'div',
      { class: 'rule-head', draggable: item.savedName !== undefined ? 'true' : undefined, title: item.savedName !== undefined ? 'drag to reorder' : undefined },
      h('span', { class: 'rule-index' }, item.savedName !== undefined ? `${pos + 1}.` : 'new'),
      h('strong', { class: 'rule-title' }, d.name || '(unnamed)'),
      h('code', { class: 'rule-summary' }, `${d.condition} \u2192 ${d.discard ? '(discard)' : d.destinations.join(', ') || '?'}${d.continue && !d.discard ? ' (continue)' : ''}${d.enabled ? '' : ' (disabled)'}`),
      h('span', { class: 'rule-buttons' },
        h('button', { type: 'button', class: 'rule-up', disabled: pos <= 0, 'aria-label': `move ${d.name} up`, onclick: () => move(-1) }, 'Up'),
        h('button', { type: 'button', class: 'rule-down', disabled: pos < 0 || pos >= saved.length - 1, 'aria-label': `move ${d.name} down`, onclick: () => move(1) }, 'Down'),
        h('button', { type: 'button', class: 'rule-edit', 'aria-expanded': String(item.open), onclick: () => this.toggle(item) }, item.open ? 'Close' : 'Edit')),
    );
    const li = h('li', { class: `rule${item.savedName === undefined ? ' new' : ''}`, 'data-rule': item.savedName ?? '', 'data-index': index }, head);
    if (item.savedName !== undefined) this.dragAndDrop(item, head, li);
    if (item.open) li.append(this.editorFor(item));
    return li;
  }

  private dragAndDrop(item: Item, head: HTMLElement, li: HTMLLIElement): void {
    head.addEventListener('dragstart', (e) => {
      this.dragging = item;
      e.dataTransfer?.setData('text/plain', item.savedName!);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      li.classList.add('dragging');
    });
    head.addEventListener('dragend', () => {
      this.dragging = undefined;
      li.classList.remove('dragging');
    });
    const side = (e: DragEvent): 'before' | 'after' => {
      const r = li.getBoundingClientRect();
      return e.clientY < r.top + r.height / 2 ? 'before' : 'after';
    };
    li.addEventListener('dragover', (e) => {
      if (!this.dragging || this.dragging === item) return;
      e.preventDefault();
      li.classList.toggle('drop-before', side(e) === 'before');
      li.classList.toggle('drop-after', side(e) === 'after');
    });
    li.addEventListener('dragleave', () => li.classList.remove('drop-before', 'drop-after'));
    li.addEventListener('drop', (e) => {
      e.preventDefault();
      li.classList.remove('drop-before', 'drop-after');
      const from = this.dragging;
      this.dragging = undefined;
      if (from && from !== item) void this.reorder(from, item, side(e));
    });
  }

  /** Moves `item` before or after `target` and saves the new order (saved rules only, as the server has them). */
  private async reorder(item: Item, target: Item | undefined, where: 'before' | 'after'): Promise<void> {
    if (!target) return;
    const names = this.items.filter((i) => i.savedName !== undefined && i !== item).map((i) => i.savedName!);
    const at = names.indexOf(target.savedName!) + (where === 'after' ? 1 : 0);
    names.splice(at, 0, item.savedName!);
    try {
      const current = await api<RouterSettings>('GET', '/api/router/rules');
      const byName = new Map(current.rules.map((r) => [r.name, r]));
      const next = await api<RouterSettings>('PUT', '/api/router/rules', { rules: names.map((n) => byName.get(n)).filter(Boolean), queue: current.queue });
      this.sync(next);
      this.render();
      this.status.className = 'ok';
      this.status.textContent = `order saved: ${next.rules.map((r) => r.name).join(', ')}`;
    } catch (err) {
      this.status.className = 'fail';
      this.status.textContent = `order not saved: ${issuesOf(err).map((i) => i.message).join('; ')}`;
    }
  }

  private toggle(item: Item): void {
    item.open = !item.open;
    this.render();
  }

  private addNew(): void {
    const item: Item = { key: this.nextKey++, draft: { name: '', condition: 'true', destinations: [], changes: [], continue: false, enabled: true, discard: false }, open: true };
    this.items.push(item);
    this.render();
    this.list.lastElementChild?.querySelector<HTMLInputElement>('.rule-name')?.focus();
  }

  private editorFor(item: Item): HTMLElement {
    const d = item.draft;
    const errors = new Map<string, HTMLElement>();
    item.errors = errors;
    const errorFor = (field: string) => {
      const e = h('div', { class: 'field-error', 'data-field': field });
      errors.set(field, e);
      return e;
    };
    const id = (f: string) => `rule-${item.key}-${f}`;
    const name = h('input', { type: 'text', class: 'rule-name', id: id('name'), value: d.name });
    name.addEventListener('input', () => (d.name = name.value));
    const conditionBox = h('div', { class: 'rule-condition', id: id('condition') });
    const problems = h('div', { class: 'condition-problems field-error', role: 'alert' });
    item.editor = conditionEditor(conditionBox, d.condition, {
      change: (v) => (d.condition = v),
      problems: (ps: ConditionProblem[]) => (problems.textContent = ps.map((p) => `line ${p.line}, column ${p.column}: ${p.message}`).join('\n')),
    });
    const destOptions = [...new Set([...this.destinations, ...d.destinations])];
    const dests = h('div', { class: 'rule-dest perms', id: id('destinations') }, ...destOptions.map((aet) => {
      const c = h('input', { type: 'checkbox', value: aet, checked: d.destinations.includes(aet) });
      c.addEventListener('change', () => (d.destinations = destOptions.filter((a) => (a === aet ? c.checked : d.destinations.includes(a)))));
      return h('label', {}, c, ` ${aet}`);
    }));
    const changes = h('div', { class: 'rule-changes' });
    const renderChanges = () => changes.replaceChildren(
      ...d.changes.map((row, n) => {
        const k = h('input', { type: 'text', class: 'change-key', placeholder: 'keyword, e.g. InstitutionName', value: row[0], 'aria-label': 'attribute' });
        const v = h('input', { type: 'text', class: 'change-value', placeholder: '(empty: remove the attribute)', value: row[1], 'aria-label': 'new value' });
        k.addEventListener('input', () => (row[0] = k.value));
        v.addEventListener('input', () => (row[1] = v.value));
        return h('div', { class: 'change-row' }, k, v, h('button', { type: 'button', class: 'change-remove', onclick: () => { d.changes.splice(n, 1); renderChanges(); } }, 'Remove'));
      }),
      h('button', { type: 'button', class: 'change-add', onclick: () => { d.changes.push(['', '']); renderChanges(); } }, 'Add change'),
    );
    renderChanges();
    const cont = h('input', { type: 'checkbox', class: 'rule-continue', checked: d.continue });
    cont.addEventListener('change', () => (d.continue = cont.checked));
    const enabled = h('input', { type: 'checkbox', class: 'rule-enabled', checked: d.enabled });
    enabled.addEventListener('change', () => (d.enabled = enabled.checked));
    // Discarding: the forwarding fields do not apply.
    const forwarding = h('fieldset', { class: 'rule-forwarding', disabled: d.discard });
    const discard = h('input', { type: 'checkbox', class: 'rule-discard', checked: d.discard });
    discard.addEventListener('change', () => {
      d.discard = discard.checked;
      forwarding.disabled = d.discard;
    });
    const done = h('span', { class: 'ok rule-done' });
    return h(
      'form',
      { class: 'card rule-editor', novalidate: true, onsubmit: (e: Event) => { e.preventDefault(); void this.save(item, done); } },
      h('label', { for: id('name') }, 'Name'), name, errorFor('name'),
      h('label', { for: id('condition') }, 'Condition (CEL over callingAE, calledAE, peerAddress, DICOM keywords, tags["GGGGEEEE"])'), conditionBox, problems, errorFor('condition'),
      h('label', {}, discard, ' Discard: what this rule matches is not forwarded, and not kept as unrouted (the retention deletes it)'), errorFor('discard'),
      (forwarding.append(
        h('label', {}, 'Send to'), dests, errorFor('destinations'),
        h('label', {}, 'Attribute changes on the forwarded copy'), changes, errorFor('changes'),
        h('label', {}, cont, ' Continue with the following rules after a match'), errorFor('continue'),
      ), forwarding),
      h('label', {}, enabled, ' Enabled'), errorFor('enabled'),
      errorFor('general'),
      h('button', { type: 'submit', class: 'rule-save' }, 'Save'), ' ',
      h('button', { type: 'button', class: 'rule-delete', onclick: () => void this.remove(item) }, item.savedName === undefined ? 'Discard' : 'Delete'), ' ',
      done,
    );
  }

  private clearIssues(): void {
    for (const i of this.items) for (const e of i.errors?.values() ?? []) e.textContent = '';
    this.status.textContent = '';
  }

  /** Shows each issue next to its field: in `item`'s editor, or by `rules[i]` in the list's. */
  private showIssues(issues: FieldIssue[], item: Item | undefined): void {
    this.clearIssues();
    for (const issue of issues) {
      const [index, field] = fieldOf(issue.field);
      const target = item ?? (index !== undefined ? this.items[index] : undefined);
      const el = target?.errors?.get(field) ?? target?.errors?.get('general');
      const text = issue.field ? `${issue.field.replace(/^rules\[\d+\]\./, '')}: ${issue.message}` : issue.message;
      if (el) el.textContent = el.textContent ? `${el.textContent}; ${text}` : text;
      else {
        this.status.className = 'fail';
        this.status.textContent = `${this.status.textContent ? `${this.status.textContent}; ` : ''}${target ? `${target.draft.name}: ` : ''}${text}`;
      }
    }
  }

  private async save(item: Item, done: HTMLElement): Promise<void> {
    this.clearIssues();
    done.textContent = '';
    const rule = toRule(item.draft);
    try {
      if (item.savedName === undefined) await api<Rule>('POST', '/api/router/rules', rule);
      else await api<Rule>('PUT', `/api/router/rules/${encodeURIComponent(item.savedName)}`, rule);
    } catch (err) {
      this.showIssues(issuesOf(err), item);
      return;
    }
    if (item.savedName !== undefined) item.savedName = rule.name.trim();
    item.draft.name = rule.name.trim();
    this.sync(await api<RouterSettings>('GET', '/api/router/rules'), item);
    this.render();
    this.status.className = 'ok';
    this.status.textContent = `saved ${rule.name.trim()}`;
  }

  private async remove(item: Item): Promise<void> {
    if (item.savedName !== undefined) {
      if (!confirm(`Delete the rule "${item.savedName}"?`)) return;
      try {
        await api('DELETE', `/api/router/rules/${encodeURIComponent(item.savedName)}`);
      } catch (err) {
        this.showIssues(issuesOf(err), item);
        return;
      }
    }
    item.editor?.view.destroy();
    this.items = this.items.filter((i) => i !== item);
    if (item.savedName !== undefined) this.sync(await api<RouterSettings>('GET', '/api/router/rules'));
    this.render();
  }
}

/** Runs a file or a stored instance through the rules as edited (unsaved changes included). */
class DryRunPanel {
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
      h('label', { for: 'dry-run-file' }, 'A DICOM file'), file,
      h('label', { for: 'dry-run-uid' }, 'or a stored instance (SOP Instance UID)'), h('div', { class: 'inline' }, uid, ' in ', archive),
      h('label', { for: 'dry-run-calling' }, 'Calling AE'), calling,
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
    m.matched ? 'matches' : m.skipped === 'stopped' ? 'not evaluated (stopped)' : m.skipped === 'disabled' ? 'disabled' : m.error ? `error: ${m.error}` : 'no match';
  return [
    h('table', { id: 'dry-run-matches' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Rule'), h('th', {}, 'Result'))),
      h('tbody', {}, ...d.matches.map((m) => h('tr', { 'data-rule': m.rule, class: m.matched ? 'matched' : 'unmatched' }, h('td', {}, m.rule), h('td', { class: m.matched ? 'ok' : m.error ? 'fail' : 'muted' }, state(m)))))),
    h('p', { id: 'dry-run-stopped' }, d.stoppedBy ? `Evaluation stopped at "${d.stoppedBy}".` : 'Every rule was evaluated.'),
    h('p', { id: 'dry-run-outcome', 'data-outcome': d.outcome, class: d.outcome === 'rule-failed' ? 'fail' : undefined }, OUTCOME_TEXT[d.outcome](d)),
    d.sends.length
      ? h('ul', { id: 'dry-run-sends' }, ...d.sends.map((s) => {
        const changes = Object.entries(s.changes).map(([k, v]) => `${k} = ${v ?? '(removed)'}`).join(', ');
        return h('li', { 'data-destination': s.destination },
          `\u2192 ${s.destination}`, s.address ? ` (${s.address})` : '', ` by "${s.rule}"`, changes ? `; changes: ${changes}` : '',
          s.error ? h('span', { class: 'fail' }, ` (${s.error})`) : null);
      }))
      : h('p', { id: 'dry-run-sends', class: 'muted' }, 'Not forwarded.'),
  ];
}
