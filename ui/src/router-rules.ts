// The Router rules page: the ordered rules (drag to reorder, or Up/Down), a form per rule
// (rule-form.ts), and a dry run of the rules as edited (router-dry-run.ts). Each rule is a
// RuleCard made once and updated in place: after a save, a reorder or a delete the page
// matches the cards to the server's rules by name and moves, adds or drops only those that
// changed, so the other rules' open editors keep their text, cursor and undo history.
// A rule that can never match (a catch-all `true` rule stops the evaluation before it) is
// marked with the server's warning, and a new rule is saved before the catch-all.
import { api, type AeEntry, type FieldIssue, type Rule, type RouterRules } from './api.js';
import { h } from './dom.js';
import { DragReorder, type Side } from './drag-reorder.js';
import { RuleCard, type RuleCardHost } from './rule-card.js';
import { fieldOf, issuesOf, newDraft, sameRule, toDraft, toRule } from './rule-draft.js';
import { DryRunPanel } from './router-dry-run.js';
import { confirmDialog, toast } from './confirm-dialog.js';

const RULES = '/api/router/rules';

export async function renderRouterRules(root: HTMLElement): Promise<void> {
  const [settings, aes] = await Promise.all([api<RouterRules>('GET', RULES), api<AeEntry[]>('GET', '/api/aes')]);
  new RulesPage(root, aes).show(settings);
}

class RulesPage implements RuleCardHost {
  readonly destinations: string[];
  readonly drag = new DragReorder<RuleCard>((moved, target, side) => void this.reorder(moved, target, side));
  /** In list order: the saved rules as the server orders them, then new ones not saved yet. */
  private cards: RuleCard[] = [];
  private nextKey = 1;
  private readonly list = h('ol', { id: 'rule-list', class: 'rule-list' });
  private readonly status = h('div', { id: 'rules-status', role: 'status' });
  /** The saved rules' names in order, and the catch-all rule among them (new rules are saved before it). */
  private savedNames: string[] = [];
  private catchAll: string | null = null;

  constructor(
    private readonly root: HTMLElement,
    aes: AeEntry[],
  ) {
    // Not our clients (nothing listens) and not the Router itself (it would forward to itself again).
    this.destinations = aes.filter((a) => a.role !== 'client' && a.role !== 'router' && a.connection.port !== undefined).map((a) => a.aeTitle);
  }

  show(settings: RouterRules): void {
    const newRule = h('button', { type: 'button', id: 'rule-new', onclick: () => this.addNew() }, 'New rule');
    this.root.replaceChildren(
      h('h2', {}, 'Router rules'),
      h(
        'p',
        { class: 'muted' },
        'Evaluated in order for every instance the Router receives; the first match stops unless it says continue. Drag a rule (or use Up/Down) to reorder.',
      ),
      this.list,
      h('p', {}, newRule, ' ', this.status),
      new DryRunPanel(
        () => this.cards.map((c) => toRule(c.draft)),
        (issues) => this.showIssues(issues, undefined),
      ).element,
    );
    this.sync(settings);
  }

  /**
   * Takes the server's rules: a card per rule, found by name (unsaved edits of the others
   * kept), new cards for rules it did not show, cards of rules gone dropped; new rules not
   * yet saved stay last. `saved` is the card just saved: its form is rebuilt only when the
   * server stored something else than it showed.
   */
  private sync(settings: RouterRules, saved?: { card: RuleCard; sent: Rule }): void {
    const byName = new Map(this.cards.filter((c) => c.saved).map((c) => [c.savedName!, c]));
    const next = settings.rules.map((r) => {
      const card = byName.get(r.name);
      if (!card) return new RuleCard(this, this.nextKey++, toDraft(r), r.name);
      byName.delete(r.name);
      if (card === saved?.card && !sameRule(r, saved.sent)) card.replaceDraft(toDraft(r));
      return card;
    });
    for (const gone of byName.values()) gone.destroy();
    this.cards = [...next, ...this.cards.filter((c) => !c.saved)];
    this.savedNames = settings.rules.map((r) => r.name);
    this.catchAll = settings.catchAll;
    const warnings = new Map(settings.warnings.map((w) => [w.rule, w.message]));
    for (const card of next) card.setWarning(warnings.get(card.savedName!));
    this.layout();
  }

  /** Numbers the cards and puts their elements in order, moving only those out of place. */
  private layout(): void {
    const savedCount = this.cards.filter((c) => c.saved).length;
    this.cards.forEach((card, index) => {
      card.place(card.saved ? index : -1, savedCount, index);
      const at = this.list.children[index];
      if (at !== card.element) this.list.insertBefore(card.element, at ?? null);
    });
  }

  move(card: RuleCard, by: -1 | 1): void {
    const saved = this.cards.filter((c) => c.saved);
    const target = saved[saved.indexOf(card) + by];
    if (target) void this.reorder(card, target, by < 0 ? 'before' : 'after');
  }

  /** Moves `card` before or after `target` and saves the new order (saved rules only, as the server has them). */
  private async reorder(card: RuleCard, target: RuleCard, side: Side): Promise<void> {
    const names = this.cards.filter((c) => c.saved && c !== card).map((c) => c.savedName!);
    names.splice(names.indexOf(target.savedName!) + (side === 'after' ? 1 : 0), 0, card.savedName!);
    try {
      const current = await api<RouterRules>('GET', RULES);
      const byName = new Map(current.rules.map((r) => [r.name, r]));
      const next = await api<RouterRules>('PUT', RULES, { rules: names.map((n) => byName.get(n)).filter(Boolean), queue: current.queue });
      this.sync(next);
      this.say('ok', `order saved: ${next.rules.map((r) => r.name).join(', ')}`);
    } catch (err) {
      this.say(
        'fail',
        `order not saved: ${issuesOf(err)
          .map((i) => i.message)
          .join('; ')}`,
      );
    }
  }

  private addNew(): void {
    const card = new RuleCard(this, this.nextKey++, newDraft());
    this.cards.push(card);
    this.layout();
    card.setOpen(true);
    card.focusName();
  }

  async save(card: RuleCard): Promise<void> {
    this.clearIssues();
    const rule = toRule(card.draft);
    // A new rule after a catch-all would never match: it goes before the catch-all.
    const before = card.savedName === undefined && this.catchAll !== null ? this.catchAll : undefined;
    try {
      if (card.savedName === undefined) await api<Rule>('POST', before === undefined ? RULES : `${RULES}?position=${this.savedNames.indexOf(before)}`, rule);
      else await api<Rule>('PUT', `${RULES}/${encodeURIComponent(card.savedName)}`, rule);
    } catch (err) {
      this.showIssues(issuesOf(err), card);
      return;
    }
    card.savedName = rule.name;
    this.sync(await api<RouterRules>('GET', RULES), { card, sent: rule });
    this.say('ok', `saved ${rule.name}${before === undefined ? '' : ` before the catch-all rule "${before}"`}`);
  }

  async remove(card: RuleCard): Promise<void> {
    if (card.savedName !== undefined) {
      if (!(await confirmDialog(`Delete the rule "${card.savedName}"?`))) return;
      try {
        await api('DELETE', `${RULES}/${encodeURIComponent(card.savedName)}`);
        toast(`deleted the rule "${card.savedName}"`);
      } catch (err) {
        this.showIssues(issuesOf(err), card);
        return;
      }
    }
    card.destroy();
    this.cards = this.cards.filter((c) => c !== card);
    if (card.saved) this.sync(await api<RouterRules>('GET', RULES));
    else this.layout();
  }

  private say(kind: 'ok' | 'fail', text: string): void {
    this.status.className = kind;
    this.status.textContent = text;
  }

  private clearIssues(): void {
    for (const c of this.cards) c.clearErrors();
    this.status.textContent = '';
  }

  /** Shows each issue next to its field: in `card`'s form, or by `rules[i]` in the list's; else in the status line. */
  private showIssues(issues: FieldIssue[], card: RuleCard | undefined): void {
    this.clearIssues();
    for (const issue of issues) {
      const [index, field] = fieldOf(issue.field);
      const target = card ?? (index !== undefined ? this.cards[index] : undefined);
      const box = target?.errorBox(field);
      const text = issue.field ? `${issue.field.replace(/^rules\[\d+\]\./, '')}: ${issue.message}` : issue.message;
      if (box) box.textContent = box.textContent ? `${box.textContent}; ${text}` : text;
      else this.say('fail', `${this.status.textContent ? `${this.status.textContent}; ` : ''}${target ? `${target.draft.name}: ` : ''}${text}`);
    }
  }
}
