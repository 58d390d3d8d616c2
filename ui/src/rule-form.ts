// One router rule's form: name, CEL condition (a CodeMirror editor checked as you type),
// destination AEs, attribute changes, continue, discard, enabled; Save and Delete. It edits
// its Draft in place and lives as long as the rule is open, whatever else the page redraws.
import type { ConditionProblem } from './api.js';
import { conditionEditor, type ConditionEditor } from './condition-editor.js';
import { h } from './dom.js';
import type { Draft } from './rule-draft.js';

export interface RuleFormEvents {
  /** The draft changed (the rule's head shows it). */
  change(): void;
  save(): void;
  remove(): void;
}

/** The fields a server error can name, each with its message box; 'general' for the rest. */
const ERROR_FIELDS = ['name', 'condition', 'discard', 'destinations', 'changes', 'continue', 'enabled', 'general'] as const;

export class RuleForm {
  readonly element: HTMLFormElement;
  private readonly editor: ConditionEditor;
  private readonly errors = new Map<string, HTMLElement>();
  private readonly done = h('span', { class: 'ok rule-done' });
  private readonly deleteButton: HTMLButtonElement;

  /** `key` makes the field ids unique on the page; `destinations` are the AEs offered. */
  constructor(d: Draft, key: number, destinations: readonly string[], saved: boolean, on: RuleFormEvents) {
    for (const f of ERROR_FIELDS) this.errors.set(f, h('div', { class: 'field-error', 'data-field': f }));
    const err = (f: (typeof ERROR_FIELDS)[number]) => this.errors.get(f)!;
    const id = (f: string) => `rule-${key}-${f}`;

    const name = h('input', { type: 'text', class: 'rule-name', id: id('name'), value: d.name });
    name.addEventListener('input', () => {
      d.name = name.value;
      on.change();
    });
    const conditionBox = h('div', { class: 'rule-condition', id: id('condition') });
    const problems = h('div', { class: 'condition-problems field-error', role: 'alert' });
    this.editor = conditionEditor(conditionBox, d.condition, {
      change: (v) => {
        d.condition = v;
        on.change();
      },
      problems: (ps: ConditionProblem[]) => (problems.textContent = ps.map((p) => `line ${p.line}, column ${p.column}: ${p.message}`).join('\n')),
    });

    const destOptions = [...new Set([...destinations, ...d.destinations])];
    const dests = h(
      'div',
      { class: 'rule-dest perms', id: id('destinations') },
      ...destOptions.map((aet) => {
        const c = h('input', { type: 'checkbox', value: aet, checked: d.destinations.includes(aet) });
        c.addEventListener('change', () => {
          d.destinations = destOptions.filter((a) => (a === aet ? c.checked : d.destinations.includes(a)));
          on.change();
        });
        return h('label', {}, c, ` ${aet}`);
      }),
    );

    const changes = h('div', { class: 'rule-changes' });
    const renderChanges = () =>
      changes.replaceChildren(
        ...d.changes.map((row, n) => {
          const k = h('input', { type: 'text', class: 'change-key', placeholder: 'keyword, e.g. InstitutionName', value: row[0], 'aria-label': 'attribute' });
          const v = h('input', { type: 'text', class: 'change-value', placeholder: '(empty: remove the attribute)', value: row[1], 'aria-label': 'new value' });
          k.addEventListener('input', () => (row[0] = k.value));
          v.addEventListener('input', () => (row[1] = v.value));
          return h(
            'div',
            { class: 'change-row' },
            k,
            v,
            h(
              'button',
              {
                type: 'button',
                class: 'change-remove',
                onclick: () => {
                  d.changes.splice(n, 1);
                  renderChanges();
                },
              },
              'Remove',
            ),
          );
        }),
        h(
          'button',
          {
            type: 'button',
            class: 'change-add',
            onclick: () => {
              d.changes.push(['', '']);
              renderChanges();
            },
          },
          'Add change',
        ),
      );
    renderChanges();

    const checkbox = (cls: string, checked: boolean, apply: (checked: boolean) => void) => {
      const c = h('input', { type: 'checkbox', class: cls, checked });
      c.addEventListener('change', () => {
        apply(c.checked);
        on.change();
      });
      return c;
    };
    const cont = checkbox('rule-continue', d.continue, (v) => (d.continue = v));
    const enabled = checkbox('rule-enabled', d.enabled, (v) => (d.enabled = v));
    // Discarding: the forwarding fields do not apply.
    const forwarding = h('fieldset', { class: 'rule-forwarding', disabled: d.discard });
    const discard = checkbox('rule-discard', d.discard, (v) => {
      d.discard = v;
      forwarding.disabled = v;
    });
    forwarding.append(
      h('label', {}, 'Send to'),
      dests,
      err('destinations'),
      h('label', {}, 'Attribute changes on the forwarded copy'),
      changes,
      err('changes'),
      h('label', {}, cont, ' Continue with the following rules after a match'),
      err('continue'),
    );

    this.deleteButton = h('button', { type: 'button', class: 'rule-delete', onclick: () => on.remove() }, saved ? 'Delete' : 'Discard');
    this.element = h(
      'form',
      {
        class: 'card rule-editor',
        novalidate: true,
        onsubmit: (e: Event) => {
          e.preventDefault();
          on.save();
        },
      },
      h('label', { for: id('name') }, 'Name'),
      name,
      err('name'),
      h('label', { for: id('condition') }, 'Condition (CEL over callingAE, calledAE, peerAddress, DICOM keywords, tags["GGGGEEEE"])'),
      conditionBox,
      problems,
      err('condition'),
      h('label', {}, discard, ' Discard: what this rule matches is not forwarded, and not kept as unrouted (the retention deletes it)'),
      err('discard'),
      forwarding,
      h('label', {}, enabled, ' Enabled'),
      err('enabled'),
      err('general'),
      h('button', { type: 'submit', class: 'rule-save' }, 'Save'),
      ' ',
      this.deleteButton,
      ' ',
      this.done,
    );
  }

  /** The message box of a field the server named (see fieldOf), or undefined. */
  errorBox(field: string): HTMLElement | undefined {
    return this.errors.get(field);
  }

  clearErrors(): void {
    for (const e of this.errors.values()) e.textContent = '';
    this.done.textContent = '';
  }

  /** After the first save the rule is deleted, no longer discarded. */
  markSaved(): void {
    this.deleteButton.textContent = 'Delete';
  }

  focusName(): void {
    this.element.querySelector<HTMLInputElement>('.rule-name')?.focus();
  }

  /** Frees the editor (its view listens on the document). */
  destroy(): void {
    this.editor.view.destroy();
  }
}
