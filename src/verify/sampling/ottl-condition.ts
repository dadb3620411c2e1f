import { createHash } from 'node:crypto';
import {
  filler,
  spanId,
  spanNameKind,
  SYNTHETIC,
  toHex,
  traceTraits,
  webSpanAttributes,
} from '../../../generators/index.js';
import type { TraceModel } from './trace-model.js';

/** Where a generated span sits: its trace's seq and id, and its index in the trace (0 = root). */
export interface SpanAt {
  seq: number;
  index: number;
  traceId: Uint8Array;
}

type Value = string | number | boolean | null | Value[];

/**
 * A compiled OTTL expression over the generated spans: a constant, or a function of the trace (the same for
 * every span of it) or of the span. `hex` marks strings of lowercase hex digits only (a hash, an id);
 * `data` marks values read from the spans (a processor that changes spans changes them), as opposed to
 * literals and outcomes that hold whatever the spans hold; `list` marks list literals.
 */
export interface Compiled {
  per: 'const' | 'trace' | 'span';
  eval: (s: SpanAt) => Value;
  hex: boolean;
  data: boolean;
  list?: boolean;
}

/** Thrown for what the compiler cannot predict; the message says what. */
export class Unpredictable extends Error {}

const ENUMS: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

const TOKEN = /\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|[()[\],.<>]))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(text);
    if (m === null) throw new Unpredictable(`'${text}' (syntax at ${TOKEN.lastIndex})`);
    out.push(m[0].trim());
  }
  return out;
}

/** Where constants are evaluated: they read nothing of it. */
const NOWHERE: SpanAt = { seq: 0, index: 0, traceId: new Uint8Array(16) };

const constant = (v: Value, hex = false, data = false): Compiled => ({ per: 'const', eval: () => v, hex, data });
const PER_RANK = { const: 0, trace: 1, span: 2 } as const;
const widest = (...c: Compiled[]): Compiled['per'] =>
  c.reduce<Compiled['per']>((a, x) => (PER_RANK[x.per] > PER_RANK[a] ? x.per : a), 'const');

/** `per` of a derived value: folded to a constant when every input is one. */
function derive(inputs: Compiled[], fn: (s: SpanAt) => Value, hex = false): Compiled {
  const per = widest(...inputs);
  const data = inputs.some((i) => i.data);
  return per === 'const' ? constant(fn(NOWHERE), hex, data) : { per, eval: fn, hex, data };
}

/** A regular expression that Go's RE2 and JavaScript read alike, or Unpredictable. */
function goRegExp(pattern: Value): RegExp {
  if (typeof pattern !== 'string') throw new Unpredictable('IsMatch with a pattern that is not a string literal');
  if (/\(\?|\\[1-9pPkQzA]|\[:/.test(pattern)) throw new Unpredictable(`IsMatch pattern ${pattern}`);
  try {
    return new RegExp(pattern);
  } catch {
    throw new Unpredictable(`IsMatch pattern ${pattern}`);
  }
}

/** Whether `pattern` can match no string of lowercase hex digits: anchored on a literal that is not one. */
function noHexMatch(pattern: string): boolean {
  const m = /^\^([^\\.[\](){}*+?|^$])([*?{])?/.exec(pattern);
  return m !== null && m[2] === undefined && !pattern.includes('|') && !/[0-9a-f]/.test(m[1]!);
}

const same = (a: Value, b: Value) => typeof a === typeof b && a === b;

/**
 * Compiles one OTTL span condition of the filter processor for the generated spans. It reads `name`,
 * `kind`, `status.code`, `trace_id.string`, `span_id.string`, the generator's span attributes, the
 * resource's service.name / service.instance.id / otel_harness.run_id, literals and the SPAN_KIND_* /
 * STATUS_CODE_* enums, with `==`, `!=`, `and`, `or`, `not`, parentheses and the converters IsMatch,
 * SHA256, String and Concat. Anything else throws Unpredictable.
 */
export function compileCondition(text: string, model: TraceModel): Compiled {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const take = (want?: string): string => {
    const t = tokens[at++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Unpredictable(`'${text}'`);
    return t;
  };
  const { shape } = model;
  const payload = shape.payload ?? SYNTHETIC;
  // With one span per trace, a span's values are its trace's.
  const spanLevel: Compiled['per'] = shape.spansPerTrace === 1 ? 'trace' : 'span';

  const path = (first: string): Compiled => {
    let p = first;
    while (peek() === '.') p += take() + take();
    let key: string | undefined;
    if (peek() === '[') {
      take('[');
      const k = take();
      take(']');
      if (!k.startsWith('"')) throw new Unpredictable(`path ${p}[${k}]`);
      key = JSON.parse(k) as string;
    }
    const bySpan = (fn: (s: SpanAt) => Value, hex = false): Compiled => ({ per: spanLevel, eval: fn, hex, data: true });
    switch (key === undefined ? p : `${p}[]`) {
      case 'name':
        return bySpan((s) => spanNameKind(payload, s.seq, s.index).name);
      case 'kind':
        return bySpan((s) => spanNameKind(payload, s.seq, s.index).kind);
      case 'status.code':
        return bySpan((s) => (s.index === 0 && traceTraits(s.seq, shape).error ? 2 : 0));
      case 'span_id.string':
        return bySpan((s) => toHex(spanId(s.seq, s.index)), true);
      case 'trace_id.string':
        return { per: 'trace', eval: (s) => toHex(s.traceId), hex: true, data: true };
      case 'attributes[]': {
        if (key === 'otel_harness.seq') return { per: 'trace', eval: (s) => String(s.seq), hex: false, data: true };
        if (key === 'otel_harness.span_seq') return bySpan((s) => String(s.seq * shape.spansPerTrace + s.index));
        const filled = /^attr\.(\d+)$/.exec(key!);
        if (filled !== null && Number(filled[1]) < shape.attributesPerSpan)
          return constant(filler(shape.attributeValueBytes, Number(filled[1])), false, true);
        // The web profile's semantic-convention attributes: a function of the trace, the span and its traits.
        if (payload.profile === 'web')
          return bySpan((s) => webSpanAttributes(s.seq, s.index, traceTraits(s.seq, shape).error)[key!] ?? null);
        throw new Unpredictable(`attributes["${key}"], which the generator does not set`);
      }
      case 'resource.attributes[]': {
        const value =
          key === 'service.name'
            ? model.serviceName
            : key === 'service.instance.id' || key === 'otel_harness.run_id'
              ? model.runId
              : undefined;
        if (value === undefined) throw new Unpredictable(`resource.attributes["${key}"]`);
        return constant(value, false, true);
      }
      default:
        throw new Unpredictable(`path ${p}`);
    }
  };

  const call = (fn: string): Compiled => {
    take('(');
    const args: Compiled[] = [];
    while (peek() !== ')') {
      args.push(or());
      if (peek() === ',') take(',');
    }
    take(')');
    const [a, b] = args;
    switch (`${fn}/${args.length}`) {
      case 'IsMatch/2': {
        if (b!.per !== 'const') throw new Unpredictable('IsMatch with a computed pattern');
        const pattern = b!.eval(NOWHERE);
        const re = goRegExp(pattern);
        if (a!.hex && noHexMatch(pattern as string)) return constant(false);
        return derive([a!], (s) => {
          const v = a!.eval(s);
          return (typeof v === 'string' || typeof v === 'number') && re.test(String(v));
        });
      }
      case 'SHA256/1':
        return derive(
          [a!],
          (s) =>
            createHash('sha256')
              .update(String(a!.eval(s)))
              .digest('hex'),
          true,
        );
      case 'String/1':
        return derive([a!], (s) => String(a!.eval(s)), a!.hex);
      case 'Concat/2':
        if (a!.list !== true) throw new Unpredictable('Concat of something other than a list literal');
        return derive([a!, b!], (s) => (a!.eval(s) as Value[]).map(String).join(String(b!.eval(s))));
      default:
        throw new Unpredictable(`converter ${fn} with ${args.length} argument(s)`);
    }
  };

  const primary = (): Compiled => {
    const t = take();
    if (t.startsWith('"')) return constant(JSON.parse(t) as string);
    if (/^-?\d/.test(t)) return constant(Number(t));
    if (t === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (t === '[') {
      const items: Compiled[] = [];
      while (peek() !== ']') {
        items.push(or());
        if (peek() === ',') take(',');
      }
      take(']');
      return { ...derive(items, (s) => items.map((i) => i.eval(s))), list: true };
    }
    if (t === 'true' || t === 'false') return constant(t === 'true');
    if (t === 'nil') return constant(null);
    if (ENUMS[t] !== undefined) return constant(ENUMS[t]);
    if (peek() === '(') return call(t);
    return path(t);
  };

  const comparison = (): Compiled => {
    const left = primary();
    const op = peek();
    if (op === '==' || op === '!=') {
      take();
      const right = primary();
      const eq = op === '==';
      return derive([left, right], (s) => same(left.eval(s), right.eval(s)) === eq);
    }
    if (op === '<' || op === '>' || op === '<=' || op === '>=') throw new Unpredictable(`comparison ${op}`);
    return left;
  };
  const not = (): Compiled => {
    if (peek() !== 'not') return comparison();
    take();
    const inner = not();
    return derive([inner], (s) => !inner.eval(s));
  };
  const logic = (word: 'and' | 'or', operand: () => Compiled): Compiled => {
    let left = operand();
    while (peek() === word) {
      take();
      const right = operand();
      // `false and …` and `true or …` decide whatever the rest reads.
      const decided = word === 'or';
      const l = left;
      const isDecided = (c: Compiled) => c.per === 'const' && c.eval(NOWHERE) === decided;
      const decider = [l, right].find(isDecided);
      left =
        decider !== undefined
          ? constant(decided, false, decider.data)
          : derive([l, right], (s) =>
              word === 'and'
                ? l.eval(s) === true && right.eval(s) === true
                : l.eval(s) === true || right.eval(s) === true,
            );
    }
    return left;
  };
  const and = () => logic('and', not);
  function or(): Compiled {
    return logic('or', and);
  }

  const result = or();
  if (at !== tokens.length) throw new Unpredictable(`'${text}'`);
  return result;
}
