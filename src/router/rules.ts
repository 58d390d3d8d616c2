/**
 * Router settings: the ordered rules and the forward queue's retry policy, one zod
 * schema for the file (`DATA/router/rules.json`), the CLI and the REST API.
 *
 * A rule: name (unique), CEL condition, destination AEs (registered AE titles with a
 * port), optional attribute changes applied to the forwarded copy (keyword or tag ->
 * new text value, or null to remove), and `continue` (evaluate the following rules after
 * a match; default false: the first match stops). Rules can be disabled.
 *
 * A rule with `discard: true` (and no destinations) says that what it matches is not to
 * be forwarded: its match stops the evaluation. What no rule forwards is otherwise kept
 * ("unrouted", see routeOutcome): the router never deletes what nobody decided to drop.
 */
import { z } from 'zod';
import { aeTitleSchema, ConfigValidationError, findAe, issuesOf, PLUGIN_NAME, type FieldIssue, type Registry } from '../config/index.js';
import { lookupTag, parseTag, VR_INFO } from '../dicom/index.js';
import type { RuleWarning } from '../api-types/router.js';
import { compileCondition, ConditionError, matchesEverything, type CompiledCondition, type RouteContext } from './condition.js';

/** Why a key of `changes` cannot be changed, or undefined when it can. */
export function changeKeyProblem(key: string): string | undefined {
  let tag: number;
  try {
    tag = parseTag(key);
  } catch {
    return `"${key}" is not a DICOM keyword or tag (GGGGEEEE)`;
  }
  const entry = lookupTag(tag);
  if (!entry) return 'only attributes of the standard dictionary can be changed';
  if (tag >>> 16 <= 0x0002) return 'command and file meta attributes cannot be changed';
  if (entry.vr === 'SQ' || VR_INFO[entry.vr].kind !== 'string') return `only text attributes can be changed (this one is ${entry.vr})`;
  return undefined;
}

export const ruleSchema = z
  .strictObject({
    name: z.string().trim().min(1, 'a rule needs a name').max(64, 'at most 64 characters'),
    condition: z.string().max(4096, 'at most 4096 characters'),
    destinations: z.array(aeTitleSchema).default([]),
    changes: z.record(z.string(), z.string().max(1024).nullable()).default({}),
    continue: z.boolean().default(false),
    enabled: z.boolean().default(true),
    /** What the rule matches is dropped on purpose (no destinations, no changes, stops the evaluation). */
    discard: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.discard) {
      if (r.destinations.length === 0)
        ctx.addIssue({ code: 'custom', path: ['destinations'], message: 'a rule needs at least one destination AE (or discard: true)' });
      return;
    }
    if (r.destinations.length > 0) ctx.addIssue({ code: 'custom', path: ['destinations'], message: 'a rule that discards has no destinations' });
    if (Object.keys(r.changes).length > 0) ctx.addIssue({ code: 'custom', path: ['changes'], message: 'a rule that discards changes nothing' });
    if (r.continue) ctx.addIssue({ code: 'custom', path: ['continue'], message: 'a rule that discards stops the evaluation: continue must be false' });
  });

export const queuePolicySchema = z.strictObject({
  /** Attempts before an entry goes to the dead letters. */
  maxAttempts: z.number().int().min(1).max(1000).default(10),
  /** First retry delay; doubled per attempt, with jitter, up to maxDelayMs. */
  baseDelayMs: z.number().int().min(10).max(3_600_000).default(2_000),
  maxDelayMs: z.number().int().min(10).max(86_400_000).default(300_000),
  /** Instances sent per round on one association. */
  batchSize: z.number().int().min(1).max(1000).default(50),
  /** An idle association to a destination is released after this long. */
  idleReleaseMs: z.number().int().min(0).max(3_600_000).default(5_000),
  /**
   * A received instance with nothing left to send (every queue entry delivered or purged)
   * is deleted from the router's storage this many hours after it arrived; null keeps
   * everything. Until then a copy sent again is a duplicate (not forwarded again) and the
   * dry run can use it.
   */
  deleteForwardedAfterHours: z.number().min(0).max(87_600).nullable().default(168),
});

export const routerSettingsSchema = z.strictObject({
  rules: z.array(ruleSchema).default([]),
  queue: queuePolicySchema.default(queuePolicySchema.parse({})),
});

export type Rule = z.infer<typeof ruleSchema>;
/** A problem with one field; a condition's syntax error also says where in the expression. */
export interface RuleIssue extends FieldIssue {
  line?: number;
  column?: number;
}
export type RuleInput = z.input<typeof ruleSchema>;
export type QueuePolicy = z.infer<typeof queuePolicySchema>;
export type RouterSettings = z.infer<typeof routerSettingsSchema>;

/** First start: everything to the Workstation Server. */
export function defaultRouterSettings(registry?: Registry): RouterSettings {
  const ws = registry?.devices.flatMap((d) => d.aes).find((a) => a.role === 'workstation')?.aeTitle ?? 'WORKSTATION';
  return routerSettingsSchema.parse({ rules: [{ name: 'everything to the workstation', condition: 'true', destinations: [ws] }] });
}

/**
 * Validates settings completely: the schema, each condition (ConditionError -> field
 * `rules[i].condition`, message with line:column), unique names, and (with a registry)
 * destinations that are registered with a port. With `saved` (the settings being
 * changed), a condition that is new or changed is type-checked as well (condition-types.ts);
 * one the saved settings already hold is not judged again, so a rule saved before the
 * type check existed can still be reordered or removed. Reading the file checks no types.
 */
export function validateSettings(value: unknown, registry?: Registry, saved?: RouterSettings): RouterSettings {
  const r = routerSettingsSchema.safeParse(value);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error));
  const issues: RuleIssue[] = [];
  const names = new Set<string>();
  const known = new Set(saved?.rules.map((x) => x.condition));
  r.data.rules.forEach((rule, i) => {
    issues.push(...ruleProblems(rule, registry, `rules[${i}].`, saved !== undefined && !known.has(rule.condition)));
    if (names.has(rule.name)) issues.push({ field: `rules[${i}].name`, message: `there is already a rule named "${rule.name}"` });
    names.add(rule.name);
  });
  if (issues.length) throw new ConfigValidationError(issues);
  return r.data;
}

/** Validates one rule being saved (for the API and CLI), its condition's types too; fields relative to the rule. */
export function validateRule(value: unknown, registry?: Registry): Rule {
  const r = ruleSchema.safeParse(value);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error));
  const issues = ruleProblems(r.data, registry, '', true);
  if (issues.length) throw new ConfigValidationError(issues);
  return r.data;
}

/** A destination `@NAME`: the add-in NAME's own kind of destination (docs/plugins.md), not an AE. */
export const isPluginDestination = (destination: string): boolean => destination.startsWith('@');

function ruleProblems(rule: Rule, registry: Registry | undefined, prefix: string, checkTypes: boolean): RuleIssue[] {
  const out: RuleIssue[] = [];
  try {
    compileCondition(rule.condition, { checkTypes });
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    out.push({ field: `${prefix}condition`, message: e.message, line: e.problem.line, column: e.problem.column });
  }
  for (const key of Object.keys(rule.changes)) {
    const p = changeKeyProblem(key);
    if (p) out.push({ field: `${prefix}changes.${key}`, message: p });
  }
  rule.destinations.forEach((d, j) => {
    if (!isPluginDestination(d)) return;
    // Whether an add-in of that name is loaded is known to the server only: an unknown one fails at send time.
    if (!PLUGIN_NAME.test(d.slice(1))) out.push({ field: `${prefix}destinations[${j}]`, message: `"${d}": an add-in destination is @ and the add-in's name` });
    if (Object.keys(rule.changes).length > 0)
      out.push({ field: `${prefix}changes`, message: `attribute changes are not applied for add-in destinations (${d}): send it with a rule of its own` });
  });
  if (registry) {
    rule.destinations.forEach((aet, j) => {
      if (isPluginDestination(aet)) return;
      const ae = findAe(registry, aet);
      if (!ae) out.push({ field: `${prefix}destinations[${j}]`, message: `"${aet}" is not a registered AE` });
      else if (ae.role === 'client') out.push({ field: `${prefix}destinations[${j}]`, message: `"${aet}" is one of our client AEs, not a destination` });
      else if (ae.connection.port === undefined) out.push({ field: `${prefix}destinations[${j}]`, message: `"${aet}" has no port to send to` });
    });
  }
  return out;
}

/**
 * The first enabled rule that matches everything and stops the evaluation (condition
 * `true`, without continue, or discarding): no rule after it is ever evaluated.
 */
export function catchAllRule(rules: readonly Rule[]): Rule | undefined {
  return rules.find((r) => r.enabled && (!r.continue || r.discard) && matchesEverything(r.condition));
}

/** A warning for each enabled rule that can never match, because a catch-all rule precedes it (see decide()). */
export function unreachableRules(rules: readonly Rule[]): RuleWarning[] {
  const stop = catchAllRule(rules);
  if (!stop) return [];
  return rules
    .slice(rules.indexOf(stop) + 1)
    .filter((r) => r.enabled)
    .map((r) => ({
      rule: r.name,
      message: `rule "${r.name}" can never match: the earlier rule "${stop.name}" matches everything (condition true) and stops the evaluation; move "${r.name}" before it`,
    }));
}

export interface RuleMatch {
  rule: string;
  matched: boolean;
  /** Evaluation error (treated as no match). */
  error?: string;
  /** Not evaluated: disabled, or an earlier match stopped the evaluation. */
  skipped?: 'disabled' | 'stopped';
}

export interface RouteDecision {
  /** Per rule, in order. */
  matches: RuleMatch[];
  /** What would be queued: one entry per destination (the first matching rule naming it wins). */
  sends: { destination: string; rule: string; changes: Record<string, string | null> }[];
  /** The matching rule that discards, when one stopped the evaluation. */
  discardedBy?: string;
}

/**
 * What the router does with an instance, given the decision:
 *   failed    some rule could not be evaluated: nothing is sent and the instance is held
 *             with the error until the rules are fixed and it is retried (fail closed: with
 *             the failed rule read as "no match", a later catch-all rule would get it);
 *   send      queue the sends;
 *   discard   a rule discards it and nothing earlier sends it: not kept for anybody;
 *   unrouted  no rule sends it: held, shown, purged or retried by a user.
 */
export type RouteOutcome =
  { kind: 'failed'; rule: string; error: string } | { kind: 'send'; sends: RouteDecision['sends'] } | { kind: 'discard'; rule: string } | { kind: 'unrouted' };

export function routeOutcome(d: RouteDecision): RouteOutcome {
  const errors = d.matches.filter((m) => m.error !== undefined);
  if (errors.length > 0) return { kind: 'failed', rule: errors[0].rule, error: errors.map((m) => `rule "${m.rule}": ${m.error}`).join('; ') };
  if (d.sends.length > 0) return { kind: 'send', sends: d.sends };
  if (d.discardedBy !== undefined) return { kind: 'discard', rule: d.discardedBy };
  return { kind: 'unrouted' };
}

/** Rules compiled once per settings revision. */
export class CompiledRules {
  private readonly compiled: { rule: Rule; condition?: CompiledCondition; error?: string }[];

  constructor(readonly settings: RouterSettings) {
    this.compiled = settings.rules.map((rule) => {
      try {
        return { rule, condition: compileCondition(rule.condition) };
      } catch (e) {
        return { rule, error: (e as Error).message };
      }
    });
  }

  /** Evaluates the rules in order; errors are reported per rule and count as no match here (routeOutcome holds such an instance). */
  decide(ctx: RouteContext): RouteDecision {
    const matches: RuleMatch[] = [];
    const sends: RouteDecision['sends'] = [];
    let stopped = false;
    let discardedBy: string | undefined;
    for (const { rule, condition, error } of this.compiled) {
      if (!rule.enabled) {
        matches.push({ rule: rule.name, matched: false, skipped: 'disabled' });
        continue;
      }
      if (stopped) {
        matches.push({ rule: rule.name, matched: false, skipped: 'stopped' });
        continue;
      }
      let matched = false;
      let err = error;
      if (condition) {
        try {
          matched = condition.evaluate(ctx);
        } catch (e) {
          err = (e as Error).message;
        }
      }
      matches.push({ rule: rule.name, matched, ...(err ? { error: err } : {}) });
      if (!matched) continue;
      if (rule.discard) {
        discardedBy = rule.name;
        stopped = true;
        continue;
      }
      for (const destination of rule.destinations) {
        if (!sends.some((s) => s.destination === destination)) sends.push({ destination, rule: rule.name, changes: rule.changes });
      }
      if (!rule.continue) stopped = true;
    }
    return { matches, sends, ...(discardedBy !== undefined ? { discardedBy } : {}) };
  }
}
