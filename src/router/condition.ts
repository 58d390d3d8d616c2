/**
 * Rule conditions: CEL expressions (via @bufbuild/cel; no `eval`, not Turing-complete)
 * over what the router knows of one received instance:
 *   callingAE, calledAE, peerAddress                 strings (peerAddress null when unknown)
 *   <Keyword>  e.g. Modality, StudyDescription        the top-level attribute's value
 *   tags["00080060"]                                   the same by tag number (8 hex digits)
 * Values come from the instance's DICOM JSON: no value -> null; one value -> string or
 * number (PN: the Alphabetic group); several -> a list; a sequence -> a list of maps of
 * its items by keyword. An absent attribute is null, so `Modality == "CT"` is false for
 * an instance without Modality; calling a method on null is an evaluation error: the
 * router then forwards the instance nowhere and holds it, with the error, in its queue
 * ("rule failed", see routeOutcome in rules.ts) until the rule is fixed and it is retried.
 *
 * compileCondition checks an expression before it is saved: syntax errors and unknown
 * identifiers (not a variable above, not a dictionary keyword) are reported with their
 * line:column; with `checkTypes`, type errors too (condition-types.ts: attributes typed
 * by their dictionary VR and VM). The router itself compiles without the type check, so
 * a rule saved before it existed still runs (and holds what it fails on).
 */
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { checkConditionTypes, ConditionTypeError } from './condition-types.js';
import { lookupKeyword, lookupTag, type DicomJsonAttribute, type DicomJsonObject } from '../dicom/index.js';

export const CONTEXT_VARIABLES = ['callingAE', 'calledAE', 'peerAddress', 'tags'] as const;

export interface RouteContext {
  callingAE: string;
  calledAE: string;
  peerAddress?: string | null;
  /** The instance's DICOM JSON (top level), or a function giving it (called only by a condition that reads attributes). */
  attributes: DicomJsonObject | (() => DicomJsonObject);
}

export interface ConditionProblem {
  message: string;
  line: number;
  column: number;
}

export class ConditionError extends Error {
  override readonly name = 'ConditionError';
  constructor(readonly problem: ConditionProblem) {
    super(`${problem.line}:${problem.column}: ${problem.message}`);
  }
}

export interface CompiledCondition {
  readonly source: string;
  /** Throws on evaluation errors (unknown function, method on null, bad regex, non-boolean result). */
  evaluate(ctx: RouteContext): boolean;
}

type Expr = ReturnType<typeof parse>['expr'];

function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Identifiers the expression reads as variables (comprehension variables excluded), with their expression ids. */
function freeIdentifiers(expr: Expr, bound: ReadonlySet<string> = new Set(), out = new Map<string, bigint>()): Map<string, bigint> {
  const k = expr.exprKind;
  switch (k.case) {
    case 'identExpr':
      if (!bound.has(k.value.name) && !out.has(k.value.name)) out.set(k.value.name, expr.id);
      break;
    case 'selectExpr':
      if (k.value.operand) freeIdentifiers(k.value.operand, bound, out);
      break;
    case 'callExpr':
      if (k.value.target) freeIdentifiers(k.value.target, bound, out);
      for (const a of k.value.args) freeIdentifiers(a, bound, out);
      break;
    case 'listExpr':
      for (const e of k.value.elements) freeIdentifiers(e, bound, out);
      break;
    case 'structExpr':
      for (const e of k.value.entries) {
        if (e.keyKind.case === 'mapKey') freeIdentifiers(e.keyKind.value, bound, out);
        if (e.value) freeIdentifiers(e.value, bound, out);
      }
      break;
    case 'comprehensionExpr': {
      const c = k.value;
      if (c.iterRange) freeIdentifiers(c.iterRange, bound, out);
      if (c.accuInit) freeIdentifiers(c.accuInit, bound, out);
      const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
      for (const e of [c.loopCondition, c.loopStep, c.result]) if (e) freeIdentifiers(e, inner, out);
      break;
    }
    default:
      break;
  }
  return out;
}

const env = celEnv();

/** Parses and checks a condition; throws ConditionError with line:column. */
export function compileCondition(source: string, opts: { checkTypes?: boolean } = {}): CompiledCondition {
  if (source.trim() === '') throw new ConditionError({ message: 'the condition is empty (write `true` to match everything)', line: 1, column: 1 });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (e) {
    const err = e as Error & { location?: { start?: { line: number; column: number } }; rawMessage?: string };
    const at = err.location?.start ?? { line: 1, column: 1 };
    throw new ConditionError({ message: err.rawMessage ?? err.message.replace(/^<input>:\d+:\d+: /, ''), line: at.line, column: at.column });
  }
  const keywords: string[] = [];
  let usesTags = false;
  for (const [name, id] of freeIdentifiers(parsed.expr)) {
    if (name === 'tags') usesTags = true;
    else if ((CONTEXT_VARIABLES as readonly string[]).includes(name)) continue;
    else if (lookupKeyword(name)) keywords.push(name);
    else {
      const offset = parsed.sourceInfo?.positions[id.toString()] ?? 0;
      throw new ConditionError({
        message: `unknown name "${name}": use callingAE, calledAE, peerAddress, tags["GGGGEEEE"] or a DICOM keyword`,
        ...lineColumn(source, offset),
      });
    }
  }
  if (opts.checkTypes) {
    try {
      checkConditionTypes(source, parsed);
    } catch (e) {
      if (!(e instanceof ConditionTypeError)) throw e;
      throw new ConditionError({ message: e.message, ...lineColumn(source, e.offset) });
    }
  }
  const run = plan(env, parsed);
  return {
    source,
    evaluate(ctx) {
      const bindings: Record<string, CelInput> = {
        callingAE: ctx.callingAE,
        calledAE: ctx.calledAE,
        peerAddress: ctx.peerAddress ?? null,
      };
      if (keywords.length || usesTags) {
        const attributes = typeof ctx.attributes === 'function' ? ctx.attributes() : ctx.attributes;
        for (const kw of keywords) {
          const tag = lookupKeyword(kw)!.tag;
          bindings[kw] = celValue(attributes[hex(tag)]);
        }
        if (usesTags) bindings.tags = tagMap(attributes);
      }
      const result = run(bindings);
      if (isCelError(result)) throw new Error(result.message);
      if (typeof result !== 'boolean') throw new Error(`the condition gave ${typeof result === 'bigint' ? 'an int' : typeof result}, not a bool`);
      return result;
    },
  };
}

/** Whether the condition is the constant `true` (a catch-all), however written: `true`, ` (true) `. */
export function matchesEverything(source: string): boolean {
  try {
    const k = parse(source).expr?.exprKind;
    return k?.case === 'constExpr' && k.value.constantKind.case === 'boolValue' && k.value.constantKind.value;
  } catch {
    return false;
  }
}

const hex = (tag: number): string => tag.toString(16).toUpperCase().padStart(8, '0');

function tagMap(attrs: DicomJsonObject): Map<string, CelInput> {
  const m = new Map<string, CelInput>();
  for (const [k, a] of Object.entries(attrs)) m.set(k.toUpperCase(), celValue(a));
  return m;
}

function itemMap(item: DicomJsonObject): Map<string, CelInput> {
  const m = new Map<string, CelInput>();
  for (const [k, a] of Object.entries(item)) m.set(lookupTag(parseInt(k, 16))?.keyword ?? k.toUpperCase(), celValue(a));
  return m;
}

function celValue(a: DicomJsonAttribute | undefined): CelInput {
  if (!a?.Value || a.Value.length === 0) return null;
  const values = a.Value.map((v): CelInput => {
    if (v === null) return null;
    if (typeof v === 'string' || typeof v === 'number') return v;
    if (a.vr === 'PN') return (v as { Alphabetic?: string }).Alphabetic ?? '';
    if (a.vr === 'SQ') return itemMap(v as DicomJsonObject);
    return null;
  });
  return values.length === 1 && a.vr !== 'SQ' ? values[0] : values;
}
