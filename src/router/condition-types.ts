/**
 * The static type check of a rule condition, run when a rule is saved: `SliceThickness >
 * "3"` compares a number with a string and would fail for every instance at run time
 * (found no matching overload), so it is refused with the attribute and both types named.
 *
 * @bufbuild/cel 0.6 has a checker for constants and identifiers only, so this is our own,
 * over its parsed AST and its function table (env.funcs: every overload with its argument
 * and result types). Types follow what condition.ts binds at run time:
 *   IS DS US SS UL SL FL FD SV UV   double ("number")
 *   SQ                              list of maps (an item's attributes by keyword)
 *   OB OW OF OD OL OV UN            null (DICOM JSON carries no Value for them)
 *   any other VR                    string
 * and by Value Multiplicity: VM 1 a single value; VM 2 or more (ImageType 2-n,
 * PixelSpacing 2) a list; VM 1-n either, as the runtime gives a list only when an
 * instance has several values. A value of several possible types is a set of
 * alternatives: an operation is refused only when no alternative allows it. An absent
 * attribute is null at run time; null is left out of the declared types (a comparison
 * with null is always allowed), so `Modality == null` passes and `Modality > 3` does not.
 */
import { celEnv, CelScalar, parse, unparse, type CelType } from '@bufbuild/cel';
import { lookupKeyword, type DictionaryEntry, type VR } from '../dicom/index.js';

type Scalar = 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'null' | 'timestamp' | 'duration' | 'type';
export type ConditionType = { kind: Scalar } | { kind: 'dyn' } | { kind: 'list'; elem: Alts } | { kind: 'map'; key: Alts; value: Alts };
/** The types a value may have (one of them). */
type Alts = readonly ConditionType[];

type Expr = ReturnType<typeof parse>['expr'];

/** A type error at `offset` in the source. */
export class ConditionTypeError extends Error {
  override readonly name = 'ConditionTypeError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const t = (kind: Scalar): ConditionType => ({ kind });
const DYN: Alts = [{ kind: 'dyn' }];
const BOOL: Alts = [t('bool')];
const list = (elem: Alts): ConditionType => ({ kind: 'list', elem });
const NUMBER_VRS = new Set<VR>(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);
const NO_VALUE_VRS = new Set<VR>(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN']);
/** Text VRs the runtime gives as one string whatever the backslashes (dataset-json.ts). */
const ONE_TEXT_VRS = new Set<VR>(['ST', 'LT', 'UT', 'UR']);
const ITEM: ConditionType = { kind: 'map', key: [t('string')], value: DYN };

/** The type condition.ts binds for an attribute of this dictionary entry. */
export function attributeType(e: DictionaryEntry): Alts {
  const out: ConditionType[] = [];
  for (const vr of e.vrs) {
    if (vr === 'SQ') out.push(list([ITEM]));
    else if (NO_VALUE_VRS.has(vr)) out.push(t('null'));
    else {
      const one = t(NUMBER_VRS.has(vr) ? 'double' : 'string');
      const min = Number.parseInt(e.vm, 10);
      if (e.vm === '1' || ONE_TEXT_VRS.has(vr)) out.push(one);
      else if (min >= 2) out.push(list([one]));
      else out.push(one, list([one]));
    }
  }
  return dedupe(out);
}

/** The context variables of condition.ts. */
const CONTEXT: Record<string, Alts> = {
  callingAE: [t('string')],
  calledAE: [t('string')],
  peerAddress: [t('string')],
  tags: [{ kind: 'map', key: [t('string')], value: DYN }],
};

const env = celEnv();
const ACCU = '@result';
const LOGIC: Record<string, string> = { '_&&_': '&&', '_||_': '||', '!_': '!', '@not_strictly_false': 'all() and exists()' };

function fromCel(c: CelType): ConditionType {
  switch (c.kind) {
    case 'list':
      return list([fromCel(c.element)]);
    case 'map':
      return { kind: 'map', key: [fromCel(c.key)], value: [fromCel(c.value)] };
    case 'object':
      return c.name === 'google.protobuf.Timestamp' ? t('timestamp') : c.name === 'google.protobuf.Duration' ? t('duration') : { kind: 'dyn' };
    default:
      if (c === CelScalar.DYN) return { kind: 'dyn' };
      return t(c === CelScalar.NULL ? 'null' : (c.name as Scalar));
  }
}

const key = (x: ConditionType): string =>
  x.kind === 'list' ? `list(${x.elem.map(key).join('|')})` : x.kind === 'map' ? `map(${x.key.map(key).join('|')},${x.value.map(key).join('|')})` : x.kind;

function dedupe(types: readonly ConditionType[]): Alts {
  const seen = new Map<string, ConditionType>();
  for (const x of types) if (!seen.has(key(x))) seen.set(key(x), x);
  return [...seen.values()];
}

const isNumeric = (x: ConditionType): boolean => x.kind === 'int' || x.kind === 'uint' || x.kind === 'double';
const some = (a: Alts, b: Alts, f: (x: ConditionType, y: ConditionType) => boolean): boolean => a.some((x) => b.some((y) => f(x, y)));

/** Whether `==` between the two could ever be true (and what the runtime accepts). */
function comparable(a: ConditionType, b: ConditionType): boolean {
  if (a.kind === 'dyn' || b.kind === 'dyn' || a.kind === 'null' || b.kind === 'null') return true;
  if (isNumeric(a) && isNumeric(b)) return true;
  if (a.kind === 'list' && b.kind === 'list') return some(a.elem, b.elem, comparable);
  if (a.kind === 'map' && b.kind === 'map') return some(a.key, b.key, comparable) && some(a.value, b.value, comparable);
  return a.kind === b.kind;
}

/** Whether an argument of type `arg` fits a parameter of type `param`. */
function fits(param: ConditionType, arg: ConditionType): boolean {
  if (param.kind === 'dyn' || arg.kind === 'dyn') return true;
  if (param.kind === 'list' && arg.kind === 'list') return some(param.elem, arg.elem, fits);
  if (param.kind === 'map' && arg.kind === 'map') return some(param.key, arg.key, fits) && some(param.value, arg.value, fits);
  return param.kind === arg.kind;
}

/** Every combination of the alternatives (bounded: past the bound, undefined = not checked). */
function combinations(args: readonly Alts[], max = 256): ConditionType[][] | undefined {
  let out: ConditionType[][] = [[]];
  for (const a of args) {
    out = out.flatMap((c) => a.map((x) => [...c, x]));
    if (out.length > max) return undefined;
  }
  return out;
}

/** A type as a person reads it: double is "number" (what every numeric DICOM attribute is here). */
export function typeName(types: Alts): string {
  const one = (x: ConditionType): string => {
    switch (x.kind) {
      case 'double':
        return 'number';
      case 'list': {
        const e = x.elem.filter((y) => y.kind !== 'dyn');
        return e.length === 0 ? 'list' : `list of ${e.map((y) => (y.kind === 'map' ? 'items' : `${one(y)}s`)).join(' or ')}`;
      }
      default:
        return x.kind;
    }
  };
  return types.map(one).join(' or ');
}

export class ConditionTypeChecker {
  private readonly scopes: Map<string, Alts>[] = [];

  /** Checks the expression; its result must be able to be a bool. */
  check(root: Expr, offsetOf: (e: Expr) => number): void {
    this.offsetOf = offsetOf;
    const r = this.typeOf(root);
    if (!r.some((x) => x.kind === 'bool' || x.kind === 'dyn'))
      throw new ConditionTypeError(`the condition gives ${this.describe(root, r)}, not true or false`, offsetOf(root));
  }

  private offsetOf: (e: Expr) => number = () => 0;

  private fail(e: Expr, message: string): never {
    throw new ConditionTypeError(message, this.offsetOf(e));
  }

  /** `SliceThickness (number, VR DS)`, `"3" (string)`, `size(x) (int)`. */
  private describe(e: Expr, types: Alts): string {
    const k = e.exprKind;
    if (k.case === 'identExpr' && !this.bound(k.value.name)) {
      const entry = lookupKeyword(k.value.name);
      if (entry && !(k.value.name in CONTEXT)) return `${k.value.name} (${typeName(types)}, VR ${entry.vrs.join(' or ')})`;
    }
    let text = unparse(e);
    if (text.length > 40) text = `${text.slice(0, 37)}...`;
    return `${text} (${typeName(types)})`;
  }

  private bound(name: string): Alts | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const x = this.scopes[i].get(name);
      if (x) return x;
    }
    return undefined;
  }

  private typeOf(e: Expr): Alts {
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        switch (k.value.constantKind.case) {
          case 'boolValue':
            return BOOL;
          case 'int64Value':
            return [t('int')];
          case 'uint64Value':
            return [t('uint')];
          case 'doubleValue':
            return [t('double')];
          case 'stringValue':
            return [t('string')];
          case 'bytesValue':
            return [t('bytes')];
          case 'nullValue':
            return [t('null')];
          default:
            return DYN;
        }
      case 'identExpr': {
        const name = k.value.name;
        const b = this.bound(name);
        if (b) return b;
        if (name in CONTEXT) return CONTEXT[name];
        const entry = lookupKeyword(name);
        return entry ? attributeType(entry) : DYN;
      }
      case 'selectExpr': {
        const operand = k.value.operand!;
        const types = this.typeOf(operand);
        const values = types.flatMap((x) => (x.kind === 'map' ? x.value : x.kind === 'dyn' ? DYN : []));
        if (values.length === 0) this.fail(e, `${this.describe(operand, types)} has no fields: .${k.value.field} reads a field of an item or a map`);
        return k.value.testOnly ? BOOL : dedupe(values);
      }
      case 'listExpr':
        return [list(k.value.elements.length ? dedupe(k.value.elements.flatMap((x) => this.typeOf(x))) : DYN)];
      case 'structExpr': {
        if (k.value.messageName) return DYN;
        const keys: ConditionType[] = [];
        const values: ConditionType[] = [];
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') keys.push(...this.typeOf(entry.keyKind.value));
          if (entry.value) values.push(...this.typeOf(entry.value));
        }
        return [{ kind: 'map', key: keys.length ? dedupe(keys) : DYN, value: values.length ? dedupe(values) : DYN }];
      }
      case 'comprehensionExpr':
        return this.comprehension(e, k.value);
      case 'callExpr':
        return this.call(e, k.value);
      default:
        return DYN;
    }
  }

  private comprehension(e: Expr, c: Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value']): Alts {
    const range = c.iterRange!;
    const rangeTypes = this.typeOf(range);
    const elems = rangeTypes.flatMap((x) => (x.kind === 'list' ? x.elem : x.kind === 'map' ? x.key : x.kind === 'dyn' ? DYN : []));
    if (elems.length === 0) this.fail(e, `${this.describe(range, rangeTypes)} is not a list: all(), exists(), map() and filter() go over a list`);
    const accu = c.accuInit ? this.typeOf(c.accuInit) : DYN;
    const scope = new Map<string, Alts>([
      [c.iterVar, dedupe(elems)],
      [c.accuVar || ACCU, accu],
    ]);
    this.scopes.push(scope);
    try {
      if (c.loopCondition) this.typeOf(c.loopCondition);
      if (c.loopStep) this.typeOf(c.loopStep);
      return c.result ? this.typeOf(c.result) : DYN;
    } finally {
      this.scopes.pop();
    }
  }

  private call(e: Expr, c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value']): Alts {
    const fn = c.function;
    const args = c.args;
    const types = args.map((a) => this.typeOf(a));
    const target = c.target ? this.typeOf(c.target) : undefined;
    const boolable = (x: Alts) => x.some((y) => y.kind === 'bool' || y.kind === 'dyn');
    switch (fn) {
      case '_&&_':
      case '_||_':
      case '!_':
      case '@not_strictly_false':
        args.forEach((a, i) => {
          if (!boolable(types[i])) this.fail(e, `${LOGIC[fn]} needs true or false, not ${this.describe(a, types[i])}`);
        });
        return BOOL;
      case '_?_:_':
        if (!boolable(types[0])) this.fail(e, `a ? b : c needs true or false before ?, not ${this.describe(args[0], types[0])}`);
        return dedupe([...types[1], ...types[2]]);
      case '_==_':
      case '_!=_':
        if (!some(types[0], types[1], comparable))
          this.fail(e, `cannot compare ${this.describe(args[0], types[0])} with ${this.describe(args[1], types[1])}${this.hint(args, types)}`);
        return BOOL;
      case '@in': {
        const ok = types[0].some((x) =>
          types[1].some(
            (y) => y.kind === 'dyn' || (y.kind === 'list' && y.elem.some((z) => comparable(x, z))) || (y.kind === 'map' && y.key.some((z) => comparable(x, z))),
          ),
        );
        if (!ok) this.fail(e, `cannot look for ${this.describe(args[0], types[0])} in ${this.describe(args[1], types[1])}`);
        return BOOL;
      }
      case '_[_]': {
        const out: ConditionType[] = [];
        for (const x of types[0]) {
          if (x.kind === 'dyn') out.push(...DYN);
          else if (x.kind === 'list' && types[1].some((i) => isNumeric(i) || i.kind === 'dyn')) out.push(...x.elem);
          else if (x.kind === 'map' && some(x.key, types[1], comparable)) out.push(...x.value);
        }
        if (out.length === 0) this.fail(e, `cannot index ${this.describe(args[0], types[0])} with ${this.describe(args[1], types[1])}`);
        return dedupe(out);
      }
      case 'has':
        return BOOL;
      default:
        return this.overload(e, c, types, target);
    }
  }

  /** A function of the environment: some combination of the alternatives must fit one of its overloads. */
  private overload(e: Expr, c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'], types: Alts[], target: Alts | undefined): Alts {
    const group = env.funcs.find(c.function);
    const name = c.function.replace(/^_(.+)_$/, '$1').replace(/^(.)_$/, '$1');
    if (!group) this.fail(e, `unknown function ${name}()`);
    const overloads = [...group].filter((f) => (f.target !== undefined) === (target !== undefined) && f.arguments.length === types.length);
    const all = combinations(target ? [target, ...types] : types);
    if (all === undefined) return DYN;
    const results: ConditionType[] = [];
    for (const combo of all) {
      const [self, rest] = target ? [combo[0], combo.slice(1)] : [undefined, combo];
      for (const f of overloads) {
        if (self && !fits(fromCel(f.target!), self)) continue;
        if (!f.arguments.every((p, i) => fits(fromCel(p), rest[i]))) continue;
        // A list + a list keeps what the elements are.
        if (c.function === '_+_' && rest[0].kind === 'list' && rest[1].kind === 'list') results.push(list(dedupe([...rest[0].elem, ...rest[1].elem])));
        else results.push(fromCel(f.result));
      }
    }
    if (results.length > 0) return dedupe(results);
    const operands = c.target ? [c.target, ...c.args] : c.args;
    const operandTypes = target ? [target, ...types] : types;
    const described = operands.map((o, i) => this.describe(o, operandTypes[i]));
    if (/^[<>]=?$/.test(name)) this.fail(e, `${name} cannot compare ${described[0]} with ${described[1]}${this.hint(c.args, types)}`);
    if (/^[-+*/%]$/.test(name) && described.length === 2)
      this.fail(e, `cannot apply ${name} to ${described[0]} and ${described[1]}${this.hint(c.args, types)}`);
    if (c.target) this.fail(e, `no ${name}() for ${described[0]}${described.length > 1 ? ` with ${described.slice(1).join(', ')}` : ''}`);
    this.fail(e, `no ${name}() for ${described.join(', ') || 'no arguments'}`);
  }

  /** What to write instead, when a number meets a string or an int meets a number. */
  private hint(args: readonly Expr[], types: readonly Alts[]): string {
    if (args.length !== 2) return '';
    for (const [i, j] of [
      [0, 1],
      [1, 0],
    ]) {
      const a = args[i].exprKind;
      if (a.case === 'constExpr' && a.value.constantKind.case === 'stringValue' && types[j].some(isNumeric)) {
        const text = a.value.constantKind.value;
        if (text.trim() !== '' && Number.isFinite(Number(text))) return `: write ${text.trim()} without quotes`;
      }
      if (types[i].every((x) => x.kind === 'int') && types[j].some((x) => x.kind === 'double')) {
        const literal = a.case === 'constExpr' && a.value.constantKind.case === 'int64Value' ? `write ${a.value.constantKind.value}.0` : 'use double()';
        return `: CEL does not mix int and number in arithmetic; ${literal}`;
      }
    }
    return '';
  }
}

/** Type-checks a parsed condition; throws ConditionTypeError (at an operator itself, not the blank the parser puts a binary call at). */
export function checkConditionTypes(source: string, parsed: ReturnType<typeof parse>): void {
  const positions = parsed.sourceInfo?.positions ?? {};
  new ConditionTypeChecker().check(parsed.expr, (e) => {
    let at = positions[e.id.toString()] ?? 0;
    while (at < source.length - 1 && /\s/.test(source[at])) at++;
    return at;
  });
}
