// One rule of the rules page: its head (position, name, summary, Up/Down/Edit) and, while
// open, its form. Created once per rule and updated in place, so a save, a reorder or
// another rule opening leaves its editor (text, cursor, undo history) as it is.
import { background, h } from './dom.js';
import type { DragReorder } from './drag-reorder.js';
import { summaryOf, type Draft } from './rule-draft.js';
import { RuleForm } from './rule-form.js';

export interface RuleCardHost {
  /** The AEs a rule may send to. */
  readonly destinations: readonly string[];
  readonly drag: DragReorder<RuleCard>;
  move(card: RuleCard, by: -1 | 1): void;
  save(card: RuleCard): Promise<void>;
  remove(card: RuleCard): Promise<void>;
}

export class RuleCard {
  readonly element: HTMLLIElement;
  private readonly index = h('span', { class: 'rule-index' });
  private readonly title = h('strong', { class: 'rule-title' });
  private readonly summary = h('code', { class: 'rule-summary' });
  /** Why the rule can never match (a catch-all rule precedes it); empty otherwise. */
  private readonly warning = h('div', { class: 'rule-warning', role: 'note', hidden: true });
  private readonly up: HTMLButtonElement;
  private readonly down: HTMLButtonElement;
  private readonly edit: HTMLButtonElement;
  private readonly head: HTMLElement;
  private form: RuleForm | undefined;

  /** `savedName`: its name on the server; undefined until a new rule is saved. */
  constructor(
    private readonly host: RuleCardHost,
    readonly key: number,
    public draft: Draft,
    public savedName?: string,
  ) {
    this.up = h('button', { type: 'button', class: 'rule-up', onclick: () => host.move(this, -1) }, 'Up');
    this.down = h('button', { type: 'button', class: 'rule-down', onclick: () => host.move(this, 1) }, 'Down');
    this.edit = h('button', { type: 'button', class: 'rule-edit', 'aria-expanded': 'false', onclick: () => this.setOpen(!this.open) }, 'Edit');
    this.head = h('div', { class: 'rule-head' }, this.index, this.title, this.summary, h('span', { class: 'rule-buttons' }, this.up, this.down, this.edit));
    this.element = h('li', {}, this.head, this.warning);
    host.drag.attach(
      this,
      this.head,
      this.element,
      () => this.saved,
      () => this.savedName ?? '',
    );
    this.showDraft();
  }

  get saved(): boolean {
    return this.savedName !== undefined;
  }

  get open(): boolean {
    return this.form !== undefined;
  }

  /** Its place among the saved rules (-1 while new), how many there are, and its index in the list. */
  place(pos: number, savedCount: number, index: number): void {
    const saved = this.saved;
    this.element.className = `rule${saved ? '' : ' new'}`;
    this.element.dataset.rule = this.savedName ?? '';
    this.element.dataset.index = String(index);
    this.head.draggable = saved;
    this.head.title = saved ? 'drag to reorder' : '';
    this.index.textContent = saved ? `${pos + 1}.` : 'new';
    this.up.disabled = pos <= 0;
    this.down.disabled = pos < 0 || pos >= savedCount - 1;
    if (saved) this.form?.markSaved();
  }

  /** Shows the server's warning for this rule, or none. */
  setWarning(message: string | undefined): void {
    this.warning.textContent = message ?? '';
    this.warning.hidden = message === undefined;
    this.element.toggleAttribute('data-unreachable', message !== undefined);
  }

  setOpen(open: boolean): void {
    if (open === this.open) return;
    if (open) {
      this.form = new RuleForm(this.draft, this.key, this.host.destinations, this.saved, {
        change: () => this.showDraft(),
        save: background(() => this.host.save(this)),
        remove: background(() => this.host.remove(this)),
      });
      this.element.append(this.form.element);
    } else {
      this.form?.element.remove();
      this.form?.destroy();
      this.form = undefined;
    }
    this.edit.textContent = open ? 'Close' : 'Edit';
    this.edit.setAttribute('aria-expanded', String(open));
  }

  /** The server holds something else than the form shows: show that (this rule's form only is rebuilt). */
  replaceDraft(draft: Draft): void {
    this.draft = draft;
    if (this.open) {
      this.setOpen(false);
      this.setOpen(true);
    }
    this.showDraft();
  }

  focusName(): void {
    this.form?.focusName();
  }

  /** Where a server error about `field` is shown; undefined while closed. */
  errorBox(field: string): HTMLElement | undefined {
    return this.form?.errorBox(field) ?? this.form?.errorBox('general');
  }

  clearErrors(): void {
    this.form?.clearErrors();
  }

  destroy(): void {
    this.setOpen(false);
    this.element.remove();
  }

  /** The head follows the draft as it is edited. */
  private showDraft(): void {
    const name = this.draft.name || '(unnamed)';
    this.title.textContent = name;
    this.summary.textContent = summaryOf(this.draft);
    this.up.setAttribute('aria-label', `move ${this.draft.name} up`);
    this.down.setAttribute('aria-label', `move ${this.draft.name} down`);
  }
}
